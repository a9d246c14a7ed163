#pragma once
// A call that waits for something another thread will tell it (an async node's operations
// completing, a retry's delay ending) without holding its worker: the call suspends its task
// (oneTBB resumable tasks, suspend.hpp) and fire() resumes it on whichever worker is free.
// Sanitized builds block the worker on a condition variable instead.
//
// Like an auto-reset event: a fire() with no call waiting is kept for the next wait(), which
// then returns at once, so a wake-up is never lost; several fire()s before a wait() count once.
// Waiters re-check what they wait for after waking (a wake-up may be spurious).

#include <condition_variable>
#include <memory>
#include <mutex>

namespace aetherflow::detail {

class Wakeup : public std::enable_shared_from_this<Wakeup> {
 public:
  Wakeup() = default;
  Wakeup(const Wakeup&) = delete;
  Wakeup& operator=(const Wakeup&) = delete;

  // From any thread: the waiting call resumes, or the next wait() returns at once.
  void fire();
  // Waits for a fire(), suspending the calling task where oneTBB can (inside a oneTBB task).
  void wait();

 private:
  std::mutex mutex_;
  std::condition_variable fired_cv_;  // sanitized builds
  bool fired_ = false;
  void* suspended_ = nullptr;  // the oneTBB suspend point of the waiting task, if any
};

}  // namespace aetherflow::detail
