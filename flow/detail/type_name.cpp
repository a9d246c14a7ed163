#include <flow/detail/type_name.hpp>

#include <cxxabi.h>

#include <cstdlib>
#include <memory>

namespace aetherflow::detail {

std::string type_name(const std::type_info& type) {
  int status = 0;
  std::unique_ptr<char, void (*)(void*)> name(
      abi::__cxa_demangle(type.name(), nullptr, nullptr, &status), std::free);
  std::string text = status == 0 && name ? name.get() : type.name();
  // The long spelling of std::string helps nobody.
  for (const std::string longer : {"std::__cxx11::basic_string<char, std::char_traits<char>, "
                                   "std::allocator<char> >",
                                   "std::__cxx11::"}) {
    const std::string shorter = longer == "std::__cxx11::" ? "std::" : "std::string";
    for (auto at = text.find(longer); at != std::string::npos; at = text.find(longer, at))
      text.replace(at, longer.size(), shorter);
  }
  return text;
}

}  // namespace aetherflow::detail
