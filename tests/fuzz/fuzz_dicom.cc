// libFuzzer target: DICOM parsing and pixel decoding (all codecs) on
// arbitrary bytes: a status or an image, never a crash.
#include <cstdint>
#include <cstdlib>
#include <string>

#include "dcmtk/oflog/oflog.h"
#include "model/dicom_decode.h"

// DCMTK logs a warning for nearly every mutated input: silence it so the
// fuzzer spends its time decoding.
extern "C" int LLVMFuzzerInitialize(int*, char***) {
  OFLog::configure(OFLogger::FATAL_LOG_LEVEL);
  return 0;
}

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  vlsm::DecodeLimits limits;
  limits.max_pixels = 4 << 20;
  limits.max_frames = 64;
  const std::string bytes(reinterpret_cast<const char*>(data), size);
  auto info = vlsm::ReadDicomInfo(bytes, limits);
  auto image = vlsm::DecodeDicom(bytes, limits);
  if (image.ok() &&
      static_cast<int64_t>(image->pixels.size()) != image->height * image->width * image->channels) {
    std::abort();
  }
  (void)info;
  return 0;
}
