// A view from read_lines kept past its item reads a recycled chunk: poisoned under
// AddressSanitizer and in debug builds (contexts/detail/poison.hpp), so the misuse is caught.
#include <contexts/detail/poison.hpp>
#include <flow/aetherflow.hpp>

#include <string>
#include <string_view>

#include <gtest/gtest.h>

#include "../support/temp_file.hpp"

namespace aetherflow {
namespace {

using testing::TempFile;

// A std::string_view from read_lines kept past its item points into a chunk that went back to
// its pool. Under AddressSanitizer reading it is reported, during the run (many chunks later)
// as after it; a debug build reads the poison pattern once the run is over; release builds
// have no check.
TEST(ReadLinesDeathTest, AViewKeptPastItsItemIsCaught) {
#if !defined(AETHERFLOW_ASAN) && defined(NDEBUG)
  GTEST_SKIP() << "release builds do not poison recycled chunks";
#else
  std::string text;
  for (int i = 0; i < 2000; ++i) text += "line " + std::to_string(i) + "\n";
  TempFile file(text);
  // Keeps the view of the first line and, when `read_late`, reads it at the last line.
  auto keep_first_line = [&](Flow& flow, std::string_view& kept, bool read_late) {
    auto src = flow.source("read", read_lines(file.path(), {.chunk_size = 256}));
    auto keep = flow.node("keep", [&kept, read_late](std::string_view line) {
      if (kept.empty()) kept = line;
      if (read_late && line == "line 1999") {
        volatile char first = kept[0];  // the first chunk was handed back long ago
        (void)first;
      }
    });
    src >> keep;
    flow.run({.threads = 1, .batch_size = 8});
  };
#ifdef AETHERFLOW_ASAN
  GTEST_FLAG_SET(death_test_style, "threadsafe");
  EXPECT_DEATH(
      {
        Flow flow("keeps_views");
        std::string_view kept;
        keep_first_line(flow, kept, true);
      },
      "use-after-poison|heap-use-after-free");
  EXPECT_DEATH(
      {
        Flow flow("keeps_views");  // alive: its pool keeps the idle chunks, poisoned
        std::string_view kept;
        keep_first_line(flow, kept, false);
        volatile char first = kept[0];
        (void)first;
      },
      "use-after-poison|heap-use-after-free");
#else
  Flow flow("keeps_views");
  std::string_view kept;
  keep_first_line(flow, kept, false);
  EXPECT_EQ(static_cast<unsigned char>(kept[0]), detail::kPoisonByte);
#endif
#endif
}

}  // namespace
}  // namespace aetherflow
