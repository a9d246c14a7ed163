#pragma once
// The node behind aggregate_by_key, count_by and sum_by (nodes/keyed.hpp): each item updates
// the state of its key, and when the input ends the node emits every (key, state) pair.
//
// The state is split by key hash into P shards (P: 8 per thread of the run unless set), each a hash
// table behind its own lock. A call splits its batch by shard once, then takes the shards one
// at a time, trying those that are free first, and applies each shard's items under one lock:
// no lock per item, and since each key lives in one shard, no merge at the end. Written on the
// public seam (flow/node_kind.hpp), as a user's kind would be.

#include <algorithm>
#include <atomic>
#include <cstddef>
#include <cstdint>
#include <exception>
#include <functional>
#include <memory>
#include <mutex>
#include <span>
#include <string>
#include <string_view>
#include <type_traits>
#include <utility>
#include <vector>

#include <fmt/format.h>

#include <flow/exchange.hpp>
#include <flow/node_kind.hpp>
#include <flow/wire.hpp>
#include <nodes/detail/keyed_table.hpp>

namespace aetherflow::detail {

// A keyed node emits pairs of keys from many source batches, at the end of the stream.
inline constexpr NodeTraits kKeyedTraits{.label = "keyed",
                                         .noun = "keyed aggregation",
                                         .dot_shape = "box3d",
                                         .adaptable = false,
                                         .slots = Slots::regrouped};

// Shards per thread of the run, unless the node says how many: with one per thread, two calls
// often want the same shard at once and one of them waits; with eight, they rarely do
// (bench_keyed's Keyed_WordCountSettings, docs/performance.md). The tables hold the same
// entries however many there are.
inline constexpr std::size_t kShardsPerThread = 8;

// On a cluster run, items bound for another rank wait in its buffer at most this long while
// the input is slow (a live stream): the node asks the run for a flush this long after it
// first adds to an empty buffer.
inline constexpr std::chrono::milliseconds kExchangeDelay{20};

// How many pairs the node emits per batch when the input ends: the run's batch size, but at
// least this many, so that emitting a few million keys takes a few hundred rounds of calls.
inline constexpr std::size_t kMinEmitBatch = 4096;

template <class In, class KeyFn, class Init, class Update, class Hash, class Equal>
class KeyedNode final : public NodeWithDeadLetters<In> {
 public:
  using KeyResult = std::remove_cvref_t<std::invoke_result_t<const KeyFn&, const In&>>;
  using Key = stored_key_t<KeyResult>;
  using Lookup = lookup_key_t<KeyResult>;
  using State = std::remove_cvref_t<std::invoke_result_t<const Init&>>;
  using Pair = std::pair<Key, State>;

  KeyedNode(std::string name, NodeOptions options, KeyFn key, Init init, Update update, Hash hash,
            Equal equal, std::size_t shards)
      : NodeWithDeadLetters<In>(std::move(name), kKeyedTraits, options),
        key_(std::move(key)),
        init_(std::move(init)),
        update_(std::move(update)),
        hash_(std::move(hash)),
        equal_(std::move(equal)),
        shards_asked_(shards) {
    this->inputs_ = {&typeid(In)};
    this->output_ = &typeid(Pair);
  }

  void check(std::vector<std::string>& problems) const override {
    check_failed_items_copyable<In>(*this, problems);
  }
  void check_on_cluster(std::vector<std::string>& problems) const override {
    if constexpr (!Wireable<In>)
      problems.push_back(fmt::format(
          "keyed aggregation '{}' sends each item to the rank that owns its key, and items of "
          "type {} cannot cross ranks: give the type a cereal serialize() function "
          "(flow/wire.hpp, docs/distributed.md)",
          this->name(), type_name(typeid(In))));
  }
  bool holds_items() const override { return true; }
  std::string detail_label() const override {
    return shards_asked_ ? fmt::format("{} shards", shards_asked_) : std::string();
  }

