#include "model/mask.h"

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <opencv2/core.hpp>
#include <opencv2/imgcodecs.hpp>
#include <random>
#include <string>
#include <utility>
#include <vector>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "model/safetensors.h"
#include "tests/support/cases.h"
#include "tests/support/imaging.h"

namespace vlsm {
namespace {

using test_support::ReadFloat;
using test_support::ReadU8;
using ::testing::ElementsAre;
using ::testing::HasSubstr;

HostTensor Plane(const HostTensor& stacked, int64_t row) {
  HostTensor out;
  out.shape = {stacked.shape[1], stacked.shape[2]};
  const int64_t n = out.shape[0] * out.shape[1];
  out.data.assign(stacked.data.begin() + row * n, stacked.data.begin() + (row + 1) * n);
  return out;
}

// Threshold decides most logits without exp; it must agree with sigmoid(x)
// > t in float everywhere, including right at the boundary and for
// thresholds where float sigmoid saturates.
TEST(MaskTest, ThresholdEqualsFloatSigmoidComparison) {
  for (const float t : {0.5f, 0.3f, 0.9f, 1e-6f, 0.999f, 0.9999f, 0.99999994f, 1e-30f, 0.0f,
                        1.0f}) {
    HostTensor logits;
    const double boundary = std::log(static_cast<double>(t) / (1.0 - t));
    if (std::isfinite(boundary)) {
      float x = static_cast<float>(boundary);
      for (int i = 0; i < 5000; ++i) x = std::nextafter(x, -INFINITY);
      for (int i = 0; i < 10000; ++i, x = std::nextafter(x, INFINITY)) logits.data.push_back(x);
    }
    for (double x = -100; x <= 100; x += 1e-3) logits.data.push_back(static_cast<float>(x));
    logits.data.push_back(NAN);
    logits.data.push_back(INFINITY);
    logits.data.push_back(-INFINITY);
    logits.shape = {1, static_cast<int64_t>(logits.data.size())};
    const std::vector<uint8_t> mask = Threshold(logits, t);
    ASSERT_EQ(mask.size(), logits.data.size());
    int64_t mismatches = 0, ones = 0;
    for (size_t i = 0; i < mask.size(); ++i) {
      const float x = logits.data[i];
      const uint8_t expected = 1.0f / (1.0f + std::exp(-x)) > t ? 1 : 0;
      mismatches += mask[i] != expected;
      ones += expected;
    }
    EXPECT_EQ(mismatches, 0) << "threshold " << t;
    if (t > 0.0f && t < 0.999f) EXPECT_GT(ones, 0) << "threshold " << t;
  }
}

// ---- logits -> mask against the clipseg-tiny reference (vlsm-adapter) ----

TEST(MaskTest, ThresholdMatchesReferenceMask) {
  const test_support::TinyCases cases = test_support::LoadTinyCases();
  const HostTensor logits = ReadFloat(*cases.file, "logits.base");
  const test_support::U8Tensor ref = ReadU8(*cases.file, "mask.base");
  ASSERT_EQ(ref.shape, logits.shape);
  const std::vector<uint8_t> mask = Threshold(logits, 0.5f);
  int64_t compared = 0, ones = 0;
  for (size_t i = 0; i < mask.size(); ++i) {
    if (std::abs(logits.data[i]) <= 1e-3f) continue;  // sigmoid rounds to 0.5 near 0
    ASSERT_EQ(mask[i], ref.data[i]) << "pixel " << i << " logit " << logits.data[i];
    ++compared;
    ones += mask[i];
  }
  EXPECT_GT(compared, static_cast<int64_t>(mask.size()) * 99 / 100);
  EXPECT_GT(ones, 0);
  EXPECT_LT(ones, compared);
}

TEST(MaskTest, NearestExactMatchesReferenceOriginalSizeMasks) {
  const test_support::TinyCases cases = test_support::LoadTinyCases();
  const test_support::U8Tensor masks = ReadU8(*cases.file, "mask.base");
  const HostTensor logits = ReadFloat(*cases.file, "logits.base");
  for (int64_t row = 0; row < 3; ++row) {
    const test_support::U8Tensor ref = ReadU8(*cases.file, "mask_orig.base." + std::to_string(row));
    ASSERT_EQ(ref.shape.size(), 2u);
    const std::vector<uint8_t> in(masks.data.begin() + row * 96 * 96,
                                  masks.data.begin() + (row + 1) * 96 * 96);
    EXPECT_EQ(NearestExactResize(in, 96, 96, ref.shape[0], ref.shape[1]), ref.data) << row;
    // The whole path, from logits (no logit of this set is within 1e-3 of 0
    // where it would matter, see ThresholdMatchesReferenceMask).
    EXPECT_EQ(MaskFromLogits(Plane(logits, row), ref.shape[0], ref.shape[1], MaskOptions{}),
              ref.data)
        << row;
  }
}

TEST(MaskTest, MaskFromLogitsKeepsModelSizeWhenAsked) {
  HostTensor logits{{2, 2}, {-1, 2, 0.3f, -4}};
  MaskOptions options;
  options.original_size = false;
  options.threshold = 0.6f;  // sigmoid(0.3) = 0.574
  EXPECT_THAT(MaskFromLogits(logits, 50, 50, options), ElementsAre(0, 1, 0, 0));
}

// ---- resizes against torch (tests/imaging_fixtures.py) ----

TEST(MaskTest, NearestExactMatchesTorch) {
  const auto fixtures = test_support::OpenImagingFixtures();
  int cases = 0;
  for (int i = 0;; ++i) {
    const test_support::U8Tensor in = ReadU8(*fixtures, "nearest." + std::to_string(i) + ".in");
    const test_support::U8Tensor out = ReadU8(*fixtures, "nearest." + std::to_string(i) + ".out");
    if (in.shape.empty()) break;
    EXPECT_EQ(NearestExactResize(in.data, in.shape[0], in.shape[1], out.shape[0], out.shape[1]),
              out.data)
        << "case " << i;
    ++cases;
  }
  EXPECT_GE(cases, 7);
}

TEST(MaskTest, BilinearMatchesTorch) {
  const auto fixtures = test_support::OpenImagingFixtures();
  int cases = 0;
  for (int i = 0;; ++i) {
    const HostTensor in = ReadFloat(*fixtures, "bilinear." + std::to_string(i) + ".in");
    const HostTensor ref = ReadFloat(*fixtures, "bilinear." + std::to_string(i) + ".out");
    if (in.shape.empty()) break;
    const HostTensor got = ResizeLogitsBilinear(in, ref.shape[0], ref.shape[1]);
    ASSERT_EQ(got.shape, ref.shape);
    const test_support::Diff d = test_support::Compare(got, ref);
    EXPECT_LE(d.max_abs, 5e-7 * std::max(1.0, d.max_ref)) << "case " << i;  // a few ulp
    ++cases;
  }
  EXPECT_GE(cases, 8);
}

TEST(MaskTest, BilinearHandComputed) {
  // 1x2 -> 1x4: scale 0.5, sources -0.25 (clamped to 0), 0.25, 0.75, 1.25.
  HostTensor in{{1, 2}, {0, 8}};
  EXPECT_THAT(ResizeLogitsBilinear(in, 1, 4).data, ElementsAre(0, 2, 6, 8));
  // Leading dims are planes.
  HostTensor two{{2, 1, 2}, {0, 8, 4, 4}};
  const HostTensor out = ResizeLogitsBilinear(two, 1, 4);
  EXPECT_THAT(out.shape, ElementsAre(2, 1, 4));
  EXPECT_THAT(out.data, ElementsAre(0, 2, 6, 8, 4, 4, 4, 4));
}

TEST(MaskTest, InconsistentSizesGiveEmptyResults) {
  EXPECT_TRUE(ResizeLogitsBilinear(HostTensor{{4}, {1, 2, 3, 4}}, 2, 2).shape.empty());
  EXPECT_TRUE(ResizeLogitsBilinear(HostTensor{{2, 2}, {1, 2, 3}}, 2, 2).data.empty());
  EXPECT_TRUE(ResizeLogitsBilinear(HostTensor{{2, 2}, {1, 2, 3, 4}}, 0, 2).data.empty());
  EXPECT_TRUE(NearestExactResize({1, 0, 1}, 2, 2, 4, 4).empty());
  EXPECT_TRUE(CocoRleCounts({1, 0, 1}, 2, 2).empty());
}

// ---- COCO RLE (pycocotools rleEncode / rleToString) ----

TEST(MaskTest, RleHandComputedCounts) {
  EXPECT_THAT(CocoRleCounts(std::vector<uint8_t>(6, 0), 2, 3), ElementsAre(6));
  EXPECT_THAT(CocoRleCounts(std::vector<uint8_t>(6, 1), 2, 3), ElementsAre(0, 6));
  // Checkerboard 2x2 [[1,0],[0,1]]: column-major 1,0,0,1.
  EXPECT_THAT(CocoRleCounts({1, 0, 0, 1}, 2, 2), ElementsAre(0, 1, 2, 1));
  // First pixel set.
  EXPECT_THAT(CocoRleCounts({1, 0, 0, 0, 0, 0}, 2, 3), ElementsAre(0, 1, 5));
  // Column-major, not row-major: the top row set in a 2x3 mask.
  EXPECT_THAT(CocoRleCounts({1, 1, 1, 0, 0, 0}, 2, 3), ElementsAre(0, 1, 1, 1, 1, 1, 1));
  // Non-zero values count as foreground.
  EXPECT_THAT(CocoRleCounts({0, 255, 0, 7}, 2, 2), ElementsAre(2, 2));
}

TEST(MaskTest, RleHandComputedStrings) {
  EXPECT_EQ(EncodeCocoRle(std::vector<uint8_t>(9, 0), 3, 3), "9");
  EXPECT_EQ(EncodeCocoRle(std::vector<uint8_t>(9, 1), 3, 3), "09");
  EXPECT_EQ(EncodeCocoRle({1, 0, 0, 1}, 2, 2), "0120");  // 4th count as 1 - 1 = 0
  EXPECT_EQ(CocoRleString({100}), "T3");                 // 100 = 4 + 3 * 32: 'T' = 48+4+32
  EXPECT_EQ(CocoRleString({0, 10, 3, 1}), "0:3G");       // 1 - 10 = -9 -> 'G'
  EXPECT_EQ(CocoRleString({16}), "`0");                  // bit 4 set: a sign-clear digit follows
  EXPECT_EQ(CocoRleString({0, 40, 0, 0}), "0X10hN");     // 40 -> "X1"; 0 - 40 = -40 -> "hN"
}

TEST(MaskTest, RleStringRoundTripsRandomMasks) {
  std::mt19937 rng(7);
  for (int trial = 0; trial < 40; ++trial) {
    const int64_t h = 1 + rng() % 300, w = 1 + rng() % 300;
    std::vector<uint8_t> mask(h * w);
    // Runs of very different lengths, so deltas are large and negative.
    uint8_t v = rng() % 2;
    for (int64_t i = 0; i < h * w;) {
      const int64_t run = 1 + rng() % (trial % 2 ? 5 : 5000);
      for (int64_t j = 0; j < run && i < h * w; ++j, ++i) mask[i] = v;
      v ^= 1;
    }
    const std::vector<uint32_t> counts = CocoRleCounts(mask, h, w);
    uint64_t total = 0;
    for (uint32_t c : counts) total += c;
    EXPECT_EQ(total, static_cast<uint64_t>(h * w));
    const absl::StatusOr<std::vector<uint8_t>> decoded =
        DecodeCocoRle(EncodeCocoRle(mask, h, w), h, w);
    ASSERT_TRUE(decoded.ok()) << decoded.status();
    EXPECT_EQ(*decoded, mask) << h << "x" << w;
  }
}

TEST(MaskTest, RleDecodeInvertsEncodeAtAnyDensity) {
  std::mt19937 rng(7);
  for (auto [h, w] :
       std::vector<std::pair<int64_t, int64_t>>{{1, 1}, {5, 3}, {64, 64}, {37, 129}}) {
    for (int density : {0, 3, 50, 97, 100}) {
      std::vector<uint8_t> mask(h * w);
      for (uint8_t& m : mask) m = static_cast<int>(rng() % 100) < density ? 1 : 0;
      const absl::StatusOr<std::vector<uint8_t>> decoded =
          DecodeCocoRle(EncodeCocoRle(mask, h, w), h, w);
      ASSERT_TRUE(decoded.ok()) << decoded.status();
      EXPECT_EQ(*decoded, mask) << h << "x" << w << " density " << density;
    }
  }
}

TEST(MaskTest, RleDecodeRunsAreColumnMajor) {
  // 2x3, counts [1, 2, 3]: background 1, foreground 2, background 3 down the
  // columns -> pixels (1,0) and (0,1) set.
  const absl::StatusOr<std::vector<uint8_t>> decoded =
      DecodeCocoRle(CocoRleString({1, 2, 3}), 2, 3);
  ASSERT_TRUE(decoded.ok()) << decoded.status();
  EXPECT_THAT(*decoded, ElementsAre(0, 1, 0, 1, 0, 0));
  // Differences from the 4th count on: "0:3G" is [0, 10, 3, 1].
  const absl::StatusOr<std::vector<uint8_t>> deltas = DecodeCocoRle("0:3G", 2, 7);
  ASSERT_TRUE(deltas.ok()) << deltas.status();
  EXPECT_EQ(std::count(deltas->begin(), deltas->end(), 1), 11);
}

TEST(MaskTest, RleDecodeRejectsMalformedStrings) {
  const std::string full = EncodeCocoRle(std::vector<uint8_t>(12, 1), 3, 4);
  const auto rejected = [](absl::string_view rle, int64_t h, int64_t w) {
    return DecodeCocoRle(rle, h, w).status().code() == absl::StatusCode::kInvalidArgument;
  };
  EXPECT_TRUE(rejected(full, 3, 5));  // counts cover too few pixels
  EXPECT_TRUE(rejected(full, 2, 4));  // too many
  EXPECT_TRUE(rejected("", 3, 4));    // none
  EXPECT_TRUE(rejected(full, 0, 4));  // no mask size
  EXPECT_TRUE(rejected(full, 3, -4));
  EXPECT_TRUE(rejected("\x01", 3, 4));      // below '0'
  EXPECT_TRUE(rejected("0~", 3, 4));        // above 'o'
  EXPECT_TRUE(rejected("0P", 3, 4));        // a continuation digit with nothing after it
  EXPECT_TRUE(rejected("PPPPPPP0", 3, 4));  // longer than any uint32 count
  EXPECT_TRUE(rejected("0:3E", 2, 7));      // 4th count 10 - 11 = -1
  EXPECT_THAT(std::string(DecodeCocoRle(full, 3, 5).status().message()), HasSubstr("12 of 15"));
}

// ---- PNG ----

TEST(MaskTest, PngRoundTrip) {
  const std::vector<uint8_t> mask = {0, 1, 1, 0, 0, 1};
  absl::StatusOr<std::string> png = EncodeMaskPng(mask, 2, 3);
  ASSERT_TRUE(png.ok()) << png.status();
  const std::vector<uchar> bytes(png->begin(), png->end());
  const cv::Mat m = cv::imdecode(bytes, cv::IMREAD_UNCHANGED);
  ASSERT_EQ(m.type(), CV_8UC1);
  ASSERT_EQ(m.rows, 2);
  ASSERT_EQ(m.cols, 3);
  EXPECT_THAT(std::vector<uint8_t>(m.data, m.data + 6), ElementsAre(0, 255, 255, 0, 0, 255));
  EXPECT_THAT(EncodeMaskPng(mask, 3, 3).status().message(), HasSubstr("not 3x3"));
}

// ---- float16 ----

float HalfToFloat(uint16_t h) {
  const int exponent = (h >> 10) & 0x1f, mantissa = h & 0x3ff;
  float v;
  if (exponent == 0) {
    v = std::ldexp(static_cast<float>(mantissa), -24);
  } else if (exponent == 31) {
    v = mantissa ? NAN : INFINITY;
  } else {
    v = std::ldexp(static_cast<float>(mantissa | 0x400), exponent - 25);
  }
  return (h & 0x8000) ? -v : v;
}

TEST(MaskTest, Float16KnownValues) {
  EXPECT_EQ(FloatToHalf(0.0f), 0x0000);
  EXPECT_EQ(FloatToHalf(-0.0f), 0x8000);
  EXPECT_EQ(FloatToHalf(1.0f), 0x3c00);
  EXPECT_EQ(FloatToHalf(0.5f), 0x3800);
  EXPECT_EQ(FloatToHalf(-2.0f), 0xc000);
  EXPECT_EQ(FloatToHalf(0.1f), 0x2e66);
  EXPECT_EQ(FloatToHalf(1.0f / 3), 0x3555);
  EXPECT_EQ(FloatToHalf(65504.0f), 0x7bff);
  EXPECT_EQ(FloatToHalf(65519.0f), 0x7bff);
  EXPECT_EQ(FloatToHalf(65520.0f), 0x7c00);  // tie, rounds to even = infinity
  EXPECT_EQ(FloatToHalf(1e9f), 0x7c00);
  EXPECT_EQ(FloatToHalf(-INFINITY), 0xfc00);
  EXPECT_EQ(FloatToHalf(NAN) & 0x7e00, 0x7e00);
  EXPECT_EQ(FloatToHalf(2049.0f), 0x6800);                // tie between 2048 and 2050 -> even 2048
  EXPECT_EQ(FloatToHalf(2051.0f), 0x6802);                // tie between 2050 and 2052 -> even 2052
  EXPECT_EQ(FloatToHalf(std::ldexp(1.0f, -24)), 0x0001);  // smallest subnormal
  EXPECT_EQ(FloatToHalf(std::ldexp(1.0f, -25)), 0x0000);  // tie -> even 0
  EXPECT_EQ(FloatToHalf(std::ldexp(1.5f, -25)), 0x0001);
  EXPECT_EQ(FloatToHalf(std::ldexp(1.0f, -14)), 0x0400);     // smallest normal
  EXPECT_EQ(FloatToHalf(std::ldexp(1023.5f, -24)), 0x0400);  // rounds up into normals
}

TEST(MaskTest, Float16ExhaustiveRoundTripAndTies) {
  for (uint32_t h = 0; h < 0x7c00; ++h) {  // every finite non-negative half
    const float v = HalfToFloat(static_cast<uint16_t>(h));
    ASSERT_EQ(FloatToHalf(v), h) << v;
    ASSERT_EQ(FloatToHalf(-v), h | 0x8000) << v;
    if (h + 1 < 0x7c00) {
      const float next = HalfToFloat(static_cast<uint16_t>(h + 1));
      const float mid = v + (next - v) / 2;  // exact in float
      ASSERT_EQ(FloatToHalf(mid), (h & 1) ? h + 1 : h) << mid;
      ASSERT_EQ(FloatToHalf(std::nextafter(mid, 0.0f)), h) << mid;
      ASSERT_EQ(FloatToHalf(std::nextafter(mid, INFINITY)), h + 1) << mid;
    }
  }
}

TEST(MaskTest, ProbabilitiesFloat16) {
  HostTensor logits{{1, 3}, {0.0f, 100.0f, -100.0f}};
  EXPECT_THAT(ProbabilitiesFloat16(logits), ElementsAre(0x3800, 0x3c00, 0x0000));
}

// ---- overlay ----

TEST(MaskTest, OverlayTintsMaskedPixelsAndAddsCaption) {
  const int64_t h = 120, w = 160;
  std::vector<uint8_t> rgb(h * w * 3), mask(h * w, 0);
  for (int64_t y = 0; y < h; ++y) {
    for (int64_t x = 0; x < w; ++x) {
      uint8_t* p = &rgb[(y * w + x) * 3];
      p[0] = static_cast<uint8_t>(x);
      p[1] = static_cast<uint8_t>(y);
      p[2] = 100;
      if ((x - 80) * (x - 80) + (y - 60) * (y - 60) < 30 * 30) mask[y * w + x] = 1;
    }
  }
  absl::StatusOr<std::string> png =
      RenderOverlayPng(rgb, h, w, mask, "a round polyp in the colon \xc3\xa9");
  ASSERT_TRUE(png.ok()) << png.status();
  if (const char* out = std::getenv("VLSM_OVERLAY_OUT")) std::ofstream(out) << *png;
  const cv::Mat m = cv::imdecode(std::vector<uchar>(png->begin(), png->end()), cv::IMREAD_COLOR);
  ASSERT_EQ(m.cols, w);
  ASSERT_EQ(m.rows, h + OverlayBandHeight(w));
  EXPECT_GE(OverlayBandHeight(w), 12);
  auto rgb_at = [&](int y, int x) {
    const cv::Vec3b bgr = m.at<cv::Vec3b>(y, x);
    return std::vector<int>{bgr[2], bgr[1], bgr[0]};
  };
  // Outside the mask: the image as it was.
  EXPECT_THAT(rgb_at(5, 7), ElementsAre(7, 5, 100));
  // Inside (away from the contour): blended towards red.
  const std::vector<int> inside = rgb_at(60, 80);
  EXPECT_NEAR(inside[0], 0.55 * 80 + 0.45 * 230, 1.5);
  EXPECT_NEAR(inside[1], 0.55 * 60 + 0.45 * 40, 1.5);
  EXPECT_NEAR(inside[2], 0.55 * 100 + 0.45 * 40, 1.5);
  // The contour (yellow) on the mask's edge row.
  int yellow = 0;
  for (int x = 0; x < w; ++x) {
    const std::vector<int> p = rgb_at(60, x);
    yellow += p[0] > 200 && p[1] > 180 && p[2] < 60;
  }
  EXPECT_GE(yellow, 2);
  // The band: dark, with bright caption pixels.
  int bright = 0;
  for (int y = h; y < m.rows; ++y) {
    for (int x = 0; x < w; ++x) bright += rgb_at(y, x)[0] > 200;
  }
  EXPECT_GT(bright, 20);
  EXPECT_THAT(rgb_at(m.rows - 1, w - 1), ElementsAre(24, 24, 24));
}

TEST(MaskTest, OverlayRejectsMismatchedSizes) {
  EXPECT_EQ(RenderOverlayPng(std::vector<uint8_t>(12), 2, 2, std::vector<uint8_t>(3), "x")
                .status()
                .code(),
            absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(RenderOverlayPng(std::vector<uint8_t>(11), 2, 2, std::vector<uint8_t>(4), "x")
                .status()
                .code(),
            absl::StatusCode::kInvalidArgument);
}

}  // namespace
}  // namespace vlsm
