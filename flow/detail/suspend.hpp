#pragma once
// Whether a retry delay suspends its call (oneTBB resumable tasks), leaving the worker thread
// to other work. AddressSanitizer and ThreadSanitizer cannot follow the stack switches oneTBB
// makes for that (google/sanitizers#189: false stack-buffer-overflow reports), so sanitized
// builds block the worker for the delay instead; oneTBB's own headers make the same choice
// (__TBB_RESUMABLE_TASKS_USE_THREADS).

namespace aetherflow::detail {

#if defined(__SANITIZE_ADDRESS__) || defined(__SANITIZE_THREAD__)
inline constexpr bool kSuspendingWaits = false;
#elif defined(__has_feature)
#if __has_feature(address_sanitizer) || __has_feature(thread_sanitizer)
inline constexpr bool kSuspendingWaits = false;
#else
inline constexpr bool kSuspendingWaits = true;
#endif
#else
inline constexpr bool kSuspendingWaits = true;
#endif

}  // namespace aetherflow::detail
