#pragma once
// Sources declared with a range or a generator callable. Each run opens a fresh cursor: a
// range is iterated from its beginning again, a generator is copied from the one declared,
// so rerunning a flow starts over instead of continuing where the last run stopped. A run
// resuming from a checkpoint skips a range's committed items; a generator cannot resume (its
// calls may have effects), a reader can if its source says how (ResumableSource).

#include <algorithm>
#include <atomic>
#include <chrono>
#include <limits>
#include <memory>
#include <optional>
#include <ranges>
#include <utility>

#include <flow/detail/batch.hpp>
#include <flow/detail/batch_delay.hpp>
#include <flow/detail/node_impl.hpp>
#include <flow/source.hpp>

namespace aetherflow::detail {

// A source reads; it calls no user code per item, and oneTBB runs it one read at a time.
inline constexpr NodeTraits kSourceTraits{.label = "source",
                                          .noun = "source",
                                          .dot_shape = "invhouse",
                                          .item_calls = false,
                                          .adaptable = false};

template <class T>
class SourceNode : public NodeImpl {
 public:
  explicit SourceNode(std::string name, NodeOptions options)
      : NodeImpl(std::move(name), kSourceTraits, options) {
    output_ = &typeid(T);
  }
  Shape shape() const override { return Shape::source; }
};

template <class View>
class RangeSource final : public SourceNode<std::ranges::range_value_t<View>> {
  using T = std::ranges::range_value_t<View>;

 public:
  RangeSource(std::string name, NodeOptions options, View view)
      : SourceNode<T>(std::move(name), options), view_(std::move(view)) {}

  // A shard's part of a sized range is a slice of it, by index: [begin_of(n), end_of(n)).
  std::unique_ptr<SourceCursor> open(const ResumePoint& from, const Shard& shard) const override {
    std::uint64_t begin = 0, left = std::numeric_limits<std::uint64_t>::max();
    if constexpr (std::ranges::sized_range<View>) {
      const auto n = static_cast<std::uint64_t>(std::ranges::size(view_));
      begin = shard.begin_of(n);
      left = shard.end_of(n) - begin;
    }
    return std::make_unique<Cursor>(view_, begin + from.items, left - std::min(left, from.items));
  }
  bool resumable() const override { return true; }
  bool splits() const override { return std::ranges::sized_range<View>; }

 private:
  class Cursor final : public SourceCursor {
   public:
    Cursor(View& view, std::uint64_t skip, std::uint64_t left)
        : it_(std::ranges::begin(view)), end_(std::ranges::end(view)), left_(left) {
      std::ranges::advance(it_, static_cast<std::ranges::range_difference_t<View>>(skip), end_);
    }
    BatchHandle next(std::size_t max_items, BatchPool& pool) override {
      auto b = pool.take<T>(max_items);
      this->read_or_defer(
          [&] {
            for (std::size_t n = 0; n < max_items && it_ != end_ && left_ > 0; ++n, ++it_, --left_)
              b->values.push_back(*it_);
          },
          [&] { return b->values.size(); });
      if (b->values.empty()) return {};
      b->number_slots();
      return b;
    }

   private:
    std::ranges::iterator_t<View> it_;
    std::ranges::sentinel_t<View> end_;
    std::uint64_t left_;  // items of the shard still to emit
  };

  // Mutable: some views (filter_view, say) can only begin() when not const.
  mutable View view_;
};

template <class G>
class GeneratorSource final : public SourceNode<typename std::invoke_result_t<G&>::value_type> {
  using T = typename std::invoke_result_t<G&>::value_type;

 public:
  GeneratorSource(std::string name, NodeOptions options, G generator)
      : SourceNode<T>(std::move(name), options), generator_(std::move(generator)) {}

  // A generator does not split: on a cluster it runs on rank 0, or on every rank whole.
  std::unique_ptr<SourceCursor> open(const ResumePoint&, const Shard&) const override {
    return std::make_unique<Cursor>(generator_);
  }

 private:
  class Cursor final : public SourceCursor {
   public:
    explicit Cursor(const G& generator) : generator_(generator) {}
    void configure(const Settings& settings) override {
      delay_ = BatchDelay(settings.max_batch_delay);
    }
    BatchHandle next(std::size_t max_items, BatchPool& pool) override {
      auto b = pool.take<T>(max_items);
      this->read_or_defer(
          [&] {
            if (delay_.bounded()) delay_.batch_began();
            while (!done_ && b->values.size() < max_items) {
              std::optional<T> item = generator_();
              if (!item) {
                done_ = true;
                break;
              }
              b->values.push_back(std::move(*item));
              if (delay_.bounded() && delay_.item_added(b->values.size())) break;
            }
          },
          [&] { return b->values.size(); });
      if (b->values.empty()) return {};
      b->number_slots();
      return b;
    }

   private:
    G generator_;
    bool done_ = false;
    BatchDelay delay_{std::chrono::nanoseconds(0)};
  };

  G generator_;
};

// A source object with a reader (flow/source.hpp): each run opens a new reader.
template <BatchSource S>
class ReaderSource final : public SourceNode<typename S::item_type> {
  using T = typename S::item_type;
  using Reader = decltype(std::declval<const S&>().open());

 public:
  ReaderSource(std::string name, NodeOptions options, S source)
      : SourceNode<T>(std::move(name), options), source_(std::move(source)) {}

  std::unique_ptr<SourceCursor> open(const ResumePoint& from, const Shard& shard) const override {
    if constexpr (ShardedSource<S>)
      if (shard != Shard{}) return std::make_unique<Cursor>(source_.open(from, shard));
    if constexpr (ResumableSource<S>)
      if (from != ResumePoint{}) return std::make_unique<Cursor>(source_.open(from));
    return std::make_unique<Cursor>(source_.open());
  }
  bool resumable() const override { return ResumableSource<S>; }
  bool splits() const override { return ShardedSource<S>; }

 private:
  class Cursor final : public SourceCursor {
   public:
    explicit Cursor(Reader reader) : reader_(std::move(reader)) {}
    void configure(const Settings& settings) override { stop_ = settings.sources_stop; }
    BatchHandle next(std::size_t max_items, BatchPool& pool) override {
      auto b = pool.take<T>(max_items);
      SourceBatch<T> batch(*b, max_items);
      // A reader that returns true with nothing has nothing yet (a followed file waited a
      // little): it is asked again, unless the sources stop meanwhile.
      this->read_or_defer(
          [&] {
            while (batch.empty() && !done_ && !stopping()) done_ = !reader_.fill(batch);
          },
          [&] { return batch.size(); });
      if (batch.empty()) return {};
      return b;
    }
    SourcePosition position() const override {
      if constexpr (ReportsPosition<Reader>)
        return reader_.position();
      else
        return {};
    }

   private:
    bool stopping() const noexcept { return stop_ && stop_->load(std::memory_order_relaxed); }

    Reader reader_;
    bool done_ = false;
    const std::atomic<bool>* stop_ = nullptr;
  };

  S source_;
};

}  // namespace aetherflow::detail
