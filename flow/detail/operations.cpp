#include <flow/detail/operations.hpp>

#include <algorithm>

#include <fmt/format.h>

#include <flow/completion.hpp>
#include <flow/detail/duration_text.hpp>

namespace aetherflow::detail {

// At most this many in-flight samples per run: past it, every other one is dropped and the
// interval doubles, so a long run keeps samples spread over all of it.
constexpr std::size_t kMaxInFlightSamples = 4096;

void OperationGate::begin_run(std::size_t limit, OperationClock::time_point start) {
  std::lock_guard lock(mutex_);
  limit_ = std::max<std::size_t>(limit, 1);
  peak_ = in_flight_;
  started_ = completed_ = timed_out_ = abandoned_ = late_ = 0;
  latency_ = Histogram();
  start_ = last_sample_ = start;
  sample_every_ = std::chrono::milliseconds(1);
  samples_.clear();
}

bool OperationGate::try_acquire(const std::shared_ptr<Wakeup>& waiter) {
  const auto now = OperationClock::now();
  std::lock_guard lock(mutex_);
  if (in_flight_ < limit_) {
    ++in_flight_;
    took_slot(now);
    return true;
  }
  if (std::find(waiters_.begin(), waiters_.end(), waiter) == waiters_.end())
    waiters_.push_back(waiter);
  return false;
}

void OperationGate::leave(const Wakeup& waiter) {
  std::lock_guard lock(mutex_);
  std::erase_if(waiters_, [&](const auto& w) { return w.get() == &waiter; });
  if (in_flight_ < limit_) wake_next();
}

void OperationGate::release(std::optional<std::chrono::nanoseconds> latency,
                            std::uint64_t& counter) {
  const auto now = OperationClock::now();
  std::lock_guard lock(mutex_);
  --in_flight_;
  ++counter;
  if (latency) latency_.record(static_cast<std::uint64_t>(latency->count()));
  sample(now);
  wake_next();
}

void OperationGate::count_late() {
  std::lock_guard lock(mutex_);
  ++late_;
}

void OperationGate::took_slot(OperationClock::time_point now) {
  ++started_;
  peak_ = std::max(peak_, in_flight_);
  sample(now);
}

void OperationGate::sample(OperationClock::time_point now) {
  if (now - last_sample_ < sample_every_ && !samples_.empty()) return;
  last_sample_ = now;
  const auto at = std::chrono::duration_cast<std::chrono::nanoseconds>(now - start_);
  samples_.push_back(
      {static_cast<std::uint64_t>(at.count()), static_cast<std::uint32_t>(in_flight_)});
  if (samples_.size() < kMaxInFlightSamples) return;
  std::size_t kept = 0;
  for (std::size_t i = 0; i < samples_.size(); i += 2) samples_[kept++] = samples_[i];
  samples_.resize(kept);
  sample_every_ *= 2;
}

// The first waiter is fired and leaves the queue: it takes the slot, or (woken for something
// else meanwhile) passes it on through leave().
void OperationGate::wake_next() {
  if (waiters_.empty()) return;
  const auto next = std::move(waiters_.front());
  waiters_.pop_front();
  next->fire();
}

OperationsReport OperationGate::report() const {
  std::lock_guard lock(mutex_);
  return {limit_, peak_, started_, completed_, timed_out_, abandoned_, late_};
}

std::size_t OperationGate::in_flight_now() const {
  std::lock_guard lock(mutex_);
  return in_flight_;
}

Histogram OperationGate::latency() const {
  std::lock_guard lock(mutex_);
  return latency_;
}

std::vector<InFlightSample> OperationGate::in_flight() const {
  std::lock_guard lock(mutex_);
  return samples_;
}

OperationsBase::OperationsBase(std::shared_ptr<OperationGate> gate, std::size_t items,
                               std::string node)
    : gate_(std::move(gate)), node_(std::move(node)), ops_(items) {}

std::uint32_t OperationsBase::begin(std::size_t i) {
  std::lock_guard lock(mutex_);
  Op& op = ops_[i];
  op.state = State::running;
  op.started = OperationClock::now();
  op.error = nullptr;
  ++running_;
  return ++op.attempt;
}

void OperationsBase::ended(std::size_t i, std::exception_ptr error,
                           std::unique_lock<std::mutex>& lock) {
  Op& op = ops_[i];
  const auto latency = OperationClock::now() - op.started;
  op.state = error ? State::failed : State::succeeded;
  op.error = std::move(error);
  --running_;
  if (op.error) ++undecided_;
  const bool wake = op.error || running_ == 0;
  // Under the lock (ops, then gate): a call that finds itself settled and reports finds the
  // slot freed and counted too.
  gate_->release_completed(latency);
  lock.unlock();
  if (wake) wakeup_->fire();
}

std::vector<OperationsBase::Failed> OperationsBase::take_failed(std::chrono::nanoseconds timeout) {
  std::vector<Failed> failed;
  std::size_t timed_out = 0;
  {
    const auto now = OperationClock::now();
    std::lock_guard lock(mutex_);
    for (std::size_t i = 0; i < ops_.size(); ++i) {
      Op& op = ops_[i];
      if (op.state == State::running && timeout.count() > 0 && now - op.started >= timeout) {
        op.error = std::make_exception_ptr(OperationTimedOut(
            fmt::format("node '{}': the operation did not complete within its timeout of {}", node_,
                        duration_text(static_cast<std::uint64_t>(timeout.count())))));
        op.state = State::failed;
        --running_;
        ++undecided_;
        ++timed_out;
      }
      if (op.state != State::failed) continue;
      op.state = State::deciding;
      --undecided_;
      failed.push_back({i, op.attempt, op.error});
    }
  }
  for (; timed_out > 0; --timed_out) gate_->release_timed_out();
  return failed;
}

OperationClock::time_point OperationsBase::next_timeout(std::chrono::nanoseconds timeout) const {
  auto next = OperationClock::time_point::max();
  if (timeout.count() <= 0) return next;
  std::lock_guard lock(mutex_);
  for (const Op& op : ops_)
    if (op.state == State::running) next = std::min(next, op.started + timeout);
  return next;
}

bool OperationsBase::settled() const {
  std::lock_guard lock(mutex_);
  return running_ == 0 && undecided_ == 0;
}

bool OperationsBase::succeeded(std::size_t i) const {
  std::lock_guard lock(mutex_);
  return ops_[i].state == State::succeeded;
}

void OperationsBase::close() {
  std::size_t abandoned = 0;
  {
    std::lock_guard lock(mutex_);
    closed_ = true;
    for (Op& op : ops_) {
      if (op.state != State::running) continue;
      op.state = State::abandoned;
      ++abandoned;
    }
    running_ = 0;
  }
  for (; abandoned > 0; --abandoned) gate_->release_abandoned();
  gate_->leave(*wakeup_);
}

bool OperationsBase::stop_requested(std::size_t i, std::uint32_t attempt) const {
  std::lock_guard lock(mutex_);
  return closed_ || !awaited(i, attempt);
}

}  // namespace aetherflow::detail
