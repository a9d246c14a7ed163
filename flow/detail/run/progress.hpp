#pragma once
// A run's progress reports (RunOptions::progress): each source publishes where it is, and the
// first source to find the interval passed reports the sum.

#include <atomic>
#include <chrono>
#include <cstdint>
#include <deque>
#include <functional>
#include <mutex>
#include <vector>

#include <flow/options.hpp>
#include <flow/source.hpp>

namespace aetherflow::detail {

class RunProgress {
 public:
  RunProgress(const RunOptions& options, std::chrono::steady_clock::time_point start)
      : options_(options), start_(start) {}

  // Where one source is, published by its body for reports made on any thread.
  class Source {
   public:
    void publish(std::uint64_t items, const SourcePosition& position) noexcept;

   private:
    friend class RunProgress;
    std::atomic<std::uint64_t> items_{0}, bytes_{0};
    std::atomic<std::int64_t> total_bytes_{-1};  // -1: unknown
  };
  Source& add_source() { return sources_.emplace_back(); }

  Progress now(bool done) const;
  // Reports if the interval has passed since the last report; one source at a time.
  void maybe_report();
  // What fills Progress::nodes: names, counts and operations in flight, from the parts of the
  // run above this one (the executor). The rates are worked out here.
  void watch_nodes(std::function<void(std::vector<NodeProgress>&)> fill) {
    fill_nodes_ = std::move(fill);
  }
  // The last report, when the run is done.
  void report_done() const {
    if (options_.progress) options_.progress(now(true));
  }

 private:
  const RunOptions& options_;
  const std::chrono::steady_clock::time_point start_;
  void add_nodes(Progress& p) const;

  std::deque<Source> sources_;
  std::atomic<std::int64_t> last_report_{0};
  std::function<void(std::vector<NodeProgress>&)> fill_nodes_;
  // Each node's `out` and the time at the last report, for the rates.
  mutable std::mutex nodes_mutex_;
  mutable std::vector<std::uint64_t> last_out_;
  mutable std::chrono::nanoseconds last_elapsed_{0};
};

}  // namespace aetherflow::detail
