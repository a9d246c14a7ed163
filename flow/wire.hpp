#pragma once
// How items travel between the ranks of a cluster run (flow/cluster.hpp): a keyed node's items
// to the rank that owns their key, a gathered sink's to rank 0.
//   - trivially copyable types: their bytes as they are;
//   - std::string, std::string_view and std::span<const std::byte>: a length, then the bytes;
//     a view arrives as a view into the received message, which lives while the item is
//     processed (as a read_lines line does in its chunk);
//   - any other type: cereal's binary archive, through the type's serialize() (or
//     save()/load()), which cereal provides for the standard containers. It must be default
//     constructible.
// A type that is none of these cannot cross ranks: a cluster run that would send it fails
// before it starts, naming the node and the type.

#include <array>
#include <concepts>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <istream>
#include <map>
#include <memory>
#include <new>
#include <optional>
#include <ostream>
#include <span>
#include <stdexcept>
#include <streambuf>
#include <string>
#include <string_view>
#include <tuple>
#include <type_traits>
#include <utility>
#include <vector>

#include <cereal/archives/binary.hpp>
#include <cereal/types/array.hpp>
#include <cereal/types/map.hpp>
#include <cereal/types/optional.hpp>
#include <cereal/types/string.hpp>
#include <cereal/types/tuple.hpp>
#include <cereal/types/utility.hpp>
#include <cereal/types/vector.hpp>

#include <flow/cluster.hpp>
#include <flow/detail/batch.hpp>
#include <flow/detail/type_name.hpp>

namespace aetherflow {

template <class T>
concept WireView = std::same_as<T, std::string_view> || std::same_as<T, std::span<const std::byte>>;
template <class T>
concept WireText = WireView<T> || std::same_as<T, std::string>;

namespace detail {
// A serialize() (or save() and load()) of the type's own: cereal then writes what it says.
template <class T>
inline constexpr bool own_serialize =
    cereal::traits::has_member_serialize<T, cereal::BinaryOutputArchive>::value ||
    cereal::traits::has_non_member_serialize<T, cereal::BinaryOutputArchive>::value ||
    cereal::traits::has_member_save<T, cereal::BinaryOutputArchive>::value ||
    cereal::traits::has_non_member_save<T, cereal::BinaryOutputArchive>::value;

// What cereal writes correctly: numbers, strings, the standard containers of those, and
// types with their own serialize(). Not pointers, nor views (cereal would write the
// pointer): such a type, alone or inside a container, cannot cross ranks.
template <class T>
struct cereal_safe : std::bool_constant<std::is_arithmetic_v<T> || std::is_enum_v<T> ||
                                        (std::is_class_v<T> && std::default_initializable<T> &&
                                         own_serialize<T>)> {};
template <>
struct cereal_safe<std::string> : std::true_type {};
template <class A, class B>
struct cereal_safe<std::pair<A, B>>
    : std::bool_constant<cereal_safe<std::remove_const_t<A>>::value && cereal_safe<B>::value> {};
template <class... T>
struct cereal_safe<std::tuple<T...>> : std::bool_constant<(cereal_safe<T>::value && ...)> {};
template <class T, class A>
struct cereal_safe<std::vector<T, A>> : cereal_safe<T> {};
template <class T, std::size_t N>
struct cereal_safe<std::array<T, N>> : cereal_safe<T> {};
template <class T>
struct cereal_safe<std::optional<T>> : cereal_safe<T> {};
template <class K, class V, class C, class A>
struct cereal_safe<std::map<K, V, C, A>>
    : std::bool_constant<cereal_safe<K>::value && cereal_safe<V>::value> {};
}  // namespace detail

// Travels as its bytes: trivially copyable, with no serialize() of its own. A type that holds
// pointers or views must give one (its bytes would point into the sender's memory).
template <class T>
concept WireRaw = std::is_trivially_copyable_v<T> && !WireView<T> && !std::is_pointer_v<T> &&
                  !detail::own_serialize<T>;
template <class T>
concept WireCereal = !WireRaw<T> && !WireText<T> && detail::cereal_safe<T>::value;
// Items of type T can cross ranks.
template <class T>
concept Wireable = WireRaw<T> || WireText<T> || WireCereal<T>;

namespace detail {

// cereal writes to a stream: this one appends to the message's bytes, and reads from them.
class BytesStream final : public std::streambuf {
 public:
  explicit BytesStream(Bytes& out) : out_(&out) {}
  BytesStream(const Bytes& in, std::size_t offset) {
    char* begin = const_cast<char*>(reinterpret_cast<const char*>(in.data()));
    setg(begin, begin + offset, begin + in.size());
  }
  std::size_t read_position(const Bytes& in) const {
    return static_cast<std::size_t>(gptr() - reinterpret_cast<const char*>(in.data()));
  }

 protected:
  std::streamsize xsputn(const char* s, std::streamsize n) override {
    const auto* b = reinterpret_cast<const std::byte*>(s);
    out_->insert(out_->end(), b, b + n);
    return n;
  }
  int_type overflow(int_type c) override {
    if (c != traits_type::eof()) out_->push_back(static_cast<std::byte>(c));
    return c;
  }

