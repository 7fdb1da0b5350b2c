#include "model/image_probe.h"

#include <cstring>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"

namespace vlsm {
namespace {

uint32_t U8(absl::string_view b, size_t at) { return static_cast<uint8_t>(b[at]); }
uint32_t Be16(absl::string_view b, size_t at) { return U8(b, at) << 8 | U8(b, at + 1); }
uint32_t Be32(absl::string_view b, size_t at) { return Be16(b, at) << 16 | Be16(b, at + 2); }
uint32_t Le16(absl::string_view b, size_t at) { return U8(b, at) | U8(b, at + 1) << 8; }
uint32_t Le24(absl::string_view b, size_t at) { return Le16(b, at) | U8(b, at + 2) << 16; }
uint32_t Le32(absl::string_view b, size_t at) { return Le16(b, at) | Le16(b, at + 2) << 16; }

absl::Status Truncated(absl::string_view what) {
  return absl::InvalidArgumentError(absl::StrCat("truncated or corrupt ", what, " header"));
}

// A TIFF-structured block (TIFF files and EXIF): byte order from "II"/"MM".
class TiffReader {
 public:
  explicit TiffReader(absl::string_view b) : b_(b) {}
  bool Valid() const {
    return b_.size() >= 8 && (b_.substr(0, 2) == "II" || b_.substr(0, 2) == "MM");
  }
  bool little() const { return b_[0] == 'I'; }
  bool Has(size_t at, size_t n) const { return at <= b_.size() && n <= b_.size() - at; }
  uint32_t U16(size_t at) const { return little() ? Le16(b_, at) : Be16(b_, at); }
  uint32_t U32(size_t at) const { return little() ? Le32(b_, at) : Be32(b_, at); }
  // The value of a SHORT or LONG entry with count 1, or -1.
  int64_t EntryValue(size_t entry) const {
    const uint32_t type = U16(entry + 2), count = U32(entry + 4);
    if (count != 1) return -1;
    if (type == 3) return U16(entry + 8);
    if (type == 4) return U32(entry + 8);
    return -1;
  }
  // Calls fn(tag, entry_offset) for each entry of the IFD at `ifd`; false if
  // the IFD does not fit.
  template <typename Fn>
  bool ForEachEntry(size_t ifd, Fn fn) const {
    if (!Has(ifd, 2)) return false;
    const uint32_t count = U16(ifd);
    if (!Has(ifd + 2, size_t{count} * 12)) return false;
    for (uint32_t i = 0; i < count; ++i) fn(U16(ifd + 2 + i * 12), ifd + 2 + i * 12);
    return true;
  }

