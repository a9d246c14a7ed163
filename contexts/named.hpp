#pragma once
// Two resources of one type, told apart by name:
//
//   ctx.shared<Database>("primary", [] { return Database("db-1"); });
//   ctx.shared<Database>("replica", [] { return Database("db-2"); });
//   flow.node("lookup", [](const Key& k, aetherflow::Named<Database, "replica"> db) {
//     return db->find(k);
//   });

#include <algorithm>
#include <cstddef>
#include <string_view>

namespace aetherflow {

// A string usable as a template argument.
template <std::size_t N>
struct FixedString {
  constexpr FixedString(const char (&text)[N]) { std::copy_n(text, N, chars); }  // NOLINT
  constexpr std::string_view view() const { return {chars, N - 1}; }
  char chars[N]{};
};

// The resource of type T bound under `Name`; use it like a pointer.
template <class T, FixedString Name>
class Named {
 public:
  using type = T;
  static constexpr std::string_view name = Name.view();

  explicit Named(T& object) noexcept : object_(&object) {}
  T& operator*() const noexcept { return *object_; }
  T* operator->() const noexcept { return object_; }
  T& get() const noexcept { return *object_; }

 private:
  T* object_;
};

}  // namespace aetherflow
