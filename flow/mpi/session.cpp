#include <flow/mpi/session.hpp>

#include <mpi.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdlib>
#include <deque>
#include <functional>
#include <future>
#include <list>
#include <map>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include <fmt/format.h>

#include <flow/errors.hpp>

namespace aetherflow::mpi {
namespace {

std::string thread_level_name(int level) {
  switch (level) {
    case MPI_THREAD_SINGLE:
      return "MPI_THREAD_SINGLE";
    case MPI_THREAD_FUNNELED:
      return "MPI_THREAD_FUNNELED";
    case MPI_THREAD_SERIALIZED:
      return "MPI_THREAD_SERIALIZED";
    default:
      return "MPI_THREAD_MULTIPLE";
  }
}

void start_mpi(int* argc, char*** argv, Threads threads) {
  const int wanted = threads == Threads::multiple ? MPI_THREAD_MULTIPLE : MPI_THREAD_SERIALIZED;
  int started = 0;
  MPI_Initialized(&started);
  if (started)
    throw Error(
        "aetherflow::mpi::Session: MPI is started already: a program makes one Session, "
        "and it starts MPI");
  int provided = MPI_THREAD_SINGLE;
  MPI_Init_thread(argc, argv, wanted, &provided);
  if (provided < wanted) {
    MPI_Finalize();
    throw Error(
        fmt::format("aetherflow::mpi::Session: MPI granted {}, and {} was asked for (AetherFlow's "
                    "communication thread calls MPI while the program's threads run)",
                    thread_level_name(provided), thread_level_name(wanted)));
  }
}

// An all_gather under way on the communication thread: the sizes first, then the bytes.
struct Gather {
  Bytes mine;
  std::promise<std::vector<Bytes>> done;
  std::vector<long long> sizes;
  long long my_size = 0;
  std::vector<int> counts, displs;
  Bytes all;
  MPI_Request request = MPI_REQUEST_NULL;
  int phase = 0;  // 0: not started, 1: sizes on their way, 2: bytes on their way
};

struct Send {
  MPI_Request request;
  std::shared_ptr<const Bytes> bytes;
  std::function<void()> sent;
};

// Every MPI call is made on thread_, which loops: run what was asked, complete sends and
// collectives, receive what open channels have room for, drop what closed channels got.
class MpiCluster final : public Cluster {
 public:
  MpiCluster() {
    MPI_Comm_dup(MPI_COMM_WORLD, &comm_);
    int rank = 0, size = 1, local = 1;
    MPI_Comm_rank(comm_, &rank);
    MPI_Comm_size(comm_, &size);
    MPI_Comm machine;
    MPI_Comm_split_type(comm_, MPI_COMM_TYPE_SHARED, rank, MPI_INFO_NULL, &machine);
    MPI_Comm_size(machine, &local);
    MPI_Comm_free(&machine);
    int* tag_ub = nullptr;
    int found = 0;
    MPI_Comm_get_attr(comm_, MPI_TAG_UB, &tag_ub, &found);
    rank_ = static_cast<std::size_t>(rank);
    size_ = static_cast<std::size_t>(size);
    local_ = static_cast<std::size_t>(local);
    max_channel_ = found && tag_ub ? *tag_ub : 32767;
    thread_ = std::thread([this] { loop(); });
  }

  ~MpiCluster() override { stop(); }

  // Before MPI_Finalize, whoever still holds the cluster: later sends and gathers fail.
  void stop() {
    {
      const std::lock_guard lock(mutex_);
      if (stopping_) return;
      stopping_ = true;
    }
    wake_.notify_all();
    thread_.join();
    MPI_Comm_free(&comm_);
  }

  std::size_t rank() const override { return rank_; }
  std::size_t size() const override { return size_; }
  int max_channel() const override { return max_channel_; }
  std::size_t ranks_on_this_machine() const override { return local_; }
  void waiting_began() override {
    if (waiters_.fetch_add(1, std::memory_order_relaxed) == 0) wake_.notify_all();
  }
  void waiting_ended() override { waiters_.fetch_sub(1, std::memory_order_relaxed); }

