#pragma once
// Ready-made sinks (docs/nodes.md):
//
//   std::vector<Trade> trades;
//   flow.node("keep", aetherflow::collect(trades));             // appends every item
//   flow.node("drop", aetherflow::discard<Trade>());            // counts, keeps nothing
//   flow.node("out", aetherflow::write_lines("out.txt"), {.ordered = true});
//
// Sinks are serial unless told otherwise, so collect() needs no lock. write_lines writes the
// file anew on every run: buffered, flushed when the run ends (by its finish()).

#include <cstddef>
#include <memory>
#include <string>
#include <string_view>
#include <utility>

namespace aetherflow {

// Appends every item to `container` (anything with insert(end, value): vector, set, deque...),
// which must outlive the runs.
template <class Container>
auto collect(Container& container) {
  return [&container](typename Container::value_type item) {
    container.insert(container.end(), std::move(item));
  };
}

// Takes items of type T and does nothing with them: the run report still counts them.
template <class T>
auto discard() {
  return [](const T&) {};
}

// Writes each item as a line (followed by '\n') to `path`, truncated when a run's first line
// arrives, or by its finish() if none did. Buffered: written every `buffer_bytes`, and the rest
// at the end of the run, which then flushes the file to disk. IoError naming the path and the
// reason if it cannot be opened or written. Copies share one file (the flow stores a copy).
class LineWriter {
 public:
  explicit LineWriter(std::string path, std::size_t buffer_bytes = std::size_t{1} << 20);

  void operator()(std::string_view line);
  void finish();  // writes what is buffered, flushes and closes the file (once per run)

 private:
  struct File;
  std::shared_ptr<File> file_;
};

inline LineWriter write_lines(std::string path, std::size_t buffer_bytes = std::size_t{1} << 20) {
  return LineWriter(std::move(path), buffer_bytes);
}

}  // namespace aetherflow
