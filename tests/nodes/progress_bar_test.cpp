// The progress bar fits the terminal: its line never reaches the last column, whatever the
// label and the numbers, it keeps the percentage and the ETA, and on a real (pseudo-)terminal
// a whole run redraws one line in place, at the width the terminal has at each draw.
#include <flow/aetherflow.hpp>

#include <poll.h>
#include <pty.h>
#include <sys/ioctl.h>
#include <termios.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <memory>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

#include <gtest/gtest.h>

#include "../support/temp_file.hpp"

namespace aetherflow {
namespace {

using namespace std::chrono_literals;

const std::string kLongLabel(60, 'x');

// Half of a big file, at big rates: every number takes its widest form.
Progress big_progress() {
  Progress p;
  p.items = 3'900'000'000;
  p.bytes = 1'300'000'000'000;
  p.total_bytes = 2'600'000'000'000;
  p.elapsed = 3600s;
  p.items_per_second = 5'100'000'000;
  p.bytes_per_second = 410e9;
  p.eta = 3600s + 3min + 4s;
  return p;
}

// Columns of UTF-8 text: one per character.
std::size_t columns_of(std::string_view text) {
  return static_cast<std::size_t>(std::count_if(text.begin(), text.end(), [](char c) {
    return (static_cast<unsigned char>(c) & 0xC0) != 0x80;
  }));
}

bool has(const std::string& text, std::string_view part) {
  return text.find(part) != std::string::npos;
}

TEST(ProgressBar, LineFitsBelowTheLastColumn) {
  for (const std::size_t columns : {120, 80, 40, 20, 10, 2}) {
    for (const std::string& label : {std::string("access.log"), kLongLabel}) {
      const std::string line = ProgressBar(label).line(big_progress(), columns);
      EXPECT_LE(columns_of(line), columns - 1) << columns << " columns: " << line;
    }
  }
  EXPECT_EQ(ProgressBar("x").line(big_progress(), 1), "");
}

TEST(ProgressBar, KeepsThePercentageAndTheEtaWhenNarrow) {
  for (const std::size_t columns : {120, 80, 40}) {
    const std::string line = ProgressBar(kLongLabel).line(big_progress(), columns);
    EXPECT_TRUE(has(line, "50.0%")) << line;
    EXPECT_TRUE(has(line, "ETA 1:03:04")) << line;
  }
}

TEST(ProgressBar, GivesUpItemsPerSecondThenBytesPerSecondBeforeTheBar) {
  const ProgressBar bar("access.log");
  const std::string wide = bar.line(big_progress(), 200);
  EXPECT_TRUE(has(wide, "[##########..........]")) << wide;
  EXPECT_TRUE(has(wide, "5.1 G items/s")) << wide;
  EXPECT_TRUE(has(wide, "381.8 GiB/s")) << wide;

  const std::string at80 = bar.line(big_progress(), 80);
  EXPECT_FALSE(has(at80, "items/s")) << at80;
  EXPECT_FALSE(has(at80, "GiB/s")) << at80;
  EXPECT_TRUE(has(at80, "1.2 TiB / 2.4 TiB")) << at80;
  EXPECT_TRUE(has(at80, "[#####")) << at80;
  EXPECT_EQ(columns_of(at80), 79u) << at80;  // the bar takes what the details leave

  const std::string at40 = bar.line(big_progress(), 40);
  EXPECT_EQ(at40, "access.log [###....] 50.0%  ETA 1:03:04");  // the bar goes last
}

// The lines of nodes/progress_bar.hpp and docs/streaming.md.
TEST(ProgressBar, DrawsTheDocumentedLines) {
  Progress p;
  p.total_bytes = 2'576'980'378;  // 2.4 GiB
  p.bytes = 1'319'413'953;        // 51.2% of it
  p.bytes_per_second = 410 << 20;
  p.items = 3'900'000;
  p.items_per_second = 5'100'000;
  p.eta = 3s;
  const ProgressBar bar("access.log");
  EXPECT_EQ(bar.line(p, 120),
            "access.log [##########..........] 51.2%  1.2 GiB / 2.4 GiB  410.0 MiB/s  3.9 M items  "
            "5.1 M items/s  ETA 0:03");
  EXPECT_EQ(bar.line(p, 80),
            "access.log [#########.........] 51.2%  1.2 GiB / 2.4 GiB  3.9 M items  ETA 0:03");
  EXPECT_EQ(bar.line(p, 40), "access.log [#####.....] 51.2%  ETA 0:03");
}

TEST(ProgressBar, ShortensTheLabelLastMarkingTheCut) {
  const std::string line = ProgressBar(kLongLabel).line(big_progress(), 40);
  EXPECT_EQ(line, std::string(19, 'x') + "~ 50.0%  ETA 1:03:04");
  // A label of two-byte characters is cut between characters, counted as one column each.
  std::string accents;
  for (int i = 0; i < 60; ++i) accents += "\xc3\xa9";  // é
  const std::string cut = ProgressBar(accents).line(big_progress(), 40);
  EXPECT_EQ(columns_of(cut), 39u) << cut;
  EXPECT_TRUE(has(cut, "\xc3\xa9~ 50.0%")) << cut;
}

TEST(ProgressBar, WithoutATotalKeepsTheDurationAtTheEnd) {
  Progress p;
  p.items = 500'000'000;
  p.items_per_second = 1e8;
  p.elapsed = 5s;
  p.done = true;
  const std::string line = ProgressBar(kLongLabel).line(p, 40);
  EXPECT_LE(columns_of(line), 39u) << line;
  EXPECT_TRUE(has(line, "in 0:05")) << line;
}

// stderr redirected to `fd` while this lives.
class StderrTo {
 public:
  explicit StderrTo(int fd) : saved_(::dup(STDERR_FILENO)) {
    std::fflush(stderr);
    ::dup2(fd, STDERR_FILENO);
  }
  StderrTo(const StderrTo&) = delete;
  StderrTo& operator=(const StderrTo&) = delete;
  ~StderrTo() {
    std::fflush(stderr);
    ::dup2(saved_, STDERR_FILENO);
    ::close(saved_);
  }