  void send(std::size_t to, int channel, std::shared_ptr<const Bytes> bytes,
            std::function<void()> sent) override {
    post([this, to, channel, bytes = std::move(bytes), sent = std::move(sent)]() mutable {
      Send s{MPI_REQUEST_NULL, std::move(bytes), std::move(sent)};
      MPI_Isend(s.bytes->data(), static_cast<int>(s.bytes->size()), MPI_BYTE, static_cast<int>(to),
                channel, comm_, &s.request);
      sends_.push_back(std::move(s));
    });
  }

  void open(int channel, Receiver& receiver) override {
    const std::lock_guard lock(receivers_mutex_);
    receivers_[channel] = &receiver;
  }
  // Waits for a delivery under way: none reaches the receiver after this returns.
  void close(int channel, Receiver& receiver) override {
    const std::lock_guard lock(receivers_mutex_);
    if (const auto it = receivers_.find(channel); it != receivers_.end() && it->second == &receiver)
      receivers_.erase(it);
  }

  std::vector<Bytes> all_gather(Bytes mine) override {
    auto gather = std::make_shared<Gather>();
    gather->mine = std::move(mine);
    auto result = gather->done.get_future();
    post([this, gather] { gathers_.push_back(gather); });
    return result.get();
  }

 private:
  void post(std::function<void()> op) {
    {
      const std::lock_guard lock(mutex_);
      if (stopping_)
        throw Error("aetherflow::mpi: the Session has ended: its cluster sends nothing more");
      ops_.push_back(std::move(op));
    }
    wake_.notify_all();
  }

  void loop() {
    auto idle = std::chrono::microseconds(0);
    for (;;) {
      std::deque<std::function<void()>> ops;
      bool stopping = false;
      {
        std::unique_lock lock(mutex_);
        if (idle.count() > 0 && ops_.empty() && !stopping_) wake_.wait_for(lock, idle);
        ops.swap(ops_);
        stopping = stopping_;
      }
      bool busy = !ops.empty();
      for (auto& op : ops) op();
      busy |= complete_sends();
      busy |= progress_gathers();
      busy |= receive();
      if (stopping && ops.empty() && gathers_.empty() && (sends_.empty() || give_up_sends()))
        return;
      // While a thread of the rank waits on the transport, its core is free: the thread
      // polls on, yielding the core between rounds, as a large message moves only while both
      // sides call MPI.
      if (waiters_.load(std::memory_order_relaxed) > 0 && (!sends_.empty() || listening())) {
        idle = std::chrono::microseconds(0);
        std::this_thread::yield();
        continue;
      }
      // Else polling MPI costs a core that the workers want, so the thread backs off (a
      // receiver's inbox frees up without telling): at most 5 us while sends are on their way,
      // 50 us while channels are open (a run), 0.5 ms else.
      const auto most = std::chrono::microseconds(!sends_.empty() ? 5 : listening() ? 50 : 500);
      idle = busy ? std::chrono::microseconds(0)
                  : std::min(most, std::max(std::chrono::microseconds(2), idle * 2));
    }
  }

  bool listening() {
    const std::lock_guard lock(receivers_mutex_);
    return !receivers_.empty();
  }

  bool complete_sends() {
    bool any = false;
    for (auto it = sends_.begin(); it != sends_.end();) {
      int done = 0;
      MPI_Test(&it->request, &done, MPI_STATUS_IGNORE);
      if (!done) {
        ++it;
        continue;
      }
      if (it->sent) it->sent();
      it = sends_.erase(it);
      any = true;
    }
    return any;
  }

  // At the end, sends no rank receives any more (a peer that stopped after a failure) are
  // cancelled after a second rather than holding MPI_Finalize.
  bool give_up_sends() {
    if (!stop_began_) stop_began_ = std::chrono::steady_clock::now();
    if (std::chrono::steady_clock::now() - *stop_began_ < std::chrono::seconds(1)) return false;
    for (auto& s : sends_) {
      MPI_Cancel(&s.request);
      MPI_Request_free(&s.request);
    }
    sends_.clear();
    return true;
  }

