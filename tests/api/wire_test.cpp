// flow/wire.hpp: what items look like between ranks. Each family (raw bytes, length plus
// bytes, cereal) reads back what was written, the whole-vector write equals the indexed one,
// and a message cut short is an error naming the item type.

#include <cstdint>
#include <map>
#include <stdexcept>
#include <string>
#include <utility>
#include <vector>

#include <gtest/gtest.h>

#include <flow/wire.hpp>

namespace aetherflow {
namespace {

struct Tick {
  std::uint64_t id;
  double price;
};

template <class T>
std::vector<T> round_trip(const std::vector<T>& values) {
  Bytes bytes;
  wire_write(bytes, values);
  std::vector<T> back;
  EXPECT_EQ(wire_read(bytes, 0, values.size(), back), bytes.size());
  return back;
}

TEST(Wire, RawTextAndCerealItemsReadBackAsWritten) {
  const std::vector<Tick> ticks{{1, 2.5}, {7, -1.0}, {9, 1e9}};
  const auto back = round_trip(ticks);
  ASSERT_EQ(back.size(), 3u);
  EXPECT_EQ(back[1].id, 7u);
  EXPECT_EQ(back[2].price, 1e9);

  const std::vector<std::string> words{"", "a", std::string(1000, 'x')};
  EXPECT_EQ(round_trip(words), words);

  const std::vector<std::pair<std::string, std::vector<int>>> nested{{"k", {1, 2}}, {"", {}}};
  EXPECT_EQ(round_trip(nested), nested);

  const std::vector<bool> bits{true, false, true};
  EXPECT_EQ(round_trip(bits), bits);
}

TEST(Wire, TheWholeVectorIsWrittenAsTheIndexedWriteWritesIt) {
  std::vector<std::uint64_t> values(1000);
  for (std::size_t i = 0; i < values.size(); ++i) values[i] = i * 31;
  std::vector<std::size_t> all(values.size());
  for (std::size_t i = 0; i < all.size(); ++i) all[i] = i;
  Bytes whole, indexed;
  whole.push_back(std::byte{42});  // both append after what the buffer holds
  indexed.push_back(std::byte{42});
  wire_write(whole, values);
  wire_write(indexed, values, all);
  EXPECT_EQ(whole, indexed);
  EXPECT_EQ(whole.size(), 1 + values.size() * sizeof(std::uint64_t));
}

TEST(Wire, AMessageCutShortNamesTheItemType) {
  Bytes bytes;
  wire_write(bytes, std::vector<std::string>{"hello", "world"});
  bytes.resize(bytes.size() - 2);
  std::vector<std::string> back;
  try {
    wire_read(bytes, 0, 2, back);
    FAIL() << "a cut message was read";
  } catch (const std::runtime_error& e) {
    EXPECT_NE(std::string(e.what()).find("ends inside an item of std::string"), std::string::npos)
        << e.what();
  }
}

}  // namespace
}  // namespace aetherflow