  // A fresh state for each run: the shards of the last one, if any, were emptied after it.
  void begin_run(const RunStart& run) const override {
    shard_count_ =
        shards_asked_ ? shards_asked_ : kShardsPerThread * std::max<std::size_t>(run.threads, 1);
    shards_ = std::make_unique<Shard[]>(shard_count_);
    for (std::size_t s = 0; s < shard_count_; ++s) shards_[s].table = Table(0, {hash_}, {equal_});
    emit_batch_ = std::max(run.batch_size, kMinEmitBatch);
    next_to_emit_ = 0;
    shards_emitted_ = 0;
    loads_.clear();
    failing_ = false;
    place_ = run.cluster;
    exchange_.reset();
    if constexpr (Wireable<In>)
      if (place_.ranks > 1) exchange_ = std::make_unique<Exchange>(place_);
    stream_ended_ = false;
    flush_asked_ = false;
  }

  void process(std::span<const BatchHandle> in, std::span<BatchHandle> out,
               CallContext& ctx) const override {
    auto& batch = batch_cast<In>(in[0]);
    Call call{*this, batch, ctx, out};
    call.split();
    call.send_away();
    call.apply();
    call.recover();
    call.failures.send(out, this->dead_letter_port());
    if (exchange_) {
      apply_received(out, ctx);  // keeps what other ranks send moving
      if (!flush_asked_.exchange(true)) ctx.run->flush_later(*this, kExchangeDelay);
    }
  }

  // When the input ends: the next pairs of a shard no other call is emitting, up to a batch,
  // the key copied and the state moved out of its table, which goes as a whole when its last
  // pair has left (taking entries out one by one with extract() frees each entry apart,
  // which made the emission slower). The run calls this on every thread at once, so the
  // shards empty in parallel. Nothing once the run is stopping.
  // On a cluster, first the items for other ranks leave, then the end of the stream, and the
  // items the other ranks send are applied until each has sent its end; only then the pairs.
  bool flush(std::span<BatchHandle> out, CallContext& ctx, bool end_of_stream) const override {
    if (!end_of_stream) {  // the timed flush of the buffers for other ranks
      flush_asked_ = false;
      if (exchange_ && !ctx.stopping()) exchange_->send_all([&] { apply_received(out, ctx); });
      return false;
    }
    if (ctx.stopping() || !shards_) return false;
    if (exchange_) {
      if (!stream_ended_.exchange(true)) exchange_->end_stream([&] { apply_received(out, ctx); });
      if (!exchange_->ended() || applying_.load() > 0) {
        if (!apply_received(out, ctx)) exchange_->wait(std::chrono::milliseconds(1));
        return true;
      }
    }
    record_loads();
    const std::size_t start = next_to_emit_.fetch_add(1, std::memory_order_relaxed);
    for (std::size_t k = 0; k < shard_count_; ++k) {
      Shard& shard = shards_[(start + k) % shard_count_];
      std::unique_lock lock(shard.mutex, std::try_to_lock);
      if (!lock || shard.emitted) continue;
      auto pairs = make_ref<Batch<Pair>>();
      if (shard.emitted_pairs == 0) shard.next = shard.table.begin();
      const std::size_t n = std::min(emit_batch_, shard.table.size() - shard.emitted_pairs);
      shard.emitted_pairs += n;
      pairs->values.reserve(n);
      pairs->slots.reserve(n);
      for (; pairs->values.size() < n; ++shard.next)
        pairs->push(Pair(shard.next->first, std::move(shard.next->second)),
                    static_cast<std::uint32_t>(pairs->values.size()));
      if (shard.next == shard.table.end()) {
        shard.emitted = true;
        Table(0, shard.table.hash_function(), shard.table.key_eq()).swap(shard.table);
        shards_emitted_.fetch_add(1, std::memory_order_relaxed);
      }
      ctx.counts.out += n;
      if (n) out[0] = std::move(pairs);
      break;
    }
    return shards_emitted_.load(std::memory_order_relaxed) < shard_count_;
  }

