#pragma once
// The extra parameter of a one-to-many node: call it once per output item.
//   flow.node("words", [](const std::string& line, aetherflow::Emitter<std::string>& emit) {
//     for (auto& w : split(line)) emit(w);
//   });

#include <cstdint>
#include <utility>

#include <flow/detail/batch_core.hpp>

namespace aetherflow {

template <class T>
class Emitter {
 public:
  void operator()(T value) {
    out_->push(std::move(value), slot_);
    ++emitted_;
  }
  void emit(T value) { (*this)(std::move(value)); }

  Emitter(detail::Batch<T>& out, std::uint32_t slot) : out_(&out), slot_(slot) {}
  std::size_t emitted() const noexcept { return emitted_; }

 private:
  detail::Batch<T>* out_;
  std::uint32_t slot_;  // every item emitted for one input keeps that input's slot
  std::size_t emitted_ = 0;
};

}  // namespace aetherflow
