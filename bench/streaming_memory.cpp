// Peak resident memory while streaming a file through a three-node flow:
// read_lines -> words (tokenise, count words per line) -> total (sum), on every core.
//
//   streaming_memory FILE       prints: FILE bytes lines peak_rss_kib seconds
//
// scripts/measure-streaming-memory.sh runs it on a 400 MB and a 4 GB generated file and
// checks that the peak does not grow with the file.

#include <sys/resource.h>

#include <chrono>
#include <cstdint>
#include <filesystem>
#include <iostream>
#include <string_view>

#include <flow/aetherflow.hpp>

int main(int argc, char** argv) {
  if (argc != 2) {
    std::cerr << "usage: streaming_memory FILE\n";
    return 2;
  }
  std::uint64_t words = 0;
  aetherflow::Flow flow("streaming_memory");
  auto lines = flow.source("lines", aetherflow::read_lines(argv[1]));
  auto count = flow.node("words", [](std::string_view line) {
    std::uint64_t n = !line.empty();
    for (char c : line) n += c == ' ';
    return n;
  });
  auto total = flow.node("total", [&words](std::uint64_t n) { words += n; });
  lines >> count >> total;

  const auto start = std::chrono::steady_clock::now();
  const aetherflow::RunReport report = flow.run();
  const double seconds =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  rusage usage{};
  ::getrusage(RUSAGE_SELF, &usage);
  std::cout << argv[1] << " " << std::filesystem::file_size(argv[1]) << " bytes "
            << report.node("lines").out << " lines " << words << " words " << usage.ru_maxrss
            << " peak_rss_kib " << seconds << " seconds\n";
}
