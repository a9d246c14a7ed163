#pragma once
// RunOptions::stop_on_signals: while a SignalWatch lives, SIGINT and SIGTERM reach its
// callback, on a thread of the watch's, with the signal and how many this watch has seen. The
// handler itself only writes the signal's number to a pipe (all a handler may safely do); the
// thread reads it. Watches may overlap (two runs at once): every live watch sees every
// signal. The first watch installs the handlers, the last restores the ones before it.

#include <functional>

namespace aetherflow::detail {

class SignalWatch {
 public:
  using OnSignal = std::function<void(int signal, int count)>;
  explicit SignalWatch(OnSignal on_signal);
  ~SignalWatch();
  SignalWatch(const SignalWatch&) = delete;
  SignalWatch& operator=(const SignalWatch&) = delete;

  // What a report says of the signal: "SIGINT", "SIGTERM".
  static const char* name(int signal) noexcept;

 private:
  friend class SignalDispatcher;
  OnSignal on_signal_;
  int seen_ = 0;  // guarded by the dispatcher's mutex
};

}  // namespace aetherflow::detail
