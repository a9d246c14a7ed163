#pragma once
// A run's progress reports (RunOptions::progress): each source publishes where it is, and the
// first source to find the interval passed reports the sum.

#include <atomic>
#include <chrono>
#include <cstdint>
#include <deque>

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
  // The last report, when the run is done.
  void report_done() const {
    if (options_.progress) options_.progress(now(true));
  }

 private:
  const RunOptions& options_;
  const std::chrono::steady_clock::time_point start_;
  std::deque<Source> sources_;
  std::atomic<std::int64_t> last_report_{0};
};

}  // namespace aetherflow::detail
