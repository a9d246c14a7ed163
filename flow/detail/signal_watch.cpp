#include <flow/detail/signal_watch.hpp>

#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <csignal>
#include <mutex>
#include <system_error>
#include <thread>
#include <vector>

namespace aetherflow::detail {
namespace {

constexpr int kSignals[] = {SIGINT, SIGTERM};
constexpr unsigned char kQuit = 0;  // written by the last watch to go: the thread ends

// The write end, read by the handler on whichever thread the signal lands: a lock-free
// atomic, which a handler may read.
std::atomic<int> signal_pipe{-1};
static_assert(std::atomic<int>::is_always_lock_free);

extern "C" void on_signal(int signal) {
  const int saved = errno;  // a handler must leave errno as it found it
  const auto byte = static_cast<unsigned char>(signal);
  [[maybe_unused]] const ssize_t written = ::write(signal_pipe.load(), &byte, 1);
  errno = saved;
}

}  // namespace

// The process's one pipe, thread and set of handlers, alive while a watch is.
class SignalDispatcher {
 public:
  static SignalDispatcher& instance() {
    static SignalDispatcher dispatcher;
    return dispatcher;
  }

  void add(SignalWatch& watch) {
    std::lock_guard lock(mutex_);
    if (watches_.empty()) start();
    watches_.push_back(&watch);
  }

  void remove(SignalWatch& watch) {
    std::thread ending;
    int fds[2];
    {
      std::lock_guard lock(mutex_);
      watches_.erase(std::find(watches_.begin(), watches_.end(), &watch));
      if (!watches_.empty()) return;
      for (std::size_t i = 0; i < std::size(kSignals); ++i)
        ::sigaction(kSignals[i], &before_[i], nullptr);
      signal_pipe.store(-1);
      [[maybe_unused]] const ssize_t written = ::write(fds_[1], &kQuit, 1);
      ending = std::move(thread_);
      fds[0] = fds_[0];
      fds[1] = fds_[1];
    }
    // Outside the lock, which the thread may be waiting for with a signal read before the
    // quit; a watch added meanwhile has a pipe and a thread of its own.
    ending.join();
    ::close(fds[0]);
    ::close(fds[1]);
  }

 private:
  void start() {
    if (::pipe2(fds_, O_CLOEXEC) != 0)
      throw std::system_error(errno, std::generic_category(), "stop_on_signals: pipe");
    signal_pipe.store(fds_[1]);
    struct sigaction action = {};
    action.sa_handler = on_signal;
    ::sigemptyset(&action.sa_mask);
    action.sa_flags = SA_RESTART;
    for (std::size_t i = 0; i < std::size(kSignals); ++i)
      ::sigaction(kSignals[i], &action, &before_[i]);
    thread_ = std::thread([this, in = fds_[0]] { deliver(in); });
  }

  void deliver(int in) {
    for (;;) {
      unsigned char signal = kQuit;
      const ssize_t got = ::read(in, &signal, 1);
      if (got < 0 && errno == EINTR) continue;
      if (got <= 0 || signal == kQuit) return;
      std::lock_guard lock(mutex_);
      for (SignalWatch* watch : watches_) watch->on_signal_(signal, ++watch->seen_);
    }
  }

  std::mutex mutex_;
  std::vector<SignalWatch*> watches_;
  int fds_[2] = {-1, -1};
  struct sigaction before_[std::size(kSignals)] = {};
  std::thread thread_;
};

SignalWatch::SignalWatch(OnSignal on_signal) : on_signal_(std::move(on_signal)) {
  SignalDispatcher::instance().add(*this);
}

SignalWatch::~SignalWatch() {
  SignalDispatcher::instance().remove(*this);
}

const char* SignalWatch::name(int signal) noexcept {
  return signal == SIGINT ? "SIGINT" : signal == SIGTERM ? "SIGTERM" : "a signal";
}

}  // namespace aetherflow::detail