 private:
  int saved_;
};

TEST(TerminalColumns, FallsBackOnColumnsThenOn80) {
  std::FILE* file = std::tmpfile();  // not a terminal: no window size
  ASSERT_NE(file, nullptr);
  {
    const StderrTo redirect(::fileno(file));
    ::setenv("COLUMNS", "57", 1);
    EXPECT_EQ(terminal_columns(), 57u);
    ::setenv("COLUMNS", "wide", 1);
    EXPECT_EQ(terminal_columns(), 80u);
    ::unsetenv("COLUMNS");
    EXPECT_EQ(terminal_columns(), 80u);
  }
  std::fclose(file);
}

// A pseudo-terminal with stderr on its terminal side, read on the other side by a thread
// until everything written is read (or 20 s, so a broken bar fails instead of hanging).
class PseudoTerminal {
 public:
  explicit PseudoTerminal(unsigned short columns) {
    termios raw{};
    ::cfmakeraw(&raw);  // bytes arrive as written: no "\n" made "\r\n"
    winsize size{};
    size.ws_row = 24;
    size.ws_col = columns;
    if (::openpty(&master_, &slave_, nullptr, &raw, &size) != 0) std::abort();
    stderr_ = std::make_unique<StderrTo>(slave_);
    reader_ = std::thread([this] { read_until_drained(); });
  }
  PseudoTerminal(const PseudoTerminal&) = delete;
  PseudoTerminal& operator=(const PseudoTerminal&) = delete;
  ~PseudoTerminal() {
    drawing_over_ = true;
    stderr_.reset();
    if (reader_.joinable()) reader_.join();
    ::close(slave_);
    ::close(master_);
  }

