// Cheap looks at encoded image bytes, before any decoder runs: the format
// from its magic bytes, the pixel dimensions from the header (PNG IHDR, JPEG
// SOF, BMP info header, TIFF first IFD, WebP VP8/VP8L/VP8X), and the JPEG
// EXIF orientation. DecodeImage uses these to refuse decompression bombs
// without allocating and to apply the orientation itself.
//
// Ownership: functions read the caller's bytes and keep nothing.
// Threading: pure functions; safe from any thread.
// Errors: a header that is present but malformed is InvalidArgument with the
// reason; nothing throws.
#ifndef VLSM_MODEL_IMAGE_PROBE_H_
#define VLSM_MODEL_IMAGE_PROBE_H_

#include <cstdint>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"

namespace vlsm {

enum class ImageFormat { kUnknown, kPng, kJpeg, kBmp, kTiff, kWebp, kDicom };

// "png", "jpeg", "bmp", "tiff", "webp", "dicom", "unknown".
absl::string_view ImageFormatName(ImageFormat format);

// The format from the magic bytes only (DICOM: "DICM" at offset 128).
ImageFormat SniffImageFormat(absl::string_view bytes);

struct ImageHeader {
  int64_t width = 0, height = 0;
  // JPEG only: EXIF orientation 1..8 (1 = as stored; also when absent or
  // out of range). Other formats: 1.
  int orientation = 1;
  // JPEG only: true when an EOI marker follows the first SOS (a truncated
  // scan makes libjpeg pad with grey instead of failing).
  bool jpeg_complete = true;
};

// Dimensions (as stored, before orientation) from the header of a PNG, JPEG,
// BMP, TIFF or WebP. InvalidArgument for a truncated or inconsistent header,
// zero dimensions, BigTIFF, or any other format.
absl::StatusOr<ImageHeader> ProbeImageHeader(ImageFormat format, absl::string_view bytes);

// The EXIF orientation (tag 0x0112 of IFD0) in a TIFF-structured EXIF block
// (the APP1 payload after "Exif\0\0"); 1 when absent or malformed.
int ExifOrientation(absl::string_view tiff_block);

}  // namespace vlsm

#endif  // VLSM_MODEL_IMAGE_PROBE_H_