  // After every run: the state of a run that stopped before every pair had left is dropped,
  // and all the items it aggregated count as cancelled (also those of pairs that left before
  // the stop: the output is incomplete); the memory of the tables goes either way.
  std::uint64_t drop_held() const override {
    if (!shards_) return 0;
    record_loads();
    std::uint64_t held = 0;
    if (shards_emitted_.load() < shard_count_)
      for (std::size_t s = 0; s < shard_count_; ++s) held += shards_[s].items;
    if (exchange_) held += exchange_->items_held();
    shards_.reset();
    exchange_.reset();
    return held;
  }
  std::vector<ShardLoad> shard_loads() const override { return loads_; }

 private:
  using Table = KeyedTable<KeyResult, State, Hash, Equal>;
  struct alignas(64) Shard {  // a cache line of its own: the locks are taken by every thread
    std::mutex mutex;
    Table table;
    std::uint64_t items = 0;
    bool emitted = false;             // its pairs have all left, at the end of the stream
    std::size_t emitted_pairs = 0;    // at the end of the stream
    typename Table::iterator next{};  // the next pair to emit
  };
  // What an entry keeps of a key: a key function returning a string by reference (a member
  // of the item) is kept as a view of it, as the item outlives the call; others as returned.
  using KeyRef = std::invoke_result_t<const KeyFn&, const In&>;
  using EntryKey = std::conditional_t<string_key<KeyResult> && std::is_lvalue_reference_v<KeyRef>,
                                      std::string_view, KeyResult>;
  // An item's key, computed once, with its hash.
  struct Entry {
    EntryKey key;
    std::size_t hash;
    std::uint32_t index;  // in the batch
  };

  static decltype(auto) lookup(const EntryKey& key) {
    if constexpr (std::is_same_v<Lookup, EntryKey>)
      return (key);
    else
      return Lookup(key);
  }
  std::size_t hash_of(const EntryKey& key) const { return hash_(lookup(key)); }

  // Item `item` into the state of its key, in `shard`, whose lock the caller holds. A new key
  // whose first update throws is taken out again: a failed item leaves no trace.
  void update(Shard& shard, const Entry& e, In& item, bool give) const {
    auto& table = shard.table;
    const auto& key = lookup(e.key);
    auto it = table.find(Prehashed<Lookup>{key, e.hash});
    const bool added = it == table.end();
    if (added) it = table.emplace(Key(key), init_()).first;
    try {
      if constexpr (std::is_invocable_v<const Update&, State&, const In&>) {
        (void)give;
        update_(it->second, std::as_const(item));
      } else {
        if (give)
          update_(it->second, std::move(item));
        else
          update_(it->second, In(item));
      }
    } catch (...) {
      if (added) table.erase(it);
      throw;
    }
    ++shard.items;
  }

  // One call on one batch: split by shard, applied shard by shard, failures recovered.
  struct Call {
    const KeyedNode& node;
    Batch<In>& batch;
    CallContext& ctx;
    std::span<BatchHandle> out;
    bool received = false;  // the items came from another rank: they are all this rank's
    ItemFailures<In> failures{node, batch};
    const std::uint64_t failed_before = ctx.counts.failed;
    const bool owned = !batch.shared;
    const bool give = owned && !keeps_failed_items(node.options());  // may update take items?
    std::vector<Entry> entries{};
    std::vector<std::uint32_t> order{};  // entries by shard
    std::vector<std::size_t> first{};    // shard s: order[first[s], first[s + 1])
    std::vector<std::pair<std::uint32_t, std::exception_ptr>> failed{};  // item, its error
    std::vector<std::vector<std::uint32_t>> away{};  // per rank: items its shards own
    std::uint64_t applied = 0, sent = 0;
    bool stopped = false;

    bool stopping(std::size_t i) {
      if (i % 16 == 0 && ctx.stopping()) stopped = true;
      return stopped;
    }

