#pragma once
// A terminal progress bar for RunOptions::progress. It draws on stderr, and only when stderr
// is a terminal, so logs and pipes stay clean:
//
//   flow.run({.progress = aetherflow::ProgressBar("access.log")});
//
//   access.log [##########..........]  51.2%  1.2 GiB / 2.4 GiB  410 MiB/s  3.9 M items/s  ETA 0:03

#include <cstdio>
#include <string>

#include <flow/options.hpp>

namespace aetherflow {

class ProgressBar {
 public:
  explicit ProgressBar(std::string label = {});
  // Draws the bar for `progress` (no-op when not a terminal); a final report ends the line.
  void operator()(const Progress& progress) const;
  // The line drawn for `progress`, without the carriage return.
  std::string line(const Progress& progress) const;

 private:
  std::string label_;
  bool terminal_;
};

}  // namespace aetherflow
