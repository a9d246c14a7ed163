// The process tests/api/signal_test.cpp signals: numbers 0..n-1, each taking `delay_us`, written
// one per line to `output` (appended, flushed per line), with checkpoints to `checkpoint` and
// RunOptions::stop_on_signals. It writes "ready" to standard output once the run has started
// writing, and its stop_reason when the run ends; it exits 0 when the run drained or finished,
// 3 when it was cancelled.
//
//   aetherflow_signal_child CHECKPOINT OUTPUT N DELAY_US

#include <chrono>
#include <cstdio>
#include <fstream>
#include <ranges>
#include <string>
#include <thread>
#include <utility>

#include <flow/aetherflow.hpp>

int main(int argc, char** argv) {
  if (argc != 5) {
    std::fprintf(stderr, "usage: %s CHECKPOINT OUTPUT N DELAY_US\n", argv[0]);
    return 2;
  }
  const std::string checkpoint = argv[1], output = argv[2];
  const int n = std::stoi(argv[3]);
  const std::chrono::microseconds delay(std::stoi(argv[4]));
  std::ofstream out(output, std::ios::app);
  aetherflow::Flow flow("signalled");
  flow.source("numbers", std::views::iota(0, n)) >>
      flow.node("slow",
                [delay](int x) {
                  if (delay.count() > 0) std::this_thread::sleep_for(delay);
                  return x;
                }) >>
      flow.node("write",
                [&, ready = false](int x) mutable {
                  out << x << '\n' << std::flush;
                  if (std::exchange(ready, true)) return;
                  std::printf("ready\n");
                  std::fflush(stdout);
                },
                {.concurrency = aetherflow::serial});
  const aetherflow::RunReport report =
      flow.run({.threads = 2,
                .stop_on_signals = true,
                .checkpoint = {.path = checkpoint, .interval = std::chrono::milliseconds(100)}});
  std::printf("%s\n", report.stop_reason.c_str());
  return report.cancelled ? 3 : 0;
}
