#include "model/image_decode.h"

#include <cmath>
#include <cstdint>
#include <opencv2/core.hpp>
#include <opencv2/imgcodecs.hpp>
#include <opencv2/imgproc.hpp>
#include <utility>

#include "absl/status/status.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "model/image_probe.h"

namespace vlsm {
namespace {

absl::Status CheckPixels(int64_t width, int64_t height, const DecodeLimits& limits) {
  // width, height < 2^32 each, so the product fits in int64.
  if (width * height > limits.max_pixels) {
    return absl::InvalidArgumentError(absl::StrCat("image is ", width, "x", height, " = ",
                                                   width * height, " pixels, over the limit of ",
                                                   limits.max_pixels));
  }
  return absl::OkStatus();
}

// EXIF orientation -> upright, as OpenCV's and PIL's exif_transpose do it.
void ApplyOrientation(int orientation, cv::Mat& m) {
  switch (orientation) {
    case 2:
      cv::flip(m, m, 1);
      break;
    case 3:
      cv::flip(m, m, -1);
      break;
    case 4:
      cv::flip(m, m, 0);
      break;
    case 5:
      cv::transpose(m, m);
      break;
    case 6:
      cv::rotate(m, m, cv::ROTATE_90_CLOCKWISE);
      break;
    case 7:
      cv::transpose(m, m);
      cv::flip(m, m, -1);
      break;
    case 8:
      cv::rotate(m, m, cv::ROTATE_90_COUNTERCLOCKWISE);
      break;
    default:
      break;
  }
}

// Decodes with OpenCV; empty Mat or a message on failure.
absl::StatusOr<cv::Mat> OpenCvDecode(absl::string_view bytes, absl::string_view format) {
  try {
    // A header over the caller's bytes: no copy.
    const cv::Mat buffer(1, static_cast<int>(bytes.size()), CV_8U, const_cast<char*>(bytes.data()));
    cv::Mat m = cv::imdecode(
        buffer, cv::IMREAD_ANYDEPTH | cv::IMREAD_ANYCOLOR | cv::IMREAD_IGNORE_ORIENTATION);
    if (m.empty()) {
      return absl::InvalidArgumentError(
          absl::StrCat("corrupt, truncated or unsupported ", format, " data"));
    }
    return m;
  } catch (const cv::Exception& e) {
    return absl::InvalidArgumentError(absl::StrCat("cannot decode ", format, ": ", e.what()));
  }
}

absl::StatusOr<DecodedImage> ToDecodedImage(cv::Mat m, absl::string_view format) {
  DecodedImage out;
  out.format = std::string(format);
  switch (m.depth()) {
    case CV_8U:
      out.bits_stored = 8;
      break;
    case CV_16U:
    case CV_16S:
      out.bits_stored = 16;
      break;
    case CV_32F:
      out.bits_stored = 32;
      break;
    default:
      return absl::InvalidArgumentError(
          absl::StrCat("unsupported sample type in ", format, " (OpenCV depth ", m.depth(), ")"));
  }
  try {
    if (m.channels() == 3) {
      cv::cvtColor(m, m, cv::COLOR_BGR2RGB);
    } else if (m.channels() == 4) {
      cv::cvtColor(m, m, cv::COLOR_BGRA2RGB);  // drops alpha, no compositing
    } else if (m.channels() != 1) {
      return absl::InvalidArgumentError(
          absl::StrCat("unsupported channel count ", m.channels(), " in ", format));
    }
    // Converted straight into the output's storage (no intermediate copy).
    out.height = m.rows;
    out.width = m.cols;
    out.channels = m.channels();
    out.pixels.resize(static_cast<size_t>(m.rows) * m.cols * m.channels());
    cv::Mat f(m.rows, m.cols, CV_MAKETYPE(CV_32F, m.channels()), out.pixels.data());
    m.convertTo(f, f.type());
    // Only float sources can hold NaN or infinity.
    if (m.depth() == CV_32F && !cv::checkRange(f)) {
      return absl::InvalidArgumentError("image holds NaN or infinity");
    }
  } catch (const cv::Exception& e) {
    return absl::InvalidArgumentError(absl::StrCat("cannot convert ", format, ": ", e.what()));
  }
  return out;
}

}  // namespace

absl::StatusOr<DecodedImage> DecodeImage(absl::string_view bytes, const DecodeLimits& limits,
                                         absl::string_view format_hint) {
  if (bytes.empty()) return absl::InvalidArgumentError("empty image");
  if (static_cast<int64_t>(bytes.size()) > limits.max_bytes) {
    return absl::InvalidArgumentError(
        absl::StrCat("image is ", bytes.size(), " bytes, over the limit of ", limits.max_bytes));
  }
  const ImageFormat format = SniffImageFormat(bytes);
  if (format == ImageFormat::kDicom ||
      (format == ImageFormat::kUnknown && absl::EqualsIgnoreCase(format_hint, "dicom"))) {
    return absl::InvalidArgumentError("DICOM is decoded by DecodeDicom");
  }
  if (format == ImageFormat::kUnknown) {
    return absl::InvalidArgumentError(absl::StrCat(
        "unrecognized image format (not PNG, JPEG, BMP, TIFF or WebP by its magic bytes",
        format_hint.empty() ? "" : absl::StrCat("; declared '", format_hint, "'"), ")"));
  }
  if (bytes.size() > static_cast<size_t>(INT32_MAX)) {
    return absl::InvalidArgumentError("image over 2 GiB");
  }
  const absl::string_view name = ImageFormatName(format);
  absl::StatusOr<ImageHeader> header = ProbeImageHeader(format, bytes);
  if (!header.ok()) return header.status();
  if (absl::Status s = CheckPixels(header->width, header->height, limits); !s.ok()) return s;
  if (!header->jpeg_complete) {
    return absl::InvalidArgumentError("truncated JPEG: no end-of-image marker after the scan");
  }

  absl::StatusOr<cv::Mat> m = OpenCvDecode(bytes, name);
  if (!m.ok()) return m.status();
  if (absl::Status s = CheckPixels(m->cols, m->rows, limits); !s.ok()) return s;
  if (format == ImageFormat::kJpeg) {
    try {
      ApplyOrientation(header->orientation, *m);
    } catch (const cv::Exception& e) {
      return absl::InvalidArgumentError(absl::StrCat("cannot orient JPEG: ", e.what()));
    }
  }
  return ToDecodedImage(*std::move(m), name);
}

}  // namespace vlsm
