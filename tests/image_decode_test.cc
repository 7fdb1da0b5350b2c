#include "model/image_decode.h"

#include <cstdint>
#include <opencv2/core.hpp>
#include <opencv2/imgcodecs.hpp>
#include <opencv2/imgproc.hpp>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "model/image_probe.h"
#include "model/preprocess.h"
#include "tests/support/imaging.h"

namespace vlsm {
namespace {

using test_support::ReadU8;
using ::testing::ElementsAre;
using ::testing::HasSubstr;

std::string Encode(const std::string& ext, const cv::Mat& m, std::vector<int> params = {}) {
  std::vector<uchar> out;
  EXPECT_TRUE(cv::imencode(ext, m, out, params)) << ext;
  return std::string(out.begin(), out.end());
}

// A 3-channel image (BGR in OpenCV order) whose every pixel differs.
cv::Mat Pattern(int rows, int cols, int type = CV_8UC3) {
  cv::Mat m(rows, cols, type);
  const int channels = m.channels();
  for (int y = 0; y < rows; ++y) {
    for (int x = 0; x < cols; ++x) {
      for (int c = 0; c < channels; ++c) {
        const int v = (y * 37 + x * 11 + c * 71) % 256;
        if (m.depth() == CV_8U) {
          m.ptr<uint8_t>(y)[x * channels + c] = static_cast<uint8_t>(v);
        } else {
          m.ptr<uint16_t>(y)[x * channels + c] = static_cast<uint16_t>(v * 257 + y);
        }
      }
    }
  }
  return m;
}

float At(const DecodedImage& im, int y, int x, int c) {
  return im.pixels[(static_cast<int64_t>(y) * im.width + x) * im.channels + c];
}

// Every value of `im` against the OpenCV matrix (BGR order).
void ExpectSame(const DecodedImage& im, const cv::Mat& bgr) {
  ASSERT_EQ(im.height, bgr.rows);
  ASSERT_EQ(im.width, bgr.cols);
  ASSERT_EQ(im.channels, bgr.channels() == 1 ? 1 : 3);
  cv::Mat f;
  bgr.convertTo(f, CV_MAKETYPE(CV_32F, bgr.channels()));
  for (int y = 0; y < bgr.rows; ++y) {
    for (int x = 0; x < bgr.cols; ++x) {
      for (int c = 0; c < im.channels; ++c) {
        const int src_c = im.channels == 1 ? 0 : 2 - c;  // BGR(A) -> RGB
        ASSERT_EQ(At(im, y, x, c), f.ptr<float>(y)[x * bgr.channels() + src_c])
            << y << "," << x << "," << c;
      }
    }
  }
}

absl::StatusOr<DecodedImage> Decode(const std::string& bytes, DecodeLimits limits = {}) {
  return DecodeImage(bytes, limits);
}

// ---- formats, depths, channels ----

TEST(ImageDecodeTest, LosslessFormatsRoundTrip) {
  const cv::Mat rgb = Pattern(13, 17);
  cv::Mat gray;
  cv::extractChannel(rgb, gray, 1);
  struct Case {
    const char* ext;
    const char* format;
    cv::Mat image;
    std::vector<int> params;
  };
  for (const Case& c : {
           Case{".png", "png", rgb, {}}, Case{".png", "png", gray, {}},
           Case{".bmp", "bmp", rgb, {}}, Case{".bmp", "bmp", gray, {}},
           Case{".tiff", "tiff", rgb, {}}, Case{".tiff", "tiff", gray, {}},
           Case{".webp", "webp", rgb, {cv::IMWRITE_WEBP_QUALITY, 101}},  // lossless
       }) {
    SCOPED_TRACE(std::string(c.ext) + " channels " + std::to_string(c.image.channels()));
    absl::StatusOr<DecodedImage> im = Decode(Encode(c.ext, c.image, c.params));
    ASSERT_TRUE(im.ok()) << im.status();
    EXPECT_EQ(im->format, c.format);
    EXPECT_EQ(im->bits_stored, 8);
    ExpectSame(*im, c.image);
  }
}

TEST(ImageDecodeTest, RedIsRed) {
  cv::Mat m(2, 2, CV_8UC3, cv::Scalar(0, 0, 255));  // BGR red
  absl::StatusOr<DecodedImage> im = Decode(Encode(".png", m));
  ASSERT_TRUE(im.ok()) << im.status();
  EXPECT_THAT(std::vector<float>(im->pixels.begin(), im->pixels.begin() + 3),
              ElementsAre(255, 0, 0));
}

TEST(ImageDecodeTest, SixteenBit) {
  const cv::Mat rgb16 = Pattern(9, 11, CV_16UC3);
  cv::Mat gray16;
  cv::extractChannel(rgb16, gray16, 0);
  for (const char* ext : {".png", ".tiff"}) {
    for (const cv::Mat& m : {rgb16, gray16}) {
      SCOPED_TRACE(std::string(ext) + " channels " + std::to_string(m.channels()));
      absl::StatusOr<DecodedImage> im = Decode(Encode(ext, m));
      ASSERT_TRUE(im.ok()) << im.status();
      EXPECT_EQ(im->bits_stored, 16);
      ExpectSame(*im, m);
    }
  }
}

TEST(ImageDecodeTest, AlphaIsDroppedWithoutCompositing) {
  cv::Mat bgra = Pattern(5, 6, CV_8UC4);
  bgra.at<cv::Vec4b>(0, 0) = cv::Vec4b(30, 20, 10, 0);  // fully transparent
  cv::Mat bgr;
  cv::cvtColor(bgra, bgr, cv::COLOR_BGRA2BGR);
  for (const char* ext : {".png", ".tiff"}) {
    SCOPED_TRACE(ext);
    absl::StatusOr<DecodedImage> im = Decode(Encode(ext, bgra));
    ASSERT_TRUE(im.ok()) << im.status();
    ExpectSame(*im, bgr);
    EXPECT_THAT(std::vector<float>(im->pixels.begin(), im->pixels.begin() + 3),
                ElementsAre(10, 20, 30));
  }
  // 16-bit RGBA too.
  absl::StatusOr<DecodedImage> im = Decode(Encode(".png", Pattern(4, 3, CV_16UC4)));
  ASSERT_TRUE(im.ok()) << im.status();
  EXPECT_EQ(im->channels, 3);
  EXPECT_EQ(im->bits_stored, 16);
}

TEST(ImageDecodeTest, JpegIsClose) {
  cv::Mat bgr(16, 32, CV_8UC3, cv::Scalar(30, 80, 200));
  bgr(cv::Rect(16, 0, 16, 16)).setTo(cv::Scalar(200, 150, 20));
  absl::StatusOr<DecodedImage> im = Decode(Encode(".jpg", bgr, {cv::IMWRITE_JPEG_QUALITY, 95}));
  ASSERT_TRUE(im.ok()) << im.status();
  EXPECT_EQ(im->format, "jpeg");
  EXPECT_EQ(im->channels, 3);
  EXPECT_EQ(im->bits_stored, 8);
  const float left[3] = {200, 80, 30}, right[3] = {20, 150, 200};  // RGB
  for (int c = 0; c < 3; ++c) {
    EXPECT_NEAR(At(*im, 8, 4, c), left[c], 4) << c;
    EXPECT_NEAR(At(*im, 8, 27, c), right[c], 4) << c;
  }
}

// PIL's Image.open(...).convert('RGB') of palette, palette + tRNS, LA,
// 1-bit and RGBA PNGs (tests/imaging_fixtures.py), exactly.
TEST(ImageDecodeTest, MatchesPilConvertRgb) {
  const auto fixtures = test_support::OpenImagingFixtures();
  for (const std::string kind : {"palette", "palette_trns", "la", "bits1", "rgba"}) {
    SCOPED_TRACE(kind);
    const auto bytes = ReadU8(*fixtures, "png." + kind + ".bytes");
    const auto rgb = ReadU8(*fixtures, "png." + kind + ".rgb");
    ASSERT_FALSE(bytes.shape.empty());
    absl::StatusOr<DecodedImage> im = Decode(std::string(bytes.data.begin(), bytes.data.end()));
    ASSERT_TRUE(im.ok()) << im.status();
    ASSERT_EQ(im->height, rgb.shape[0]);
    ASSERT_EQ(im->width, rgb.shape[1]);
    EXPECT_EQ(im->bits_stored, 8);
    EXPECT_EQ(ToRgb8(*im, std::nullopt), rgb.data);
  }
}

// ---- JPEG EXIF orientation ----

// A TIFF-structured EXIF block with IFD0 = {Orientation (SHORT) = o}, wrapped
// as an APP1 segment.
std::string ExifApp1(int orientation, bool big_endian) {
  auto u16 = [&](uint32_t v) {
    return big_endian ? std::string{char(v >> 8), char(v & 0xff)}
                      : std::string{char(v & 0xff), char(v >> 8)};
  };
  auto u32 = [&](uint32_t v) {
    return big_endian ? u16(v >> 16) + u16(v & 0xffff) : u16(v & 0xffff) + u16(v >> 16);
  };
  std::string tiff = big_endian ? "MM" : "II";
  tiff += u16(42) + u32(8);                                          // header, IFD0 at 8
  tiff += u16(2);                                                    // two entries
  tiff += u16(0x010f) + u16(2) + u32(4) + std::string("ab\0\0", 4);  // Make (ASCII)
  tiff += u16(0x0112) + u16(3) + u32(1) + u16(orientation) + u16(0);
  tiff += u32(0);  // no next IFD
  const std::string payload = std::string("Exif\0\0", 6) + tiff;
  const uint32_t length = static_cast<uint32_t>(payload.size() + 2);
  return std::string("\xFF\xE1") + char(length >> 8) + char(length & 0xff) + payload;
}

std::string InsertAfterSoi(const std::string& jpeg, const std::string& segment) {
  return jpeg.substr(0, 2) + segment + jpeg.substr(2);
}

// Where output pixel (y, x) comes from in the stored h x w image, per the
// EXIF definition of each orientation (written out, not via OpenCV).
std::pair<int, int> Source(int orientation, int y, int x, int h, int w) {
  switch (orientation) {
    case 2:
      return {y, w - 1 - x};  // mirrored horizontally
    case 3:
      return {h - 1 - y, w - 1 - x};  // rotated 180
    case 4:
      return {h - 1 - y, x};  // mirrored vertically
    case 5:
      return {x, y};  // transposed
    case 6:
      return {h - 1 - x, y};  // rotated 90 clockwise to display
    case 7:
      return {h - 1 - x, w - 1 - y};  // transverse
    case 8:
      return {x, w - 1 - y};  // rotated 90 counter-clockwise
    default:
      return {y, x};
  }
}

TEST(ImageDecodeTest, AppliesExifOrientation) {
  // Lossless-ish JPEG of a pattern; compare against the decoded unrotated
  // JPEG, so codec loss cancels out.
  const std::string plain = Encode(".jpg", Pattern(16, 24), {cv::IMWRITE_JPEG_QUALITY, 95});
  absl::StatusOr<DecodedImage> upright = Decode(plain);
  ASSERT_TRUE(upright.ok()) << upright.status();
  for (bool big_endian : {false, true}) {
    for (int o = 1; o <= 8; ++o) {
      SCOPED_TRACE(absl::StrCat("orientation ", o, big_endian ? " MM" : " II"));
      const std::string with_exif = InsertAfterSoi(plain, ExifApp1(o, big_endian));
      absl::StatusOr<ImageHeader> header = ProbeImageHeader(ImageFormat::kJpeg, with_exif);
      ASSERT_TRUE(header.ok()) << header.status();
      EXPECT_EQ(header->orientation, o);
      absl::StatusOr<DecodedImage> im = Decode(with_exif);
      ASSERT_TRUE(im.ok()) << im.status();
      const bool swapped = o >= 5;
      ASSERT_EQ(im->height, swapped ? 24 : 16);
      ASSERT_EQ(im->width, swapped ? 16 : 24);
      for (int y = 0; y < im->height; ++y) {
        for (int x = 0; x < im->width; ++x) {
          const auto [sy, sx] = Source(o, y, x, 16, 24);
          for (int c = 0; c < 3; ++c) ASSERT_EQ(At(*im, y, x, c), At(*upright, sy, sx, c));
        }
      }
    }
  }
}

TEST(ImageDecodeTest, ExifOrientationMatchesPilExifTranspose) {
  const auto fixtures = test_support::OpenImagingFixtures();
  for (int o = 1; o <= 8; ++o) {
    SCOPED_TRACE(o);
    const auto bytes = ReadU8(*fixtures, "jpeg." + std::to_string(o) + ".bytes");
    const auto rgb = ReadU8(*fixtures, "jpeg." + std::to_string(o) + ".rgb");
    ASSERT_FALSE(bytes.shape.empty());
    absl::StatusOr<DecodedImage> im = Decode(std::string(bytes.data.begin(), bytes.data.end()));
    ASSERT_TRUE(im.ok()) << im.status();
    ASSERT_EQ(im->height, rgb.shape[0]);
    ASSERT_EQ(im->width, rgb.shape[1]);
    EXPECT_EQ(ToRgb8(*im, std::nullopt), rgb.data);  // same libjpeg: exact
  }
}

// ---- limits: refused from the header, before decoding ----

std::string PngClaiming(uint32_t width, uint32_t height) {
  std::string png = Encode(".png", Pattern(4, 4));
  for (int i = 0; i < 4; ++i) {
    png[16 + i] = static_cast<char>(width >> (24 - 8 * i));
    png[20 + i] = static_cast<char>(height >> (24 - 8 * i));
  }
  return png;  // the IHDR CRC is now wrong, which only a decoder would see
}

TEST(ImageDecodeTest, RefusesPixelBombsFromTheHeader) {
  absl::StatusOr<DecodedImage> im = Decode(PngClaiming(100000, 100000));
  EXPECT_EQ(im.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(im.status().message(), HasSubstr("100000x100000"));
  EXPECT_THAT(im.status().message(), HasSubstr("over the limit"));

  // JPEG: patch the SOF dimensions.
  std::string jpeg = Encode(".jpg", Pattern(8, 8));
  const size_t sof = jpeg.find("\xFF\xC0");
  ASSERT_NE(sof, std::string::npos);
  jpeg[sof + 5] = jpeg[sof + 7] = '\xEA';  // 60000 = 0xEA60
  jpeg[sof + 6] = jpeg[sof + 8] = '\x60';
  EXPECT_THAT(Decode(jpeg).status().message(), HasSubstr("60000x60000"));

  // BMP: width at 18, height at 22 (little-endian int32).
  std::string bmp = Encode(".bmp", Pattern(4, 4));
  bmp.replace(18, 8, std::string("\xA0\x86\x01\x00\x60\x79\xFE\xFF", 8));  // 100000, -100000
  EXPECT_THAT(Decode(bmp).status().message(), HasSubstr("100000x100000"));

  // A small limit refuses an ordinary image, in every format.
  DecodeLimits small;
  small.max_pixels = 100;
  for (const char* ext : {".png", ".jpg", ".bmp", ".tiff", ".webp"}) {
    SCOPED_TRACE(ext);
    const std::string bytes = Encode(ext, Pattern(11, 10));
    absl::StatusOr<ImageHeader> header = ProbeImageHeader(SniffImageFormat(bytes), bytes);
    ASSERT_TRUE(header.ok()) << header.status();
    EXPECT_EQ(header->width, 10);
    EXPECT_EQ(header->height, 11);
    EXPECT_THAT(Decode(bytes, small).status().message(), HasSubstr("10x11 = 110 pixels"));
  }
}

TEST(ImageDecodeTest, ProbesWebpAndTiffVariants) {
  const cv::Mat m = Pattern(7, 9);
  for (const std::string& bytes :
       {Encode(".webp", m, {cv::IMWRITE_WEBP_QUALITY, 80}),   // VP8 (lossy)
        Encode(".webp", m, {cv::IMWRITE_WEBP_QUALITY, 101}),  // VP8L
        Encode(".tiff", Pattern(7, 9, CV_16UC3))}) {
    absl::StatusOr<ImageHeader> header = ProbeImageHeader(SniffImageFormat(bytes), bytes);
    ASSERT_TRUE(header.ok()) << header.status();
    EXPECT_EQ(header->width, 9);
    EXPECT_EQ(header->height, 7);
  }
  // A hand-made big-endian TIFF whose first IFD claims 100000 x 70000 (LONG).
  std::string tiff("MM\0*\0\0\0\x08\0\x02", 10);
  tiff += std::string("\x01\x00\x00\x04\x00\x00\x00\x01\x00\x01\x86\xA0", 12);
  tiff += std::string("\x01\x01\x00\x04\x00\x00\x00\x01\x00\x01\x11\x70", 12);
  tiff += std::string(4, '\0');
  EXPECT_THAT(Decode(tiff).status().message(), HasSubstr("100000x70000"));
  // A VP8X WebP claiming 16384 x 16384.
  std::string webp("RIFF\0\0\0\0WEBPVP8X\x0a\0\0\0\0\0\0\0\xff\x3f\0\xff\x3f\0", 30);
  EXPECT_THAT(Decode(webp).status().message(), HasSubstr("16384x16384"));
}

TEST(ImageDecodeTest, RefusesOversizeBytes) {
  DecodeLimits limits;
  limits.max_bytes = 10;
  EXPECT_THAT(Decode(Encode(".png", Pattern(4, 4)), limits).status().message(),
              HasSubstr("over the limit of 10"));
}

// ---- what is not ours, and what is broken ----

TEST(ImageDecodeTest, DicomIsForDecodeDicom) {
  std::string dicom(128, '\0');
  dicom += "DICM";
  dicom += std::string(64, '\x01');
  absl::StatusOr<DecodedImage> im = Decode(dicom);
  EXPECT_EQ(im.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(im.status().message(), HasSubstr("DICOM is decoded by DecodeDicom"));
  // Without the preamble, the hint says it.
  EXPECT_THAT(DecodeImage(std::string(300, '\x02'), {}, "dicom").status().message(),
              HasSubstr("DecodeDicom"));
}

TEST(ImageDecodeTest, SniffsInsteadOfTrustingTheHint) {
  absl::StatusOr<DecodedImage> im = DecodeImage(Encode(".png", Pattern(3, 3)), {}, "jpeg");
  ASSERT_TRUE(im.ok()) << im.status();
  EXPECT_EQ(im->format, "png");
  EXPECT_THAT(DecodeImage("GIF89a....", {}, "png").status().message(),
              HasSubstr("unrecognized image format"));
}

TEST(ImageDecodeTest, CorruptAndTruncatedInputsAreInvalidArgument) {
  const cv::Mat m = Pattern(40, 50);
  std::vector<std::pair<std::string, std::string>> bad = {{"empty", ""}};
  for (const char* ext : {".png", ".jpg", ".bmp", ".tiff", ".webp"}) {
    const std::string full = Encode(ext, m);
    bad.push_back({std::string(ext) + " half", full.substr(0, full.size() / 2)});
    bad.push_back({std::string(ext) + " header only", full.substr(0, 20)});
  }
  std::string png = Encode(".png", m);
  const size_t idat = png.find("IDAT");
  ASSERT_NE(idat, std::string::npos);
  for (size_t i = idat + 10; i < idat + 40; ++i) png[i] = static_cast<char>(png[i] ^ 0x5A);
  bad.push_back({"png corrupt IDAT", png});
  std::string jpeg = Encode(".jpg", m);
  bad.push_back({"jpeg without scan", jpeg.substr(0, jpeg.find("\xFF\xDA"))});
  for (const auto& [what, bytes] : bad) {
    absl::StatusOr<DecodedImage> im = Decode(bytes);
    EXPECT_EQ(im.status().code(), absl::StatusCode::kInvalidArgument) << what;
  }
  EXPECT_THAT(Decode(jpeg.substr(0, jpeg.size() - 100)).status().message(),
              HasSubstr("truncated JPEG"));
}

TEST(ImageDecodeTest, JpegWithTrailingBytesDecodes) {
  absl::StatusOr<DecodedImage> im = Decode(Encode(".jpg", Pattern(8, 8)) + "trailing junk");
  EXPECT_TRUE(im.ok()) << im.status();
}

}  // namespace
}  // namespace vlsm
