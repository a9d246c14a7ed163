// libFuzzer target for the checkpoint loader. The first byte picks how the rest is used: as a
// whole file, or as the data behind a valid header (right length and CRC), so that the
// fuzzer gets past the checksum into the decoding. Checks, for any input: the loader either
// throws CheckpointError naming the file, or returns a checkpoint that encodes to bytes that
// decode to the same checkpoint.
// Built by the fuzz preset (clang): cmake --workflow --preset fuzz.

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include <flow/checkpoint.hpp>
#include <flow/errors.hpp>

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size < 1) return 0;
  const std::string_view rest(reinterpret_cast<const char*>(data + 1), size - 1);
  const std::string bytes =
      data[0] % 2 ? aetherflow::detail::frame_checkpoint(rest) : std::string(rest);
  aetherflow::Checkpoint loaded;
  try {
    loaded = aetherflow::decode_checkpoint(bytes, "fuzz.ckpt");
  } catch (const aetherflow::CheckpointError& e) {
    if (std::string_view(e.what()).find("checkpoint 'fuzz.ckpt'") == std::string_view::npos)
      __builtin_trap();
    return 0;
  }
  if (aetherflow::decode_checkpoint(aetherflow::encode_checkpoint(loaded), "again") != loaded)
    __builtin_trap();
  return 0;
}