  void resize(unsigned short columns) {
    winsize size{};
    size.ws_row = 24;
    size.ws_col = columns;
    ::ioctl(master_, TIOCSWINSZ, &size);
  }

  // Everything drawn; call once the drawing is over.
  std::string drawn() {
    drawing_over_ = true;
    reader_.join();
    return read_;
  }

 private:
  void read_until_drained() {
    const auto deadline = std::chrono::steady_clock::now() + 20s;
    while (std::chrono::steady_clock::now() < deadline) {
      pollfd ready{master_, POLLIN, 0};
      if (::poll(&ready, 1, 100) <= 0) {
        if (drawing_over_) break;  // and 100 ms without anything left to read
        continue;
      }
      char buffer[4096];
      const ssize_t n = ::read(master_, buffer, sizeof buffer);
      if (n <= 0) break;
      read_.append(buffer, static_cast<std::size_t>(n));
    }
  }

  int master_ = -1, slave_ = -1;
  std::unique_ptr<StderrTo> stderr_;
  std::atomic<bool> drawing_over_{false};
  std::thread reader_;
  std::string read_;
};

// The lines a terminal showed, one per "\r" redraw, without the clear-line escape; and
// whether every redraw cleared the line first.
struct Redraws {
  std::vector<std::string> lines;
  bool each_clears = true;
};

Redraws redraws_of(const std::string& drawn) {
  Redraws redraws;
  const std::string_view clear = "\033[K";
  std::size_t at = 0;
  while ((at = drawn.find('\r', at)) != std::string::npos) {
    ++at;
    const bool clears = drawn.compare(at, clear.size(), clear) == 0;
    redraws.each_clears &= clears;
    if (clears) at += clear.size();
    const std::size_t end = drawn.find_first_of("\r\n", at);
    redraws.lines.push_back(drawn.substr(at, end - at));
  }
  return redraws;
}

TEST(ProgressBarOnATerminal, DrawsAWholeRunOnOneLineAt80Columns) {
  std::string content;
  for (int i = 0; i < 50'000; ++i) content += "a line of the input, long enough to take a while\n";
  const testing::TempFile file(content);

  PseudoTerminal terminal(80);
  Flow flow("progress");
  flow.source("read", read_lines(file.path(), {.chunk_size = 4096})) >>
      flow.node("sink", [](std::string_view) {});
  flow.run({.progress = ProgressBar(kLongLabel), .progress_interval = 0ms});
  const std::string drawn = terminal.drawn();

  ASSERT_FALSE(drawn.empty());
  EXPECT_EQ(drawn.find('\n'), drawn.size() - 1) << "a line break before the end";
  const Redraws redraws = redraws_of(drawn);
  ASSERT_FALSE(redraws.lines.empty());
  EXPECT_TRUE(redraws.each_clears);
  for (const std::string& line : redraws.lines) EXPECT_LE(columns_of(line), 79u) << line;
  EXPECT_TRUE(has(redraws.lines.back(), "100.0%")) << redraws.lines.back();
}

TEST(ProgressBarOnATerminal, RedrawsAtTheNewWidthAfterAResize) {
  PseudoTerminal terminal(120);
  const ProgressBar bar(kLongLabel);
  bar(big_progress());
  terminal.resize(40);
  Progress done = big_progress();
  done.bytes = *done.total_bytes;
  done.done = true;
  bar(done);
  const Redraws redraws = redraws_of(terminal.drawn());

  ASSERT_EQ(redraws.lines.size(), 2u);
  EXPECT_TRUE(redraws.each_clears);
  EXPECT_GT(columns_of(redraws.lines[0]), 79u) << "drawn for 120 columns: " << redraws.lines[0];
  EXPECT_LE(columns_of(redraws.lines[0]), 119u) << redraws.lines[0];
  EXPECT_LE(columns_of(redraws.lines[1]), 39u) << redraws.lines[1];
  EXPECT_TRUE(has(redraws.lines[1], "100.0%")) << redraws.lines[1];
}

}  // namespace
}  // namespace aetherflow
