// A node kind written outside the framework, on the public seam (flow/node_kind.hpp) alone:
// what docs/extending.md's first recipe builds. The run wires it by its shape and the plan
// checks it by its traits, with nothing in flow/ knowing of it.
#include <flow/aetherflow.hpp>

#include <atomic>
#include <numeric>
#include <vector>

#include <gtest/gtest.h>

namespace aetherflow {
namespace {

using detail::BatchHandle;

// Keeps one item in n, in arrival order.
inline constexpr detail::NodeTraits kSampleTraits{
    .label = "sample", .noun = "sample", .item_calls = false, .fusable = true};

template <class T>
class SampleNode final : public detail::NodeImpl {
 public:
  SampleNode(std::string name, NodeOptions options, std::size_t every)
      : NodeImpl(std::move(name), kSampleTraits, options), every_(every) {
    inputs_ = {&typeid(T)};
    output_ = &typeid(T);
  }
  void check(std::vector<std::string>& problems) const override {
    if (every_ == 0) problems.push_back("'" + name() + "': sample needs every >= 1");
  }
  void process(std::span<const BatchHandle> in, std::span<BatchHandle> out,
               detail::CallContext& ctx) const override {
    auto& batch = detail::batch_cast<T>(in[0]);
    auto kept = detail::derive_batch<T>(batch, batch.slots.size() / every_ + 1);
    for (std::size_t i = 0; i < batch.slots.size(); ++i)
      if (seen_.fetch_add(1, std::memory_order_relaxed) % every_ == 0)
        kept->push(detail::take_item(batch.values[i], !batch.shared), batch.slots[i]);
    ctx.counts.in += batch.slots.size();
    ctx.counts.out += kept->slots.size();
    ctx.counts.filtered += batch.slots.size() - kept->slots.size();
    out[0] = std::move(kept);
  }

 private:
  std::size_t every_;
  mutable std::atomic<std::uint64_t> seen_{0};
};

template <class T>
struct Sample {
  using input_type = T;
  using output_type = T;
  std::size_t every;
  std::shared_ptr<detail::NodeImpl> make(std::string name, NodeOptions options) const {
    return std::make_shared<SampleNode<T>>(std::move(name), options, every);
  }
};
static_assert(NodeSpec<Sample<int>>);

TEST(NodeKind, AKindOfOneFileRunsReportsAndIsChecked) {
  std::vector<int> numbers(10'000);
  std::iota(numbers.begin(), numbers.end(), 0);
  Flow flow("sampled");
  std::atomic<long> kept{0};
  auto sample = flow.node("sample", Sample<int>{10});
  flow.source("numbers", numbers) >> sample >> flow.node("count", [&](int) { ++kept; });
  const RunReport report = flow.run({.threads = 2, .batch_size = 64});
  EXPECT_EQ(kept.load(), 1'000);
  const NodeReport& n = report.node("sample");
  EXPECT_EQ(n.kind, "sample");
  EXPECT_EQ(n.in, 10'000u);
  EXPECT_EQ(n.out, 1'000u);
  EXPECT_EQ(n.filtered, 9'000u);
  EXPECT_NE(flow.to_dot().find("sample · unlimited"), std::string::npos) << flow.to_dot();
}

TEST(NodeKind, ItsOwnChecksAndItsTraitsJoinTheFlowError) {
  Flow flow("sampled");
  std::vector<int> numbers{1, 2, 3};
  auto sample = flow.node("sample", Sample<int>{0}, {.on_error = OnError::skip});
  flow.source("numbers", numbers) >> sample >> flow.node("sink", [](int) {});
  try {
    flow.validate();
    FAIL() << "expected a FlowError";
  } catch (const FlowError& e) {
    ASSERT_EQ(e.problems().size(), 2u) << e.what();
    EXPECT_NE(std::string(e.what()).find("'sample': sample needs every >= 1"), std::string::npos)
        << e.what();
    EXPECT_NE(std::string(e.what()).find("'sample' (sample) sets on_error or retry"),
              std::string::npos)
        << e.what();
  }
}

}  // namespace
}  // namespace aetherflow