    // The key and hash of every item, and the order that groups them by shard.
    void split() {
      const std::size_t n = batch.values.size();
      const std::size_t shards = node.shard_count_;
      entries.reserve(n);
      std::vector<std::uint32_t> shard_of_entry;
      shard_of_entry.reserve(n);
      first.assign(shards + 1, 0);
      const bool routes = node.exchange_ && !received;
      if (routes) away.resize(node.place_.ranks);
      for (std::uint32_t i = 0; i < n && !stopping(i); ++i) {
        try {
          EntryKey key = node.key_(std::as_const(batch.values[i]));
          const std::size_t hash = node.hash_of(key);
          if (routes) {
            const std::size_t owner = owner_of(hash, node.place_.ranks);
            if (owner != node.place_.rank) {
              away[owner].push_back(i);
              continue;
            }
          }
          const std::size_t s = shard_of(hash, shards);
          entries.push_back({std::move(key), hash, i});
          shard_of_entry.push_back(static_cast<std::uint32_t>(s));
          ++first[s + 1];
        } catch (...) {
          failed.emplace_back(i, std::current_exception());
        }
      }
      for (std::size_t s = 0; s < shards; ++s) first[s + 1] += first[s];
      order.resize(entries.size());
      std::vector<std::size_t> next(first.begin(), first.end() - 1);
      for (std::uint32_t e = 0; e < entries.size(); ++e) order[next[shard_of_entry[e]]++] = e;
    }

    // The items other ranks own, to them; while a rank has too many sends on their way, this
    // call applies what arrived meanwhile.
    void send_away() {
      if constexpr (Wireable<In>) {
        for (std::size_t to = 0; to < away.size(); ++to) {
          if (away[to].empty()) continue;
          node.exchange_->add(
              to, away[to].size(), [&](Bytes& bytes) { wire_write(bytes, batch.values, away[to]); },
              [&] { node.apply_received(out, ctx); });
          sent += away[to].size();
        }
      }
    }

    // A retried item whose key another rank owns goes there.
    bool send_if_away(const Entry& e, std::uint32_t index) {
      if constexpr (Wireable<In>) {
        if (!node.exchange_ || received) return false;
        const std::size_t owner = owner_of(e.hash, node.place_.ranks);
        if (owner == node.place_.rank) return false;
        const std::uint32_t one[] = {index};
        node.exchange_->add(
            owner, 1, [&](Bytes& bytes) { wire_write(bytes, batch.values, one); },
            [&] { node.apply_received(out, ctx); });
        ++sent;
        return true;
      } else {
        (void)e, (void)index;
        return false;
      }
    }

    // Every shard with items, free ones first: when all left are taken, waits for the first.
    // Calls start at different shards, so that they rarely want the same one.
    void apply() {
      const std::size_t shards = node.shard_count_;
      std::vector<bool> done(shards, false);
      std::size_t left = 0;
      for (std::size_t s = 0; s < shards; ++s) {
        done[s] = first[s] == first[s + 1];
        left += done[s] ? 0 : 1;
      }
      const std::size_t start = batch.seq % shards;
      while (left > 0 && !stopped) {
        bool progressed = false;
        std::size_t taken = shards;  // the first shard left that another call holds
        for (std::size_t k = 0; k < shards && !stopped; ++k) {
          const std::size_t s = (start + k) % shards;
          if (done[s]) continue;
          std::unique_lock lock(node.shards_[s].mutex, std::try_to_lock);
          if (!lock) {
            taken = std::min(taken, s);
            continue;
          }
          apply_shard(s);
          done[s] = progressed = true;
          --left;
        }
        if (progressed || taken == shards || stopped) continue;
        const std::scoped_lock lock(node.shards_[taken].mutex);
        apply_shard(taken);
        done[taken] = true;
        --left;
      }
    }

    void apply_shard(std::size_t s) {
      Shard& shard = node.shards_[s];
      for (std::size_t j = first[s]; j < first[s + 1]; ++j) {
        if (stopping(j - first[s])) return;
        const Entry& e = entries[order[j]];
        try {
          node.update(shard, e, batch.values[e.index], give);
          ++applied;
        } catch (...) {
          failed.emplace_back(e.index, std::current_exception());
        }
      }
    }

