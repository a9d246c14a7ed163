#pragma once
// Generated inputs do not outlive an interrupted program: on SIGINT (Ctrl-C) or SIGTERM, every
// registered file is unlinked, then the program ends as the signal would have ended it (so a
// shell still sees "killed by SIGINT"). Normal exits remove the files their own way.

#include <cstddef>
#include <string>

namespace aetherflow::examples {

// `path` is removed if SIGINT or SIGTERM arrives while this lives. The first one installs the
// handlers, except for a signal that was ignored when the program started (nohup, a script's
// background job): that one stays ignored.
class RemovedOnSignal {
 public:
  explicit RemovedOnSignal(const std::string& path);
  RemovedOnSignal(const RemovedOnSignal&) = delete;
  RemovedOnSignal& operator=(const RemovedOnSignal&) = delete;
  ~RemovedOnSignal();

 private:
  std::size_t slot_;
};

}  // namespace aetherflow::examples
