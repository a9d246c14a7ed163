#pragma once
// A terminal progress bar for RunOptions::progress. It draws on stderr, and only when stderr
// is a terminal, so logs and pipes stay clean:
//
//   flow.run({.progress = aetherflow::ProgressBar("access.log")});
//
//   access.log [#########.........] 51.2%  1.2 GiB / 2.4 GiB  3.9 M items  ETA 0:03
//
// (80 columns; 120 columns also show 410.0 MiB/s and 5.1 M items/s, and 40 columns this:)
//
//   access.log [#####.....] 51.2%  ETA 0:03
//
// The line always fits the terminal, so each update redraws it in place. Each draw reads the
// terminal's width again (a resized window is redrawn to its new width) and gives up parts of
// the line as it narrows: first the bar narrows to 10 cells, then items/s, bytes/s, the item
// count and the byte counts go, then the bar narrows further and goes, then the label is
// shortened (ending in '~'). The percentage and the ETA stay.

#include <cstddef>
#include <string>

#include <flow/options.hpp>

namespace aetherflow {

class ProgressBar {
 public:
  explicit ProgressBar(std::string label = {});
  // Draws the bar for `progress` (no-op when not a terminal); a final report ends the line.
  void operator()(const Progress& progress) const;
  // The line drawn for `progress` on a terminal `columns` wide: at most columns - 1 columns
  // (the last column would wrap on some terminals), without the carriage return.
  std::string line(const Progress& progress, std::size_t columns) const;

 private:
  std::string label_;
  bool terminal_;
};

// The width of the terminal on stderr: its window size, else $COLUMNS, else 80.
std::size_t terminal_columns();

}  // namespace aetherflow