    // The items whose key or update threw, outside the shards' locks: retried (the key
    // computed anew), then given up on as the node's error policy says.
    void recover() {
      std::sort(failed.begin(), failed.end(),
                [](const auto& a, const auto& b) { return a.first < b.first; });
      for (auto& [index, error] : failed) {
        if (ctx.failure || stopped) break;
        In& item = batch.values[index];
        for (std::size_t attempt = 1;; ++attempt) {
          using Next = typename ItemFailures<In>::Next;
          const Next next = failures.after(attempt, error, ctx);
          if (next == Next::leave) {
            stopped = true;
            break;
          }
          if (next == Next::give_up) {
            // Under OnError::fail the first item given up on fails the run; one that another
            // call gives up on meanwhile is left, as the run is stopping.
            if (node.options().on_error == OnError::fail && node.failing_.exchange(true)) {
              stopped = true;
              break;
            }
            failures.give_up(item, batch.slots[index], owned, attempt, error, ctx);
            break;
          }
          ++ctx.counts.retries;
          try {
            Entry e{node.key_(std::as_const(item)), 0, index};
            e.hash = node.hash_of(e.key);
            if (send_if_away(e, index)) break;
            Shard& shard = node.shards_[shard_of(e.hash, node.shard_count_)];
            const std::scoped_lock lock(shard.mutex);
            node.update(shard, e, item, give);
            ++applied;
            break;
          } catch (...) {
            error = std::current_exception();
          }
        }
      }
      const std::size_t n = batch.values.size();
      (received ? ctx.counts.received : ctx.counts.in) += n;
      ctx.counts.sent += sent;
      ctx.counts.cancelled += n - applied - sent - (ctx.counts.failed - failed_before);
    }
  };

  // Applies one message another rank sent, if one is there; returns whether it did.
  bool apply_received(std::span<BatchHandle> out, CallContext& ctx) const {
    if constexpr (Wireable<In>) {
      applying_.fetch_add(1);  // before take(): flush() must not see an empty inbox and no one busy
      std::optional<Exchange::Message> m = exchange_->take();
      if (m) {
        auto batch = make_ref<Batch<In>>();
        wire_read(*m->bytes, m->offset, m->items, batch->values);
        batch->number_slots();
        batch->keep = m->bytes;
        Call call{*this, *batch, ctx, out, true};
        call.split();
        call.apply();
        call.recover();
        call.failures.send(out, this->dead_letter_port());
      }
      applying_.fetch_sub(1);
      return m.has_value();
    } else {
      (void)out, (void)ctx;
      return false;
    }
  }

  // The shards' loads, once per run, before any pair leaves (or when a stopped run drops them).
  void record_loads() const {
    const std::lock_guard lock(loads_mutex_);
    if (!loads_.empty()) return;
    loads_.resize(shard_count_);
    for (std::size_t s = 0; s < shard_count_; ++s)
      loads_[s] = {shards_[s].table.size(), shards_[s].items};
  }

  KeyFn key_;
  Init init_;
  Update update_;
  Hash hash_;
  Equal equal_;
  std::size_t shards_asked_;  // 0: one per thread of the run
  // The run's state (begin_run): the node is const to the run, as every kind is.
  mutable std::size_t shard_count_ = 0;
  mutable std::unique_ptr<Shard[]> shards_;
  mutable std::size_t emit_batch_ = kMinEmitBatch;
  mutable std::atomic<std::size_t> next_to_emit_{0};    // where the next flush starts looking
  mutable std::atomic<std::size_t> shards_emitted_{0};  // shards whose pairs have all left
  mutable std::mutex loads_mutex_;
  mutable std::vector<ShardLoad> loads_;      // when the input ended (or the run stopped)
  mutable std::atomic<bool> failing_{false};  // an item failed the run (OnError::fail)
  // Cluster runs of several ranks only (docs/distributed.md).
  mutable ClusterPlace place_;
  mutable std::unique_ptr<Exchange> exchange_;
  mutable std::atomic<bool> stream_ended_{false};  // the end of the stream was sent
  mutable std::atomic<bool> flush_asked_{false};   // a timed flush is due
  mutable std::atomic<int> applying_{0};           // calls applying a received message
};

}  // namespace aetherflow::detail
