#include <nodes/progress_bar.hpp>

#include <sys/ioctl.h>
#include <unistd.h>

#include <algorithm>
#include <charconv>
#include <chrono>
#include <cstdlib>
#include <cstring>
#include <optional>
#include <string_view>
#include <vector>

#include <fmt/format.h>

namespace aetherflow {
namespace {

constexpr std::size_t kWidestBar = 20;    // cells between the brackets
constexpr std::size_t kNarrowBar = 10;    // below this, the details go before the bar shrinks
constexpr std::size_t kNarrowestBar = 5;  // below this, no bar
constexpr std::size_t kBarFrame = 3;      // "[", "]" and the space after

std::string bytes_text(double bytes) {
  static constexpr const char* units[] = {"B", "KiB", "MiB", "GiB", "TiB"};
  int unit = 0;
  while (bytes >= 1024 && unit < 4) {
    bytes /= 1024;
    ++unit;
  }
  return fmt::format("{:.1f} {}", bytes, units[unit]);
}

std::string count_text(double n) {
  if (n >= 1e9) return fmt::format("{:.1f} G", n / 1e9);
  if (n >= 1e6) return fmt::format("{:.1f} M", n / 1e6);
  if (n >= 1e3) return fmt::format("{:.1f} k", n / 1e3);
  return fmt::format("{:.0f}", n);
}

std::string duration_text(std::chrono::nanoseconds d) {
  const auto s = std::chrono::duration_cast<std::chrono::seconds>(d).count();
  if (s >= 3600) return fmt::format("{}:{:02}:{:02}", s / 3600, s / 60 % 60, s % 60);
  return fmt::format("{}:{:02}", s / 60, s % 60);
}

// Labels are often file names, so a UTF-8 character counts as one column, not its bytes.
bool starts_character(char c) {
  return (static_cast<unsigned char>(c) & 0xC0) != 0x80;
}

std::size_t columns_of(std::string_view text) {
  return static_cast<std::size_t>(std::count_if(text.begin(), text.end(), starts_character));
}

// The first `columns` characters of `text`.
std::string first_columns(std::string_view text, std::size_t columns) {
  std::size_t seen = 0;
  for (std::size_t i = 0; i < text.size(); ++i)
    if (starts_character(text[i]) && seen++ == columns) return std::string(text.substr(0, i));
  return std::string(text);
}

// A part of the line that goes when the line is too wide: the lowest rank first.
struct Detail {
  std::string text;
  int rank;
};
constexpr int kEveryDetailKept = 0;
constexpr int kNoDetailKept = 5;

// The parts of a line, and the line they make with a bar `bar` cells wide (0: none) and the
// details of rank `least_kept` and above.
struct Parts {
  std::string label;
  std::optional<double> fraction;  // a bar and a percentage, when the total is known
  std::vector<Detail> details;     // in the order they are drawn
  std::string time;                // the ETA, or at the end how long the run took

  std::string text(std::size_t bar, int least_kept) const {
    std::string head = label;
    const auto add = [](std::string& to, std::string_view gap, const std::string& part) {
      if (!to.empty()) to += gap;
      to += part;
    };
    if (fraction) {
      if (bar > 0) {
        const auto filled = std::clamp(
            static_cast<std::size_t>(*fraction * static_cast<double>(bar)), std::size_t{0}, bar);
        std::string cells(bar, '.');
        std::fill_n(cells.begin(), filled, '#');
        add(head, " ", fmt::format("[{}]", cells));
      }
      add(head, " ", fmt::format("{:.1f}%", *fraction * 100));
    }
    for (const Detail& detail : details)
      if (detail.rank >= least_kept) add(head, "  ", detail.text);
    if (!time.empty()) add(head, "  ", time);
    return head;
  }
};

Parts parts_of(const std::string& label, const Progress& p) {
  Parts parts{label, p.fraction(), {}, {}};
  if (parts.fraction)
    parts.details.push_back({bytes_text(static_cast<double>(p.bytes)) + " / " +
                                 bytes_text(static_cast<double>(*p.total_bytes)),
                             4});
  else if (p.bytes > 0)
    parts.details.push_back({bytes_text(static_cast<double>(p.bytes)), 4});
  if (p.bytes > 0) parts.details.push_back({bytes_text(p.bytes_per_second) + "/s", 2});
  parts.details.push_back({count_text(static_cast<double>(p.items)) + " items", 3});
  parts.details.push_back({count_text(p.items_per_second) + " items/s", 1});
  if (p.done)
    parts.time = "in " + duration_text(p.elapsed);
  else if (p.eta)
    parts.time = "ETA " + duration_text(*p.eta);
  return parts;
}

// The widest line of `parts` within `limit` columns, giving up parts in the order the header
// describes.
std::string fit(Parts parts, std::size_t limit) {
  std::size_t room = 0;  // for the bar's cells, with every detail dropped
  for (int least_kept = kEveryDetailKept; least_kept <= kNoDetailKept; ++least_kept) {
    const std::string without_bar = parts.text(0, least_kept);
    const std::size_t used = columns_of(without_bar) + (parts.fraction ? kBarFrame : 0);
    room = limit > used ? limit - used : 0;
    if (!parts.fraction && used <= limit) return without_bar;
    if (parts.fraction && room >= kNarrowBar)
      return parts.text(std::min(room, kWidestBar), least_kept);
  }
  if (parts.fraction && room >= kNarrowestBar) return parts.text(room, kNoDetailKept);

  std::string text = parts.text(0, kNoDetailKept);
  const std::size_t width = columns_of(text), label = columns_of(parts.label);
  if (width <= limit) return text;
  if (label > width - limit + 1) {  // room for a shortened label, marked by '~'
    parts.label = first_columns(parts.label, label - (width - limit) - 1) + "~";
    return parts.text(0, kNoDetailKept);
  }
  parts.label.clear();
  return first_columns(parts.text(0, kNoDetailKept), limit);
}

}  // namespace

std::size_t terminal_columns() {
  winsize size{};
  if (::ioctl(STDERR_FILENO, TIOCGWINSZ, &size) == 0 && size.ws_col > 0) return size.ws_col;
  if (const char* columns = std::getenv("COLUMNS")) {
    std::size_t n = 0;
    const char* end = columns + std::strlen(columns);
    const auto [last, error] = std::from_chars(columns, end, n);
    if (error == std::errc() && last == end && n > 0) return n;
  }
  return 80;
}

ProgressBar::ProgressBar(std::string label)
    : label_(std::move(label)), terminal_(::isatty(STDERR_FILENO) == 1) {}

std::string ProgressBar::line(const Progress& p, std::size_t columns) const {
  return fit(parts_of(label_, p), columns > 0 ? columns - 1 : 0);
}

void ProgressBar::operator()(const Progress& p) const {
  if (!terminal_) return;
  // Back to the start of the line and clear it, so a shorter line (after a resize, say)
  // leaves nothing of the longer one behind.
  const std::string text = "\r\033[K" + line(p, terminal_columns()) + (p.done ? "\n" : "");
  std::fwrite(text.data(), 1, text.size(), stderr);
  std::fflush(stderr);
}

}  // namespace aetherflow
