// libFuzzer target: the safetensors reader on arbitrary bytes must return a
// status, never crash, and every tensor it accepts must lie inside the file.
#include <cstdint>
#include <cstdlib>
#include <string>

#include "model/safetensors.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  auto file =
      vlsm::SafetensorsFile::FromBuffer(std::string(reinterpret_cast<const char*>(data), size));
  if (!file.ok()) return 0;
  const char* begin = nullptr;
  for (const vlsm::TensorView& t : (*file)->tensors()) {
    if (t.nbytes != static_cast<size_t>(t.numel()) * vlsm::DTypeSize(t.dtype)) std::abort();
    // Touch every byte: ASan catches a view that escapes the buffer.
    volatile uint8_t sum = 0;
    for (size_t i = 0; i < t.nbytes; ++i) sum += static_cast<const uint8_t*>(t.data)[i];
    (void)begin;
  }
  // Whatever parsed must serialize and parse again.
  auto bytes = vlsm::SerializeSafetensors((*file)->tensors(), (*file)->metadata());
  if (!bytes.ok()) std::abort();
  if (!vlsm::SafetensorsFile::FromBuffer(*bytes).ok()) std::abort();
  return 0;
}
