#include <nodes/progress_bar.hpp>

#include <unistd.h>

#include <algorithm>
#include <chrono>

#include <fmt/format.h>

namespace aetherflow {
namespace {

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
  return fmt::format("{:.0f} ", n);
}

std::string duration_text(std::chrono::nanoseconds d) {
  const auto s = std::chrono::duration_cast<std::chrono::seconds>(d).count();
  if (s >= 3600) return fmt::format("{}:{:02}:{:02}", s / 3600, s / 60 % 60, s % 60);
  return fmt::format("{}:{:02}", s / 60, s % 60);
}

}  // namespace

ProgressBar::ProgressBar(std::string label)
    : label_(std::move(label)), terminal_(::isatty(STDERR_FILENO) == 1) {}

std::string ProgressBar::line(const Progress& p) const {
  std::string text = label_.empty() ? "" : label_ + " ";
  if (auto fraction = p.fraction()) {
    constexpr int width = 20;
    const int filled = std::clamp(static_cast<int>(*fraction * width), 0, width);
    text += fmt::format("[{}{}] {:5.1f}%  {} / {}  ", std::string(filled, '#'),
                        std::string(width - filled, '.'), *fraction * 100,
                        bytes_text(static_cast<double>(p.bytes)),
                        bytes_text(static_cast<double>(*p.total_bytes)));
  } else if (p.bytes > 0) {
    text += bytes_text(static_cast<double>(p.bytes)) + "  ";
  }
  if (p.bytes > 0) text += bytes_text(p.bytes_per_second) + "/s  ";
  text += fmt::format("{}items  {}items/s  ", count_text(static_cast<double>(p.items)),
                      count_text(p.items_per_second));
  if (p.done)
    text += "in " + duration_text(p.elapsed);
  else if (p.eta)
    text += "ETA " + duration_text(*p.eta);
  return text;
}

void ProgressBar::operator()(const Progress& p) const {
  if (!terminal_) return;
  std::fprintf(stderr, "\r%s\033[K%s", line(p).c_str(), p.done ? "\n" : "");
  std::fflush(stderr);
}

}  // namespace aetherflow
