// RenderOverlayPng / OverlayBandHeight (declared in mask.h).
#include <algorithm>
#include <cmath>
#include <opencv2/core.hpp>
#include <opencv2/imgcodecs.hpp>
#include <opencv2/imgproc.hpp>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "model/mask.h"

namespace vlsm {
namespace {

constexpr int kFont = cv::FONT_HERSHEY_SIMPLEX;
constexpr double kTintAlpha = 0.45;
const cv::Scalar kTintBgr(40, 40, 230);     // red
const cv::Scalar kContourBgr(0, 220, 255);  // yellow
const cv::Scalar kBandBgr(24, 24, 24);
const cv::Scalar kTextBgr(255, 255, 255);

struct TextStyle {
  double scale;
  int thickness, pad, band;
};

TextStyle StyleFor(int64_t width) {
  TextStyle s;
  s.scale = std::clamp(static_cast<double>(width) / 640.0, 0.35, 1.5);
  s.thickness = std::max(1, static_cast<int>(std::lround(s.scale * 1.5)));
  s.pad = std::max(3, static_cast<int>(std::lround(8 * s.scale)));
  int baseline = 0;
  const cv::Size size = cv::getTextSize("Ag", kFont, s.scale, s.thickness, &baseline);
  s.band = size.height + baseline + 2 * s.pad;
  return s;
}

// Printable ASCII; each other UTF-8 sequence becomes one '?'.
std::string AsciiCaption(const std::string& caption) {
  std::string out;
  for (unsigned char c : caption) {
    if (c >= 0x20 && c < 0x7f) {
      out.push_back(static_cast<char>(c));
    } else if (c < 0x80 || c >= 0xc0) {  // not a UTF-8 continuation byte
      out.push_back(c == '\n' || c == '\t' ? ' ' : '?');
    }
  }
  return out;
}

// Cuts the caption with "..." until it fits `max_width` pixels.
std::string FitCaption(std::string text, const TextStyle& s, int max_width) {
  int baseline = 0;
  auto width = [&](const std::string& t) {
    return cv::getTextSize(t, kFont, s.scale, s.thickness, &baseline).width;
  };
  if (width(text) <= max_width) return text;
  while (!text.empty() && width(text + "...") > max_width) text.pop_back();
  return text + "...";
}

}  // namespace

int64_t OverlayBandHeight(int64_t width) { return StyleFor(width).band; }

absl::StatusOr<std::string> RenderOverlayPng(const std::vector<uint8_t>& rgb8, int64_t h, int64_t w,
                                             const std::vector<uint8_t>& mask,
                                             const std::string& caption) {
  if (h <= 0 || w <= 0 || h > (1 << 15) || w > (1 << 15) ||
      static_cast<int64_t>(rgb8.size()) != h * w * 3 ||
      static_cast<int64_t>(mask.size()) != h * w) {
    return absl::InvalidArgumentError(absl::StrCat("overlay: image of ", rgb8.size(),
                                                   " bytes and mask of ", mask.size(),
                                                   " values do not match ", h, "x", w));
  }
  try {
    const int rows = static_cast<int>(h), cols = static_cast<int>(w);
    const TextStyle style = StyleFor(w);
    cv::Mat canvas(rows + style.band, cols, CV_8UC3, kBandBgr);
    cv::Mat image = canvas(cv::Rect(0, 0, cols, rows));
    cv::cvtColor(cv::Mat(rows, cols, CV_8UC3, const_cast<uint8_t*>(rgb8.data())), image,
                 cv::COLOR_RGB2BGR);
    cv::Mat binary(rows, cols, CV_8U);
    for (int64_t i = 0; i < h * w; ++i) binary.data[i] = mask[i] ? 255 : 0;

    cv::Mat tinted;
    cv::addWeighted(image, 1 - kTintAlpha, cv::Mat(rows, cols, CV_8UC3, kTintBgr), kTintAlpha, 0,
                    tinted);
    tinted.copyTo(image, binary);
    std::vector<std::vector<cv::Point>> contours;
    cv::findContours(binary, contours, cv::RETR_EXTERNAL, cv::CHAIN_APPROX_NONE);
    const int line = std::max(1, std::min(rows, cols) / 256);
    cv::drawContours(image, contours, -1, kContourBgr, line, cv::LINE_8);

    const std::string text = FitCaption(AsciiCaption(caption), style, cols - 2 * style.pad);
    int baseline = 0;
    const cv::Size size = cv::getTextSize("Ag", kFont, style.scale, style.thickness, &baseline);
    cv::putText(canvas, text, cv::Point(style.pad, rows + style.pad + size.height), kFont,
                style.scale, kTextBgr, style.thickness, cv::LINE_AA);

    std::vector<uchar> png;
    if (!cv::imencode(".png", canvas, png))
      return absl::InternalError("overlay PNG encoding failed");
    return std::string(png.begin(), png.end());
  } catch (const cv::Exception& e) {
    return absl::InternalError(absl::StrCat("overlay rendering failed: ", e.what()));
  }
}

}  // namespace vlsm
