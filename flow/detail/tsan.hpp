#pragma once
// Happens-before edges ThreadSanitizer cannot see on its own. oneTBB's scheduler lives in
// libtbb.so, which Debian builds without TSan: a task spawned on one thread and run on another,
// or the end of graph.wait_for_all(), synchronise inside that library, out of TSan's sight.
// Without these annotations every batch handed between nodes is a false data race. With
// them, TSan sees exactly the edges oneTBB guarantees, and no more:
//   - a batch put into the graph (hand_over) happens before a node reads it (take_over);
//   - one call of a serial node happens before the next (oneTBB runs them one at a time);
//   - every call happens before wait_for_all returns.
// Races between calls that oneTBB may run at the same time stay visible. In other builds
// these are empty inline functions.

namespace aetherflow::detail {

#if defined(__SANITIZE_THREAD__)
#define AETHERFLOW_TSAN 1
#elif defined(__has_feature)
#if __has_feature(thread_sanitizer)
#define AETHERFLOW_TSAN 1
#endif
#endif

#ifdef AETHERFLOW_TSAN
extern "C" void __tsan_acquire(void* addr);
extern "C" void __tsan_release(void* addr);
inline void hand_over(const void* sync) {
  __tsan_release(const_cast<void*>(sync));
}
inline void take_over(const void* sync) {
  __tsan_acquire(const_cast<void*>(sync));
}
#else
inline void hand_over(const void*) {}
inline void take_over(const void*) {}
#endif

}  // namespace aetherflow::detail
