#include <flow/detail/wakeup.hpp>

#include <utility>

#include <oneapi/tbb/task.h>

#include <flow/detail/suspend.hpp>

namespace aetherflow::detail {

using SuspendPoint = oneapi::tbb::task::suspend_point;

void Wakeup::fire() {
  std::unique_lock lock(mutex_);
  if (suspended_) {
    auto* tag = static_cast<SuspendPoint>(std::exchange(suspended_, nullptr));
    lock.unlock();
    oneapi::tbb::task::resume(tag);
    return;
  }
  fired_ = true;
  fired_cv_.notify_all();
}

void Wakeup::wait() {
  std::unique_lock lock(mutex_);
  if constexpr (kSuspendingWaits) {
    if (std::exchange(fired_, false)) return;
    lock.unlock();
    // The fire() may come between the check above and the suspension: the callback looks
    // again, and resumes at once if it did. oneTBB allows resume() inside the callback.
    oneapi::tbb::task::suspend([this](SuspendPoint tag) {
      std::unique_lock held(mutex_);
      if (std::exchange(fired_, false)) {
        held.unlock();
        oneapi::tbb::task::resume(tag);
        return;
      }
      suspended_ = tag;
    });
  } else {
    fired_cv_.wait(lock, [this] { return fired_; });
    fired_ = false;
  }
}

}  // namespace aetherflow::detail
