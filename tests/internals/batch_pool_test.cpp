// The run's pools (flow/detail/free_list.hpp, BatchPool in flow/detail/batch.hpp): a spent
// batch comes back cleared, to the shelf of its item type, and a spent in-flight token goes
// back to its gate after releasing what it kept, before the gate hears the batch is done and
// what its calls cost.
#include <flow/detail/batch.hpp>

#include <cstdint>
#include <memory>
#include <string>

#include <gtest/gtest.h>

namespace aetherflow::detail {
namespace {

TEST(BatchPool, ASpentBatchComesBackClearedWithItsCapacity) {
  BatchPool pool;
  auto keep = std::make_shared<int>(1);
  const BatchBase* first = nullptr;
  {
    auto batch = pool.take<std::string>(16);
    batch->push("a string too long for the small string buffer", 0);
    batch->push("b", 1);
    batch->seq = 9;
    batch->shared = true;
    batch->keep = keep;
    first = batch.get();
    EXPECT_EQ(keep.use_count(), 2);
  }
  EXPECT_EQ(keep.use_count(), 1);  // released when the batch was spent, not when reused

  auto again = pool.take<std::string>(4);
  EXPECT_EQ(again.get(), first);
  EXPECT_TRUE(again->values.empty());
  EXPECT_TRUE(again->slots.empty());
  EXPECT_GE(again->values.capacity(), 16u);
  EXPECT_EQ(again->seq, 0u);
  EXPECT_FALSE(again->shared);
  EXPECT_EQ(again->pool(), &pool);
}

TEST(BatchPool, KeepsAShelfPerItemType) {
  BatchPool pool;
  const BatchBase* spent_int = pool.take<int>(8).get();  // spent at once
  auto text = pool.take<std::string>(8);
  EXPECT_NE(static_cast<const BatchBase*>(text.get()), spent_int);
  auto number = pool.take<int>(8);
  EXPECT_EQ(static_cast<const BatchBase*>(number.get()), spent_int);
}

TEST(BatchPool, DerivedBatchesComeFromTheirSourceBatchsPool) {
  BatchPool pool;
  auto source = pool.take<int>(4);
  source->seq = 3;
  auto derived = derive_batch<double>(*source, 4);
  EXPECT_EQ(derived->pool(), &pool);
  EXPECT_EQ(derived->seq, 3u);
}

// A gate that records what its token did, and in which order.
struct RecordingGate final : InFlightToken::Gate {
  std::weak_ptr<const void> kept;
  InFlightToken* recycled = nullptr;
  std::uint64_t done = 0;
  bool kept_released_first = false;
  BatchCost cost_;

  void recycle(InFlightToken* token) noexcept override { recycled = token; }
  void batch_done(std::uint64_t seq, const BatchCost& cost) noexcept override {
    done = seq;
    cost_ = cost;
    kept_released_first = kept.expired();
  }
};

TEST(BatchPool, ASpentTokenReleasesWhatItKeptThenGoesBackToItsGate) {
  RecordingGate gate;
  BatchPool pool;
  auto keep = std::make_shared<int>(1);
  gate.kept = keep;
  auto* token = new InFlightToken();
  token->reset(&gate, 42, 1000, 10, std::move(keep), 0);
  {
    auto a = pool.take<int>(1);
    a->token = Ref<InFlightToken>(token);
    auto b = derive_batch<int>(*a, 1);  // shares the token
    a->token->add_call(300);
    b->token->add_call(500);
    EXPECT_EQ(b->token->first_item(), 1000u);
    a = {};
    EXPECT_EQ(gate.recycled, nullptr);  // b still holds it
  }
  EXPECT_EQ(gate.recycled, token);
  EXPECT_EQ(gate.done, 42u);
  EXPECT_TRUE(gate.kept_released_first);
  EXPECT_EQ(gate.cost_.items, 10u);
  EXPECT_EQ(gate.cost_.calls, 2u);
  EXPECT_EQ(gate.cost_.busy_ns, 800u);
  delete token;  // the gate keeps its spent tokens; this one keeps none
}

}  // namespace
}  // namespace aetherflow::detail
