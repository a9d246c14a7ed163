#pragma once
// A cluster of N ranks inside one process, for tests: each rank runs its flow on a thread of
// its own, and messages move between the ranks' channels through a hub, as MPI moves them
// between processes (flow/cluster.hpp's contract: in order per sender and channel, held back
// while the receiver has no room, dropped for a channel that is not open). It lets the
// sanitizer builds, which have no MPI, run the cluster code: exchanges, gathered sinks,
// failures told to every rank.

#include <algorithm>
#include <chrono>
#include <condition_variable>
#include <cstddef>
#include <cstdint>
#include <deque>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <thread>
#include <utility>
#include <vector>

#include <flow/cluster.hpp>

namespace aetherflow::testing {

class LocalCluster {
 public:
  explicit LocalCluster(std::size_t ranks) : hub_(std::make_shared<Hub>(ranks)) {
    for (std::size_t r = 0; r < ranks; ++r) ranks_.push_back(std::make_shared<Rank>(hub_, r));
    pump_ = std::thread([hub = hub_] { hub->pump(); });
  }
  ~LocalCluster() {
    {
      const std::lock_guard lock(hub_->mutex);
      hub_->stopping = true;
    }
    pump_.join();
  }
  LocalCluster(const LocalCluster&) = delete;
  LocalCluster& operator=(const LocalCluster&) = delete;

  std::shared_ptr<Cluster> rank(std::size_t r) const { return ranks_[r]; }
  std::size_t size() const { return ranks_.size(); }

  // While held, messages wait on their way (all_gather does not): a message sent as one run
  // ends can then reach the next run, as a slow network may let it.
  void hold(bool held) {
    const std::lock_guard lock(hub_->mutex);
    hub_->holding = held;
  }
  // Waits until every message sent so far was delivered (or dropped).
  void wait_delivered() const {
    for (;;) {
      {
        const std::lock_guard lock(hub_->mutex);
        if (hub_->queue.empty()) return;
      }
      std::this_thread::sleep_for(std::chrono::microseconds(100));
    }
  }

  // Runs body(rank) on a thread per rank; returns when every one has.
  void run_each(const std::function<void(std::size_t)>& body) const {
    std::vector<std::thread> threads;
    for (std::size_t r = 0; r < ranks_.size(); ++r) threads.emplace_back(body, r);
    for (auto& t : threads) t.join();
  }

 private:
  struct Message {
    std::size_t from, to;
    int channel;
    std::shared_ptr<const Bytes> bytes;
    std::function<void()> sent;
  };

  struct Hub {
    explicit Hub(std::size_t n) : size(n), receivers(n), gathered(n) {}
    const std::size_t size;
    std::mutex mutex;  // guards everything below
    bool stopping = false;
    bool holding = false;
    std::vector<std::map<int, Receiver*>> receivers;  // per rank
    std::deque<Message> queue;
    // all_gather: the round's bytes per rank, how many have arrived, the round number.
    std::condition_variable gathered_all;
    std::vector<Bytes> gathered;
    std::size_t arrived = 0;
    std::uint64_t round = 0;
    std::vector<Bytes> last;

    // Delivers what each receiver has room for, in order per sender and channel, under the
    // lock (so that close() waits for a delivery under way); runs the `sent` callbacks after.
    void pump() {
      for (;;) {
        std::vector<std::function<void()>> sent;
        {
          const std::lock_guard lock(mutex);
          if (stopping) return;
          std::vector<std::pair<std::size_t, int>> blocked;  // (from, channel) held back
          for (auto it = queue.begin(); it != queue.end() && !holding;) {
            const auto key = std::pair{it->from * 1'000'003 + it->to, it->channel};
            if (std::find(blocked.begin(), blocked.end(), key) != blocked.end()) {
              ++it;
              continue;
            }
            const auto r = receivers[it->to].find(it->channel);
            if (r != receivers[it->to].end() && !r->second->has_room()) {
              blocked.push_back(key);
              ++it;
              continue;
            }
            if (r != receivers[it->to].end()) r->second->deliver(it->from, Bytes(*it->bytes));
            if (it->sent) sent.push_back(std::move(it->sent));
            it = queue.erase(it);
          }
        }
        for (auto& s : sent) s();
        std::this_thread::sleep_for(std::chrono::microseconds(50));
      }
    }
  };

  class Rank final : public Cluster {
   public:
    Rank(std::shared_ptr<Hub> hub, std::size_t rank) : hub_(std::move(hub)), rank_(rank) {}
    std::size_t rank() const override { return rank_; }
    std::size_t size() const override { return hub_->size; }
    int max_channel() const override { return 32767; }
    void send(std::size_t to, int channel, std::shared_ptr<const Bytes> bytes,
              std::function<void()> sent) override {
      const std::lock_guard lock(hub_->mutex);
      hub_->queue.push_back({rank_, to, channel, std::move(bytes), std::move(sent)});
    }
    void open(int channel, Receiver& receiver) override {
      const std::lock_guard lock(hub_->mutex);
      hub_->receivers[rank_][channel] = &receiver;
    }
    void close(int channel, Receiver& receiver) override {
      const std::lock_guard lock(hub_->mutex);
      auto& mine = hub_->receivers[rank_];
      if (const auto it = mine.find(channel); it != mine.end() && it->second == &receiver)
        mine.erase(it);
    }
    std::vector<Bytes> all_gather(Bytes bytes) override {
      std::unique_lock lock(hub_->mutex);
      const std::uint64_t round = hub_->round;
      hub_->gathered[rank_] = std::move(bytes);
      if (++hub_->arrived == hub_->size) {
        hub_->last = std::move(hub_->gathered);
        hub_->gathered.assign(hub_->size, Bytes());
        hub_->arrived = 0;
        ++hub_->round;
        hub_->gathered_all.notify_all();
      } else {
        hub_->gathered_all.wait(lock, [&] { return hub_->round != round; });
      }
      return hub_->last;
    }

   private:
    std::shared_ptr<Hub> hub_;
    std::size_t rank_;
  };

  std::shared_ptr<Hub> hub_;
  std::vector<std::shared_ptr<Rank>> ranks_;
  std::thread pump_;
};

}  // namespace aetherflow::testing
