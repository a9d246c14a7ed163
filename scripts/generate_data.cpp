// aetherflow-generate KIND SIZE OUTPUT [SEED]
//   KIND   access-log | trades | text | words
//   SIZE   bytes, with an optional K, M or G suffix (powers of 1024): 400M, 4G
//   SEED   default 42; the same kind, size and seed always give the same file
#include <cstdint>
#include <cstdlib>
#include <exception>
#include <iostream>
#include <string>

#include <scripts/datagen.hpp>

namespace {
std::uint64_t parse_size(const std::string& text) {
  std::size_t end = 0;
  const std::uint64_t n = std::stoull(text, &end);
  const std::string suffix = text.substr(end);
  if (suffix.empty()) return n;
  if (suffix == "K") return n << 10;
  if (suffix == "M") return n << 20;
  if (suffix == "G") return n << 30;
  throw std::invalid_argument("size '" + text + "': use a number with K, M or G");
}
}  // namespace

int main(int argc, char** argv) {
  if (argc < 4 || argc > 5) {
    std::cerr << "usage: aetherflow-generate access-log|trades|text|words SIZE OUTPUT [SEED]\n";
    return 2;
  }
  try {
    const auto kind = aetherflow::datagen::kind_from(argv[1]);
    const std::uint64_t seed = argc == 5 ? std::stoull(argv[4]) : aetherflow::datagen::kDefaultSeed;
    const auto lines = aetherflow::datagen::write_file(argv[3], kind, parse_size(argv[2]), seed);
    std::cout << argv[3] << ": " << lines << " lines\n";
  } catch (const std::exception& e) {
    std::cerr << "aetherflow-generate: " << e.what() << "\n";
    return 1;
  }
}
