// Checkpoints: a run cancelled, failed or crashed mid-file resumes where its checkpoint says,
// and the two runs together deliver what one uninterrupted run does; corrupt or foreign
// checkpoint files are clear errors.
#include <flow/aetherflow.hpp>

#include <cstdlib>
#include <filesystem>
#include <map>
#include <numeric>
#include <stdexcept>
#include <stop_token>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "../support/balance.hpp"
#include "../support/temp_file.hpp"

namespace aetherflow {
namespace {

using namespace std::chrono_literals;
using testing::expect_balanced;
using testing::TempFile;

constexpr std::uint64_t kLines = 20'000;

std::string numbered_lines() {
  std::string text;
  for (std::uint64_t i = 0; i < kLines; ++i) text += "line " + std::to_string(i) + "\n";
  return text;
}

// Byte offset of line `n` of numbered_lines().
std::uint64_t offset_of_line(std::uint64_t n) {
  std::uint64_t offset = 0;
  for (std::uint64_t i = 0; i < n; ++i) offset += 6 + std::to_string(i).size();
  return offset;
}

// read_lines -> a transform -> a sink counting what it receives per line. The sink may stop
// the run (cancel), throw (fail) or end the process (crash) at its n-th item.
struct LineFlow {
  enum class Interrupt { none, cancel, fail, crash };
  Flow flow{"lines"};
  std::map<std::string, int> delivered;
  std::uint64_t sunk = 0;
  std::uint64_t interrupt_at = 0;
  Interrupt interrupt = Interrupt::none;
  std::stop_source stop;