 private:
  Bytes* out_ = nullptr;
};

}  // namespace detail

// Appends the items values[i] for each i of `indices` to `out`. `values`: a vector of the
// items (a std::vector, or a batch's values).
template <class Values, class Indices, class T = typename Values::value_type>
requires Wireable<T>
void wire_write(Bytes& out, const Values& values, const Indices& indices) {
  // Text and raw items: the bytes are sized once, then copied in (no growth per item).
  if constexpr (WireText<T>) {
    std::size_t total = 0;
    for (auto i : indices) total += sizeof(std::uint32_t) + values[i].size();
    std::size_t at = out.size();
    out.resize(at + total);
    for (auto i : indices) {
      const T& v = values[i];
      const auto n = static_cast<std::uint32_t>(v.size());
      std::memcpy(out.data() + at, &n, sizeof n);
      std::memcpy(out.data() + at + sizeof n, v.data(), n);
      at += sizeof n + n;
    }
  } else if constexpr (WireRaw<T>) {
    std::size_t count = 0;
    for ([[maybe_unused]] auto i : indices) ++count;
    std::size_t at = out.size();
    out.resize(at + count * sizeof(T));
    for (auto i : indices) {
      const T value = values[i];  // a copy: a vector of bools has no addressable items
      std::memcpy(out.data() + at, &value, sizeof(T));
      at += sizeof(T);
    }
  } else {
    detail::BytesStream buffer(out);
    std::ostream stream(&buffer);
    cereal::BinaryOutputArchive archive(stream);
    for (auto i : indices) archive(values[i]);
  }
}

namespace detail {
// The indices 0 to n - 1, without <ranges> in this header.
struct AllIndices {
  std::size_t n;
  struct It {
    std::size_t i;
    std::size_t operator*() const { return i; }
    It& operator++() { return ++i, *this; }
    bool operator!=(const It& o) const { return i != o.i; }
  };
  It begin() const { return {0}; }
  It end() const { return {n}; }
};
}  // namespace detail

// Appends every item of `values` to `out`: raw items of a contiguous vector in one copy.
template <class Values, class T = typename Values::value_type>
requires Wireable<T>
void wire_write(Bytes& out, const Values& values) {
  if constexpr (WireRaw<T> && requires { values.data(); }) {
    const std::size_t at = out.size();
    out.resize(at + values.size() * sizeof(T));
    if (!values.empty()) std::memcpy(out.data() + at, values.data(), values.size() * sizeof(T));
  } else {
    wire_write(out, values, detail::AllIndices{values.size()});
  }
}

// Reads `count` items from `in` at `offset` onto `values`; views point into `in`. Returns the
// offset after them. Error naming the type when the bytes end early.
template <class Values, class T = typename Values::value_type>
requires Wireable<T> std::size_t wire_read(const Bytes& in, std::size_t offset, std::size_t count,
                                           Values& values) {
  auto need = [&](std::size_t n) {
    if (in.size() - offset < n)
      throw std::runtime_error("aetherflow: a message from another rank ends inside an item of " +
                               detail::type_name(typeid(T)));
  };
  values.reserve(values.size() + count);
  if constexpr (WireText<T>) {
    for (std::size_t k = 0; k < count; ++k) {
      std::uint32_t n = 0;
      need(sizeof n);
      std::memcpy(&n, in.data() + offset, sizeof n);
      offset += sizeof n;
      need(n);
      const auto* at = in.data() + offset;
      if constexpr (std::same_as<T, std::span<const std::byte>>)
        values.emplace_back(at, n);
      else
        values.emplace_back(reinterpret_cast<const char*>(at), n);
      offset += n;
    }
  } else if constexpr (WireRaw<T> && std::default_initializable<T> &&
                       std::same_as<Values, std::vector<T>>) {  // one copy of them all
    need(count * sizeof(T));
    const std::size_t at = values.size();
    values.resize(at + count);
    std::memcpy(static_cast<void*>(values.data() + at), in.data() + offset, count * sizeof(T));
    offset += count * sizeof(T);
  } else if constexpr (WireRaw<T>) {
    need(count * sizeof(T));
    for (std::size_t k = 0; k < count; ++k, offset += sizeof(T)) {
      alignas(T) std::byte raw[sizeof(T)];
      std::memcpy(raw, in.data() + offset, sizeof(T));
      values.push_back(*std::launder(reinterpret_cast<T*>(raw)));
    }
  } else {
    detail::BytesStream buffer(in, offset);
    std::istream stream(&buffer);
    cereal::BinaryInputArchive archive(stream);
    for (std::size_t k = 0; k < count; ++k) {
      T value{};
      archive(value);
      values.push_back(std::move(value));
    }
    offset = buffer.read_position(in);
  }
  return offset;
}

namespace detail {

// The type-erased face of wire_write/wire_read for the run: the codec of a node's input type.
class ItemWire {
 public:
  virtual ~ItemWire() = default;
  // Appends every item of `parts` (Batches of the type; several: the parts of one sequence
  // number, in slot order) to `out`.
  virtual void write(std::span<const BatchHandle> parts, Bytes& out) const = 0;
  // A batch of `count` items read from `in` at `offset`; it keeps `in` alive for its views.
  virtual BatchHandle read(std::shared_ptr<const Bytes> in, std::size_t offset,
                           std::size_t count) const = 0;
};

template <class T>
class TypedWire final : public ItemWire {
 public:
  void write(std::span<const BatchHandle> parts, Bytes& out) const override {
    if (parts.size() > 1) {
      const BatchHandle merged(merge_by_slot<T>(parts));
      return write({&merged, 1}, out);
    }
    wire_write(out, batch_cast<T>(parts[0]).values);
  }
  BatchHandle read(std::shared_ptr<const Bytes> in, std::size_t offset,
                   std::size_t count) const override {
    auto batch = make_ref<Batch<T>>();
    wire_read(*in, offset, count, batch->values);
    batch->number_slots();
    batch->keep = std::move(in);
    return batch;
  }
};

// The codec of T, or null when T cannot cross ranks.
template <class T>
const ItemWire* wire_of() {
  if constexpr (Wireable<T>) {
    static const TypedWire<T> wire;
    return &wire;
  } else {
    return nullptr;
  }
}

}  // namespace detail
}  // namespace aetherflow
