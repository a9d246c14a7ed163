#include <examples/removed_on_signal.hpp>

#include <limits.h>
#include <signal.h>
#include <unistd.h>

#include <atomic>
#include <cstring>
#include <mutex>
#include <stdexcept>

namespace aetherflow::examples {
namespace {

// A signal handler may only read memory that is already there and lock-free atomics, so the
// paths live in fixed slots, each published by its state once its path is written.
enum State : int { kFree, kWriting, kPublished };
struct Slot {
  std::atomic<int> state{kFree};
  char path[PATH_MAX];
};
static_assert(std::atomic<int>::is_always_lock_free);
constexpr std::size_t kSlots = 8;  // an example generates one input at a time
Slot slots[kSlots];

extern "C" void remove_and_reraise(int signal) {
  for (Slot& slot : slots)
    if (slot.state.load() == kPublished) ::unlink(slot.path);
  ::signal(signal, SIG_DFL);
  ::raise(signal);
}

void install_handlers() {
  for (const int signal : {SIGINT, SIGTERM}) {
    struct sigaction current {};
    ::sigaction(signal, nullptr, &current);
    if (current.sa_handler == SIG_IGN) continue;
    struct sigaction action {};
    action.sa_handler = remove_and_reraise;
    ::sigemptyset(&action.sa_mask);
    ::sigaction(signal, &action, nullptr);
  }
}

}  // namespace

RemovedOnSignal::RemovedOnSignal(const std::string& path) : slot_(kSlots) {
  static std::once_flag installed;
  std::call_once(installed, install_handlers);
  if (path.size() >= PATH_MAX) throw std::length_error("path too long: '" + path + "'");
  for (std::size_t i = 0; i < kSlots && slot_ == kSlots; ++i) {
    int expected = kFree;
    if (slots[i].state.compare_exchange_strong(expected, kWriting)) slot_ = i;
  }
  if (slot_ == kSlots) throw std::logic_error("more than 8 files to remove on a signal");
  std::memcpy(slots[slot_].path, path.c_str(), path.size() + 1);
  slots[slot_].state.store(kPublished);
}

RemovedOnSignal::~RemovedOnSignal() {
  slots[slot_].state.store(kFree);
}

}  // namespace aetherflow::examples