  explicit LineFlow(const std::string& path) {
    auto src = flow.source("lines", read_lines(path, {.chunk_size = 512}));
    auto tag = flow.node("tag", [](std::string_view line) { return std::string(line) + "!"; });
    auto sink = flow.node("sink", [this](std::string line) {
      if (++sunk == interrupt_at) {
        if (interrupt == Interrupt::cancel) stop.request_stop();
        if (interrupt == Interrupt::fail) throw std::runtime_error("injected failure");
        if (interrupt == Interrupt::crash) std::_Exit(3);
      }
      ++delivered[line];
    });
    src >> tag >> sink;
  }
  RunReport run(const std::string& checkpoint, std::chrono::milliseconds interval = 0ms) {
    return flow.run({.threads = 2,
                     .batch_size = 64,
                     .stop = stop.get_token(),
                     .checkpoint = {.path = checkpoint, .interval = interval}});
  }
};

std::map<std::string, int> uninterrupted(const std::string& path) {
  LineFlow f(path);
  f.flow.run({.threads = 2, .batch_size = 64});
  return f.delivered;
}

// The second run, from the first's checkpoint: it emits exactly the uncommitted lines, each
// once, and both runs together deliver every line of the uninterrupted run (the lines the
// first run finished after its last commit, twice: at-least-once).
void expect_resume_completes(const std::string& input, const std::string& checkpoint,
                             const LineFlow& first, const SourceCheckpoint& committed) {
  EXPECT_EQ(committed.committed.offset, offset_of_line(committed.committed.items))
      << "a committed point is a line boundary";
  LineFlow second(input);
  const RunReport r = second.run(checkpoint);
  ASSERT_TRUE(r.resumed_from);
  EXPECT_EQ(r.resumed_from->sources.at(0), committed);
  EXPECT_EQ(r.node("lines").out, kLines - committed.committed.items);
  EXPECT_EQ(r.node("sink").out, kLines - committed.committed.items);
  for (std::uint64_t i = committed.committed.items; i < kLines; ++i)
    EXPECT_EQ(second.delivered["line " + std::to_string(i) + "!"], 1) << i;
  ASSERT_TRUE(r.checkpoint);
  EXPECT_TRUE(r.checkpoint->finished());
  expect_balanced(r);

  std::map<std::string, int> combined = first.delivered;
  for (const auto& [line, n] : second.delivered) combined[line] += n;
  const std::map<std::string, int> reference = uninterrupted(input);
  ASSERT_EQ(combined.size(), reference.size());
  for (const auto& [line, n] : reference) EXPECT_GE(combined[line], n) << line;
  for (std::uint64_t i = 0; i < committed.committed.items; ++i)
    EXPECT_EQ(combined["line " + std::to_string(i) + "!"], 1) << "committed line " << i;
}

TEST(Checkpoint, ACancelledRunResumesWhereItsCheckpointSays) {
  TempFile input(numbered_lines()), checkpoint;
  LineFlow first(input.path());
  first.interrupt = LineFlow::Interrupt::cancel;
  first.interrupt_at = kLines / 3;
  const RunReport r = first.run(checkpoint.path());
  EXPECT_TRUE(r.cancelled);
  expect_balanced(r);
  ASSERT_TRUE(r.checkpoint);
  EXPECT_FALSE(r.resumed_from);
  const SourceCheckpoint committed = r.checkpoint->sources.at(0);
  EXPECT_EQ(committed.source, "lines");
  EXPECT_FALSE(committed.finished);
  EXPECT_GT(committed.committed.items, 0u);
  EXPECT_LE(committed.committed.items, first.sunk);  // only what the sink finished
  EXPECT_EQ(read_checkpoint(checkpoint.path()),
            *r.checkpoint);  // the report says what the file says
  expect_resume_completes(input.path(), checkpoint.path(), first, committed);
}

TEST(Checkpoint, AFailedRunCommitsNothingAtOrAfterTheFailedItem) {
  TempFile input(numbered_lines()), checkpoint;
  LineFlow first(input.path());
  first.interrupt = LineFlow::Interrupt::fail;
  first.interrupt_at = kLines / 2;
  try {
    first.run(checkpoint.path());
    FAIL() << "the injected failure should fail the run";
  } catch (const NodeError& e) {
    const SourceCheckpoint committed = read_checkpoint(checkpoint.path()).sources.at(0);
    EXPECT_LE(committed.committed.items, e.item());
    EXPECT_EQ(*e.report().checkpoint, read_checkpoint(checkpoint.path()));
    first.interrupt = LineFlow::Interrupt::none;
    expect_resume_completes(input.path(), checkpoint.path(), first, committed);
  }
}

// The periodic checkpoints are what a crash leaves: here the process ends abruptly in the
// middle of the run, and a new run resumes from the file it left.
TEST(Checkpoint, ACrashedRunResumesFromItsLastPeriodicCheckpoint) {
  GTEST_FLAG_SET(death_test_style, "threadsafe");
  TempFile input(numbered_lines(), "crash_input"), checkpoint("", "crash_checkpoint");
  std::filesystem::remove(checkpoint.path());
  EXPECT_EXIT(
      {
        LineFlow doomed(input.path());
        doomed.interrupt = LineFlow::Interrupt::crash;
        doomed.interrupt_at = kLines / 2;
        doomed.run(checkpoint.path());
      },
      ::testing::ExitedWithCode(3), "");
  const SourceCheckpoint committed = read_checkpoint(checkpoint.path()).sources.at(0);
  EXPECT_GT(committed.committed.items, 0u);
  EXPECT_LT(committed.committed.items, kLines / 2);
  // What the crashed run delivered before its commit is what one run delivers of those lines.
  LineFlow first(input.path());
  for (std::uint64_t i = 0; i < committed.committed.items; ++i)
    first.delivered["line " + std::to_string(i) + "!"] = 1;
  expect_resume_completes(input.path(), checkpoint.path(), first, committed);
}

TEST(Checkpoint, AFinishedCheckpointResumesToNothingAndResumeFalseStartsOver) {
  TempFile input(numbered_lines()), checkpoint;
  LineFlow first(input.path());
  const RunReport r1 = first.run(checkpoint.path(), 1h);  // only the final checkpoint
  ASSERT_TRUE(r1.checkpoint);
  EXPECT_TRUE(r1.checkpoint->finished());
  EXPECT_EQ(r1.checkpoint->sources.at(0).committed, (ResumePoint{offset_of_line(kLines), kLines}));

  LineFlow again(input.path());
  EXPECT_EQ(again.run(checkpoint.path()).node("lines").out, 0u);

  LineFlow fresh(input.path());
  const RunReport r3 = fresh.flow.run({.checkpoint = {.path = checkpoint.path(), .resume = false}});
  EXPECT_FALSE(r3.resumed_from);
  EXPECT_EQ(r3.node("sink").out, kLines);
}

TEST(Checkpoint, ARangeSourceResumesByItemCount) {
  std::vector<int> numbers(10'000);
  std::iota(numbers.begin(), numbers.end(), 0);
  TempFile checkpoint;
  std::vector<int> seen;
  std::stop_source stop;
  Flow flow("numbers");
  auto src = flow.source("numbers", numbers);
  auto sink = flow.node("sink", [&](int x) {
    seen.push_back(x);
    if (seen.size() == 3'000) stop.request_stop();
  });
  src >> sink;
  const RunReport r1 = flow.run({.threads = 2,
                                 .batch_size = 32,
                                 .stop = stop.get_token(),
                                 .checkpoint = {checkpoint.path()}});
  ASSERT_TRUE(r1.cancelled);
  const std::uint64_t committed = r1.checkpoint->sources.at(0).committed.items;
  EXPECT_GT(committed, 0u);
  const std::size_t first_run = seen.size();
  const RunReport r2 =
      flow.run({.threads = 2, .batch_size = 32, .checkpoint = {checkpoint.path()}});
  EXPECT_EQ(r2.node("numbers").out, numbers.size() - committed);
  std::vector<int> resumed(seen.begin() + static_cast<std::ptrdiff_t>(first_run), seen.end());
  std::sort(resumed.begin(), resumed.end());
  std::vector<int> expected(numbers.begin() + static_cast<std::ptrdiff_t>(committed),
                            numbers.end());
  EXPECT_EQ(resumed, expected);
}

// Every prefix of a checkpoint file, and every single-byte change of it, is a CheckpointError
// that names the file: never a wrong resume, never undefined behaviour.
TEST(Checkpoint, TruncatedOrCorruptFilesAreClearErrors) {
  const Checkpoint original{"flow", {{"a", {123, 45}, false}, {"b", {0, 6}, true}}};
  const std::string bytes = encode_checkpoint(original);
  EXPECT_EQ(decode_checkpoint(bytes, "x.ckpt"), original);
  for (std::size_t n = 0; n < bytes.size(); ++n) {
    try {
      decode_checkpoint(bytes.substr(0, n), "x.ckpt");
      ADD_FAILURE() << "a prefix of " << n << " bytes was accepted";
    } catch (const CheckpointError& e) {
      EXPECT_NE(std::string(e.what()).find("checkpoint 'x.ckpt'"), std::string::npos) << e.what();
    }
  }
  for (std::size_t i = 0; i < bytes.size(); ++i) {
    std::string changed = bytes;
    changed[i] = static_cast<char>(changed[i] ^ 0x10);
    EXPECT_THROW(decode_checkpoint(changed, "x.ckpt"), CheckpointError) << "byte " << i;
  }
  EXPECT_THROW(decode_checkpoint(bytes + "x", "x.ckpt"), CheckpointError);
}

TEST(Checkpoint, ARunRefusesACorruptOrForeignCheckpointBeforeAnyDataMoves) {
  TempFile input(numbered_lines());
  auto expect_refused = [&](const std::string& file_content, const std::string& message) {
    TempFile checkpoint(file_content);
    LineFlow f(input.path());
    try {
      f.run(checkpoint.path());
      ADD_FAILURE() << "accepted: " << message;
    } catch (const CheckpointError& e) {
      EXPECT_NE(std::string(e.what()).find(checkpoint.path()), std::string::npos) << e.what();
      EXPECT_NE(std::string(e.what()).find(message), std::string::npos) << e.what();
    }
    EXPECT_EQ(f.sunk, 0u);
  };
  expect_refused("not a checkpoint at all", "wrong magic number");
  expect_refused(encode_checkpoint({"lines", {{"lines", {7, 1}, false}}}).substr(0, 30),
                 "truncated");
  expect_refused(encode_checkpoint({"other", {{"lines", {0, 0}, false}}}),
                 "written by flow 'other'");
  expect_refused(encode_checkpoint({"lines", {{"words", {0, 0}, false}}}),
                 "no entry for source 'lines'");
  expect_refused(encode_checkpoint({"lines", {{"lines", {0, 0}, false}, {"x", {0, 0}, false}}}),
                 "names source 'x'");
}

TEST(Checkpoint, AGeneratorSourceCannotCheckpoint) {
  Flow flow("gen");
  auto src = flow.source("counter", [i = 0]() mutable -> std::optional<int> {
    if (i == 10) return std::nullopt;
    return i++;
  });
  auto sink = flow.node("sink", [](int) {});
  src >> sink;
  TempFile checkpoint;
  try {
    flow.run({.checkpoint = {checkpoint.path()}});
    FAIL() << "a generator cannot be replayed";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("source 'counter' cannot resume"), std::string::npos)
        << e.what();
  }
}

// Checkpoint settings are checked with the flow, before any data moves: every problem in
// one FlowError, and no file written.
TEST(Checkpoint, BadSettingsJoinTheFlowsOneFlowError) {
  Flow flow("gen");
  auto src = flow.source("counter", [i = 0]() mutable -> std::optional<int> {
    if (i == 10) return std::nullopt;
    return i++;
  });
  src >> flow.node("sink", [](int) {});
  const std::filesystem::path path =
      std::filesystem::temp_directory_path() / "aetherflow-no-such-directory" / "run.ckpt";
  try {
    flow.run({.batch_size = 0,
              .auto_batch_size = {.min = 0},
              .checkpoint = {.path = path, .interval = -1ms}});
    FAIL() << "expected a FlowError";
  } catch (const FlowError& e) {
    const std::string what = e.what();
    EXPECT_EQ(e.problems().size(), 4u) << what;
    EXPECT_NE(what.find("source 'counter' cannot resume"), std::string::npos) << what;
    EXPECT_NE(what.find("checkpoint.interval is negative (-1 ms)"), std::string::npos) << what;
    EXPECT_NE(what.find("its directory '" + path.parent_path().string() + "' does not exist"),
              std::string::npos)
        << what;
    EXPECT_NE(what.find("RunOptions::auto_batch_size needs 1 <= min"), std::string::npos) << what;
  }
  EXPECT_FALSE(std::filesystem::exists(path));
}

TEST(Checkpoint, ResumingPastTheEndOfAFileOrInsideARecordIsAnIoError) {
  TempFile input("short\n"), records(std::string(64, 'r'));
  TempFile checkpoint(encode_checkpoint({"lines", {{"lines", {1'000, 10}, false}}}));
  Flow lines("lines");
  lines.source("lines", read_lines(input.path())) >> lines.node("sink", [](std::string_view) {});
  try {
    lines.run({.checkpoint = {checkpoint.path()}});
    FAIL() << "the file is shorter than the checkpoint's offset";
  } catch (const NodeError& e) {
    EXPECT_EQ(e.node(), "lines");
    EXPECT_EQ(e.stage(), NodeError::Stage::open);
    EXPECT_EQ(e.item(), 10u) << "the item it was to resume at";
    EXPECT_NE(std::string(e.what()).find("cannot resume '" + input.path() + "' at byte 1000"),
              std::string::npos)
        << e.what();
    EXPECT_TRUE(find_cause<IoError>(e, [](const IoError&) {}));
  }
  write_checkpoint(checkpoint.path(), {"records", {{"records", {20, 2}, false}}});
  Flow flow("records");
  flow.source("records", read_records(records.path(), 8)) >>
      flow.node("sink", [](std::span<const std::byte>) {});
  try {
    flow.run({.checkpoint = {checkpoint.path()}});
    FAIL() << "the checkpoint's offset is inside a record";
  } catch (const NodeError& e) {
    EXPECT_TRUE(find_cause<IoError>(e, [](const IoError&) {})) << e.what();
  }
}

}  // namespace
}  // namespace aetherflow
