#pragma once
// The ranks of a job and how they talk: the seam between a run spread over N processes and
// the transport that carries its messages (docs/distributed.md). aetherflow::mpi::Session
// (flow/mpi/session.hpp, the optional aetherflow::mpi component) makes the Open MPI one:
//
//   aetherflow::mpi::Session mpi(argc, argv);
//   flow.run({.cluster = mpi.cluster()});   // every rank runs the flow on its share
//
// A transport sends bytes on numbered channels and gathers bytes from every rank; it calls
// nothing of the run but the Receivers it was given. Every member may be called from any
// thread: the transport orders its own calls (the MPI one makes every MPI call on one thread
// of its own, so that oneTBB's workers never call MPI).

#include <algorithm>
#include <atomic>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <new>
#include <optional>
#include <utility>
#include <vector>

namespace aetherflow {

// Allocates like std::allocator, but leaves the bytes resize() adds uninitialised: a message
// is written (or received) right after it is sized, and zeroing it first costs a pass.
template <class T>
struct UninitializedAllocator : std::allocator<T> {
  template <class U>
  struct rebind {
    using other = UninitializedAllocator<U>;
  };
  UninitializedAllocator() = default;
  template <class U>
  UninitializedAllocator(const UninitializedAllocator<U>&) noexcept {}
  template <class U>
  void construct(U* p) noexcept {
    ::new (static_cast<void*>(p)) U;
  }
  template <class U, class... Args>
  void construct(U* p, Args&&... args) {
    ::new (static_cast<void*>(p)) U(std::forward<Args>(args)...);
  }
};

// The bytes of a message between ranks.
using Bytes = std::vector<std::byte, UninitializedAllocator<std::byte>>;

// What a channel's messages are delivered to, on the transport's thread: keep it short.
class Receiver {
 public:
  // Whether the next message may be delivered now. false: the transport leaves it where it is
  // (with MPI, at the sender, whose send does not complete): that is the back-pressure.
  virtual bool has_room() const = 0;
  virtual void deliver(std::size_t from, Bytes bytes) = 0;

 protected:
  ~Receiver() = default;
};

class Cluster {
 public:
  virtual ~Cluster() = default;
  virtual std::size_t rank() const = 0;
  virtual std::size_t size() const = 0;
  // The highest channel number the transport carries.
  virtual int max_channel() const = 0;

  // Sends `bytes` to rank `to` on `channel`; `sent` runs on the transport's thread once the
  // message has left (the receiver took it). Messages from one rank on one channel arrive in
  // the order they were sent.
  virtual void send(std::size_t to, int channel, std::shared_ptr<const Bytes> bytes,
                    std::function<void()> sent) = 0;
  // Delivers the messages of `channel` to `receiver` until close(channel). A message for a
  // channel that is not open is dropped: a run opens its channels before its first
  // all_gather, which no rank leaves before every rank has entered it, so that nothing is
  // sent to a rank not yet listening, and what a failed run left on its way is dropped.
  virtual void open(int channel, Receiver& receiver) = 0;
  // Ends open(channel, receiver), if the channel is still the receiver's. Once it returns, no
  // delivery to the receiver is under way.
  virtual void close(int channel, Receiver& receiver) = 0;
  // Every rank passes its bytes and gets every rank's, in rank order. A collective: every
  // rank calls it, in the same order as the others.
  virtual std::vector<Bytes> all_gather(Bytes mine) = 0;
  // The ranks on this rank's machine, this one included: a run's threads default to its share
  // of the machine's cores.
  virtual std::size_t ranks_on_this_machine() const { return 1; }
  // A thread of this rank waits on the transport (for a send to leave, for a message) from
  // waiting_began() to waiting_ended(): a transport that polls may poll without pause
  // meanwhile, as that thread leaves its core free. Waiting (below) pairs them.
  virtual void waiting_began() {}
  virtual void waiting_ended() {}
  // The number of the run starting on this cluster: every rank runs the same runs in the same
  // order, so it numbers the same run alike on every rank. A run's control messages carry it,
  // and a message another rank's previous run left on its way is known for what it is.
  std::uint64_t next_run() noexcept { return ++runs_; }

  class Waiting {
   public:
    explicit Waiting(Cluster& cluster) : cluster_(cluster) { cluster_.waiting_began(); }
    ~Waiting() { cluster_.waiting_ended(); }
    Waiting(const Waiting&) = delete;
    Waiting& operator=(const Waiting&) = delete;

   private:
    Cluster& cluster_;
  };

 private:
  std::uint64_t runs_ = 0;
};

// What a run on a cluster tells a node (RunStart::cluster): where it is, and the channel its
// messages to its copies on the other ranks travel on (flow/exchange.hpp).
struct ClusterPlace {
  Cluster* cluster = nullptr;  // null: one process
  std::size_t rank = 0;
  std::size_t ranks = 1;
  int channel = 0;  // this node's, in this run
  const std::atomic<bool>* stop = nullptr;
  // Cluster::next_run(): the messages of this node's channel carry it, and what another run
  // left on its way is dropped.
  std::uint64_t run = 0;
};

// Which ranks run a source (NodeOptions::on_ranks); unset: `split` for ranges and for sources
// that can read a share of their input (read_lines, read_chunks, read_records, and a user's
// with a ShardedSource open()), `rank_zero` for the others (a generator).
enum class OnRanks {
  split,      // each rank reads its share: a byte range of a file, a slice of a range
  rank_zero,  // only rank 0 runs it; the others' copy emits nothing
  each_rank,  // every rank runs it whole: its own input, or a generator that knows its rank
};

// A rank's share of a source's input: part `index` of `count`.
struct Shard {
  std::size_t index = 0;
  std::size_t count = 1;
  bool operator==(const Shard&) const = default;
  // The part of [0, total) this shard reads: an even split, the first parts one larger.
  std::uint64_t begin_of(std::uint64_t total) const noexcept { return start(total, index); }
  std::uint64_t end_of(std::uint64_t total) const noexcept { return start(total, index + 1); }

 private:
  std::uint64_t start(std::uint64_t total, std::size_t part) const noexcept {
    const std::uint64_t each = total / count, extra = total % count;
    return part * each + std::min<std::uint64_t>(part, extra);
  }
};

// The share of its input a source reads on `rank` of `ranks`; none: it runs on another rank.
inline std::optional<Shard> share_of(OnRanks on, std::size_t rank, std::size_t ranks) {
  if (ranks <= 1 || on == OnRanks::each_rank) return Shard{};
  if (on == OnRanks::split) return Shard{rank, ranks};
  if (rank != 0) return std::nullopt;
  return Shard{};
}

}  // namespace aetherflow