  bool progress_gathers() {
    if (gathers_.empty()) return false;
    Gather& g = *gathers_.front();
    if (g.phase == 0) {
      g.my_size = static_cast<long long>(g.mine.size());
      g.sizes.assign(size_, 0);
      MPI_Iallgather(&g.my_size, 1, MPI_LONG_LONG, g.sizes.data(), 1, MPI_LONG_LONG, comm_,
                     &g.request);
      g.phase = 1;
      return true;
    }
    int done = 0;
    MPI_Test(&g.request, &done, MPI_STATUS_IGNORE);
    if (!done) return false;
    if (g.phase == 1) {
      g.counts.resize(size_);
      g.displs.resize(size_);
      long long total = 0;
      for (std::size_t r = 0; r < size_; ++r) {
        g.counts[r] = static_cast<int>(g.sizes[r]);
        g.displs[r] = static_cast<int>(total);
        total += g.sizes[r];
      }
      g.all.resize(static_cast<std::size_t>(total));
      MPI_Iallgatherv(g.mine.data(), static_cast<int>(g.mine.size()), MPI_BYTE, g.all.data(),
                      g.counts.data(), g.displs.data(), MPI_BYTE, comm_, &g.request);
      g.phase = 2;
      return true;
    }
    std::vector<Bytes> each(size_);
    for (std::size_t r = 0; r < size_; ++r)
      each[r].assign(g.all.begin() + g.displs[r], g.all.begin() + g.displs[r] + g.counts[r]);
    g.done.set_value(std::move(each));
    gathers_.pop_front();
    return true;
  }

  // What open channels have room for, a few messages each per round; then one message of a
  // channel that is not open, dropped.
  bool receive() {
    bool any = false;
    const std::lock_guard lock(receivers_mutex_);
    for (auto& [channel, receiver] : receivers_) {
      for (int n = 0; n < 16 && receiver->has_room(); ++n) {
        int flag = 0;
        MPI_Status status;
        MPI_Iprobe(MPI_ANY_SOURCE, channel, comm_, &flag, &status);
        if (!flag) break;
        receiver->deliver(static_cast<std::size_t>(status.MPI_SOURCE), take(status));
        any = true;
      }
    }
    int flag = 0;
    MPI_Status status;
    MPI_Iprobe(MPI_ANY_SOURCE, MPI_ANY_TAG, comm_, &flag, &status);
    if (flag && !receivers_.count(status.MPI_TAG)) {
      take(status);
      any = true;
    }
    return any;
  }

  Bytes take(const MPI_Status& probed) {
    int count = 0;
    MPI_Get_count(&probed, MPI_BYTE, &count);
    Bytes bytes(static_cast<std::size_t>(count));
    MPI_Recv(bytes.data(), count, MPI_BYTE, probed.MPI_SOURCE, probed.MPI_TAG, comm_,
             MPI_STATUS_IGNORE);
    return bytes;
  }

  MPI_Comm comm_ = MPI_COMM_NULL;
  std::size_t rank_ = 0, size_ = 1, local_ = 1;
  int max_channel_ = 32767;
  std::mutex mutex_;  // guards the two below
  std::condition_variable wake_;
  std::deque<std::function<void()>> ops_;
  bool stopping_ = false;
  std::atomic<int> waiters_{0};  // threads in Cluster::Waiting
  std::mutex receivers_mutex_;
  std::map<int, Receiver*> receivers_;
  // The thread's own.
  std::list<Send> sends_;
  std::deque<std::shared_ptr<Gather>> gathers_;
  std::optional<std::chrono::steady_clock::time_point> stop_began_;
  std::thread thread_;
};

}  // namespace

bool Session::launched_by_mpirun() {
  for (const char* variable : {"OMPI_COMM_WORLD_SIZE", "PMIX_RANK", "PMI_RANK"})
    if (std::getenv(variable)) return true;
  return false;
}

Session::Session(int& argc, char**& argv, Threads threads) {
  start_mpi(&argc, &argv, threads);
  cluster_ = std::make_shared<MpiCluster>();
}

Session::Session(Threads threads) {
  start_mpi(nullptr, nullptr, threads);
  cluster_ = std::make_shared<MpiCluster>();
}

Session::~Session() {
  static_cast<MpiCluster&>(*cluster_).stop();
  MPI_Finalize();
}

}  // namespace aetherflow::mpi