 private:
  absl::string_view b_;
};

absl::StatusOr<ImageHeader> ProbePng(absl::string_view b) {
  if (b.size() < 24 || b.substr(12, 4) != "IHDR") return Truncated("PNG");
  ImageHeader h;
  h.width = Be32(b, 16);
  h.height = Be32(b, 20);
  return h;
}

bool IsSofMarker(uint32_t m) {
  return m >= 0xC0 && m <= 0xCF && m != 0xC4 && m != 0xC8 && m != 0xCC;
}

absl::StatusOr<ImageHeader> ProbeJpeg(absl::string_view b) {
  ImageHeader h;
  bool have_frame = false, have_orientation = false;
  size_t pos = 2;
  while (true) {
    if (pos >= b.size() || U8(b, pos) != 0xFF) return Truncated("JPEG");
    while (pos < b.size() && U8(b, pos) == 0xFF) ++pos;  // fill bytes
    if (pos >= b.size()) return Truncated("JPEG");
    const uint32_t marker = U8(b, pos++);
    if (marker == 0xD8 || marker == 0x01 || (marker >= 0xD0 && marker <= 0xD7)) continue;
    if (marker == 0xD9) return absl::InvalidArgumentError("JPEG ends before its image data");
    if (pos + 2 > b.size()) return Truncated("JPEG");
    const size_t length = Be16(b, pos);
    if (length < 2 || length > b.size() - pos) return Truncated("JPEG");
    const absl::string_view segment = b.substr(pos + 2, length - 2);
    pos += length;
    if (marker == 0xE1 && !have_orientation &&
        segment.substr(0, 6) == absl::string_view("Exif\0\0", 6)) {
      h.orientation = ExifOrientation(segment.substr(6));
      have_orientation = true;
    } else if (IsSofMarker(marker) && !have_frame) {
      if (segment.size() < 6) return Truncated("JPEG frame");
      h.height = Be16(segment, 1);
      h.width = Be16(segment, 3);
      have_frame = true;
    } else if (marker == 0xDA) {
      if (!have_frame) return absl::InvalidArgumentError("JPEG scan before its frame header");
      break;
    }
  }
  // Entropy-coded data never holds 0xFF 0xD9 (0xFF is stuffed), so the EOI
  // is found after the first scan exactly when the data was not cut short.
  h.jpeg_complete = b.find(absl::string_view("\xFF\xD9", 2), pos) != absl::string_view::npos;
  return h;
}

absl::StatusOr<ImageHeader> ProbeBmp(absl::string_view b) {
  if (b.size() < 26) return Truncated("BMP");
  const uint32_t info_size = Le32(b, 14);
  ImageHeader h;
  if (info_size == 12) {  // BITMAPCOREHEADER
    h.width = Le16(b, 18);
    h.height = Le16(b, 20);
  } else if (info_size >= 16) {
    h.width = static_cast<int32_t>(Le32(b, 18));
    const int64_t height = static_cast<int32_t>(Le32(b, 22));
    h.height = height < 0 ? -height : height;  // negative: top-down rows
  } else {
    return Truncated("BMP");
  }
  return h;
}

absl::StatusOr<ImageHeader> ProbeTiff(absl::string_view b) {
  TiffReader r(b);
  if (!r.Valid()) return Truncated("TIFF");
  if (r.U16(2) == 43) return absl::InvalidArgumentError("BigTIFF is not supported");
  ImageHeader h;
  h.width = h.height = -1;
  const bool ok = r.ForEachEntry(r.U32(4), [&](uint32_t tag, size_t entry) {
    if (tag == 256) h.width = r.EntryValue(entry);
    if (tag == 257) h.height = r.EntryValue(entry);
  });
  if (!ok || h.width < 0 || h.height < 0) return Truncated("TIFF");
  return h;
}

absl::StatusOr<ImageHeader> ProbeWebp(absl::string_view b) {
  if (b.size() < 30) return Truncated("WebP");
  const absl::string_view chunk = b.substr(12, 4);
  ImageHeader h;
  if (chunk == "VP8 ") {
    if (U8(b, 23) != 0x9D || U8(b, 24) != 0x01 || U8(b, 25) != 0x2A) return Truncated("WebP VP8");
    h.width = Le16(b, 26) & 0x3FFF;
    h.height = Le16(b, 28) & 0x3FFF;
  } else if (chunk == "VP8L") {
    if (U8(b, 20) != 0x2F) return Truncated("WebP VP8L");
    const uint32_t bits = Le32(b, 21);
    h.width = (bits & 0x3FFF) + 1;
    h.height = ((bits >> 14) & 0x3FFF) + 1;
  } else if (chunk == "VP8X") {
    h.width = Le24(b, 24) + 1;
    h.height = Le24(b, 27) + 1;
  } else {
    return Truncated("WebP");
  }
  return h;
}

}  // namespace

absl::string_view ImageFormatName(ImageFormat format) {
  switch (format) {
    case ImageFormat::kPng:
      return "png";
    case ImageFormat::kJpeg:
      return "jpeg";
    case ImageFormat::kBmp:
      return "bmp";
    case ImageFormat::kTiff:
      return "tiff";
    case ImageFormat::kWebp:
      return "webp";
    case ImageFormat::kDicom:
      return "dicom";
    case ImageFormat::kUnknown:
      break;
  }
  return "unknown";
}

ImageFormat SniffImageFormat(absl::string_view b) {
  if (b.size() >= 132 && b.substr(128, 4) == "DICM") return ImageFormat::kDicom;
  if (b.substr(0, 8) == "\x89PNG\r\n\x1a\n") return ImageFormat::kPng;
  if (b.substr(0, 3) == "\xFF\xD8\xFF") return ImageFormat::kJpeg;
  if (b.substr(0, 2) == "BM") return ImageFormat::kBmp;
  if (b.substr(0, 4) == absl::string_view("II*\0", 4) ||
      b.substr(0, 4) == absl::string_view("MM\0*", 4) ||
      b.substr(0, 4) == absl::string_view("II+\0", 4) ||
      b.substr(0, 4) == absl::string_view("MM\0+", 4)) {
    return ImageFormat::kTiff;
  }
  if (b.size() >= 12 && b.substr(0, 4) == "RIFF" && b.substr(8, 4) == "WEBP") {
    return ImageFormat::kWebp;
  }
  return ImageFormat::kUnknown;
}

absl::StatusOr<ImageHeader> ProbeImageHeader(ImageFormat format, absl::string_view bytes) {
  absl::StatusOr<ImageHeader> h;
  switch (format) {
    case ImageFormat::kPng:
      h = ProbePng(bytes);
      break;
    case ImageFormat::kJpeg:
      h = ProbeJpeg(bytes);
      break;
    case ImageFormat::kBmp:
      h = ProbeBmp(bytes);
      break;
    case ImageFormat::kTiff:
      h = ProbeTiff(bytes);
      break;
    case ImageFormat::kWebp:
      h = ProbeWebp(bytes);
      break;
    default:
      return absl::InvalidArgumentError(
          absl::StrCat("no header probe for format ", ImageFormatName(format)));
  }
  if (h.ok() && (h->width <= 0 || h->height <= 0)) {
    return absl::InvalidArgumentError(absl::StrCat(ImageFormatName(format), " header declares ",
                                                   h->width, "x", h->height, " pixels"));
  }
  return h;
}

int ExifOrientation(absl::string_view tiff_block) {
  TiffReader r(tiff_block);
  if (!r.Valid()) return 1;
  int64_t orientation = 1;
  r.ForEachEntry(r.U32(4), [&](uint32_t tag, size_t entry) {
    if (tag == 0x0112) orientation = r.EntryValue(entry);
  });
  return orientation >= 1 && orientation <= 8 ? static_cast<int>(orientation) : 1;
}

}  // namespace vlsm
