#pragma once
// Batches of items between a node's copies on the ranks of a cluster run (flow/cluster.hpp):
// what a keyed node uses to send each item to the rank that owns its key, and a gathered sink
// to send its items to rank 0. For node kinds of the public seam (flow/node_kind.hpp).
//
// Items for a rank gather in a buffer of that rank, sent when it holds `batch_bytes`, when
// the node asks (a timed flush) and at the end of the stream, which follows every item. Each
// destination has at most `sends_in_flight` sends on their way, and a rank keeps at most
// `inbox` received messages that no call has taken yet: memory stays bounded whatever the
// input, as back-pressure reaches the senders. A sender that has to wait runs `help` meanwhile
// (apply what arrived), so that two ranks waiting on each other both go on.

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstddef>
#include <cstdint>
#include <deque>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <vector>

#include <flow/cluster.hpp>

namespace aetherflow {

struct ExchangeLimits {
  std::size_t batch_bytes = std::size_t{256} << 10;
  std::size_t sends_in_flight = 4;  // per destination
  std::size_t inbox = 16;           // 0: no bound (a gathered sink's, taken at the end)
};

class Exchange final : private Receiver {
 public:
  // A batch of items that arrived: `items` of them in `bytes`, from byte `offset`.
  struct Message {
    std::size_t from = 0;
    std::shared_ptr<const Bytes> bytes;
    std::size_t offset = 0;
    std::uint32_t items = 0;
  };
  using Help = std::function<void()>;

  // Opens the node's channel: before the run's first all_gather (Cluster::open).
  Exchange(const ClusterPlace& place, ExchangeLimits limits = {});
  ~Exchange();
  Exchange(const Exchange&) = delete;
  Exchange& operator=(const Exchange&) = delete;

  // Appends `items` items for rank `to`, written at the end of its buffer by `write(Bytes&)`;
  // sends the buffer once it holds batch_bytes.
  template <class Write>
  void add(std::size_t to, std::size_t items, Write&& write, const Help& help) {
    std::shared_ptr<Bytes> full;
    {
      Outgoing& o = out_[to];
      const std::lock_guard lock(o.mutex);
      if (o.bytes.empty()) o.bytes.resize(kHeader);
      write(o.bytes);
      o.items += items;
      if (o.bytes.size() >= limits_.batch_bytes) full = take_buffer(o);
    }
    if (full) send(to, std::move(full), help);
  }
  // Sends what every buffer holds.
  void send_all(const Help& help);
  // Sends what every buffer holds, then the end of the stream to every other rank. Call it
  // once, after the last add().
  void end_stream(const Help& help);

  // A message that arrived, from any rank (or from `from` only), if there is one now.
  std::optional<Message> take(std::optional<std::size_t> from = std::nullopt);
  // Waits at most `timeout` for a message (from `from`), or for every end to arrive.
  void wait(std::chrono::milliseconds timeout, std::optional<std::size_t> from = std::nullopt);
  // Every other rank's end arrived (`from`'s only) and no message is left to take.
  bool ended(std::optional<std::size_t> from = std::nullopt) const;

  // Items in buffers not yet sent, and in messages received and not taken: what a stopped
  // run drops.
  std::uint64_t items_held() const;

 private:
  // u32 kind (0: items, 1: end of stream), u32 items, u64 the run (ClusterPlace::run)
  static constexpr std::size_t kHeader = 16;
  struct alignas(64) Outgoing {
    std::mutex mutex;
    Bytes bytes;
    std::size_t items = 0;
  };
  // Credits of the sends on their way: shared with the transport's callbacks, which may run
  // after the exchange is gone (a send to a rank that stopped listening).
  // The buffers of sends that left come back as spares, so that a rank reuses a few buffers
  // instead of allocating (and faulting in) one per message.
  struct Credits {
    std::mutex mutex;
    std::condition_variable returned;
    std::vector<std::size_t> in_flight;
    std::vector<std::shared_ptr<Bytes>> spare;
  };

  std::shared_ptr<Bytes> take_buffer(Outgoing& o);
  void send(std::size_t to, std::shared_ptr<Bytes> bytes, const Help& help);
  bool stopping() const noexcept { return stop_ && stop_->load(std::memory_order_relaxed); }
  // Receiver, on the transport's thread.
  bool has_room() const override;
  void deliver(std::size_t from, Bytes bytes) override;

  Cluster& cluster_;
  const std::size_t rank_, ranks_;
  const int channel_;
  const std::atomic<bool>* stop_;
  const std::uint64_t run_;
  const ExchangeLimits limits_;
  std::unique_ptr<Outgoing[]> out_;
  std::shared_ptr<Credits> credits_;
  mutable std::mutex inbox_mutex_;
  std::condition_variable arrived_;
  std::vector<std::deque<Message>> inbox_;  // per rank
  std::size_t inbox_size_ = 0;
  std::size_t ends_ = 0;       // other ranks whose end of stream arrived
  std::vector<bool> ended_;    // per rank
  std::size_t next_from_ = 0;  // take() starts there: no rank waits behind another
};

}  // namespace aetherflow
