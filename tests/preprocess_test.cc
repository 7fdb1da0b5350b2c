#include "model/preprocess.h"

#include <cmath>
#include <cstdint>
#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "model/image_decode.h"
#include "model/safetensors.h"
#include "tests/support/cases.h"
#include "tests/support/imaging.h"

namespace vlsm {
namespace {

using test_support::ReadU8;
using ::testing::ElementsAre;
using ::testing::HasSubstr;

// ---- config ----

TEST(PreprocessConfigTest, LoadsTinyModelConfig) {
  absl::StatusOr<PreprocessConfig> c = LoadPreprocessConfig(test_support::TinyModelDir());
  ASSERT_TRUE(c.ok()) << c.status();
  EXPECT_EQ(c->height, 96);
  EXPECT_EQ(c->width, 96);
  EXPECT_EQ(c->resample, 2);
  EXPECT_TRUE(c->do_resize && c->do_rescale && c->do_normalize);
  EXPECT_THAT(c->mean, ElementsAre(0.485f, 0.456f, 0.406f));
  EXPECT_THAT(c->std, ElementsAre(0.229f, 0.224f, 0.225f));
  EXPECT_DOUBLE_EQ(c->rescale_factor, 1 / 255.);
}

TEST(PreprocessConfigTest, DefaultsWithoutFile) {
  const std::string dir = ::testing::TempDir() + "/no_preprocessor_config";
  std::filesystem::create_directories(dir);
  absl::StatusOr<PreprocessConfig> c = LoadPreprocessConfig(dir);
  ASSERT_TRUE(c.ok()) << c.status();
  EXPECT_EQ(c->height, 352);
  EXPECT_EQ(c->width, 352);
}

TEST(PreprocessConfigTest, BothHubStyles) {
  absl::StatusOr<PreprocessConfig> c = ParsePreprocessConfig(
      R"({"image_processor_type": "ViTImageProcessor", "size": {"height": 224, "width": 320},
          "rescale_factor": 0.5, "image_mean": [0.5, 0.5, 0.5], "image_std": 0.25,
          "do_normalize": false})");
  ASSERT_TRUE(c.ok()) << c.status();
  EXPECT_EQ(c->height, 224);
  EXPECT_EQ(c->width, 320);
  EXPECT_DOUBLE_EQ(c->rescale_factor, 0.5);
  EXPECT_THAT(c->mean, ElementsAre(0.5f, 0.5f, 0.5f));
  EXPECT_THAT(c->std, ElementsAre(0.25f, 0.25f, 0.25f));
  EXPECT_FALSE(c->do_normalize);

  c = ParsePreprocessConfig(R"({"size": {"shortest_edge": 160}})");
  ASSERT_TRUE(c.ok()) << c.status();
  EXPECT_EQ(c->height, 160);
  EXPECT_EQ(c->width, 160);

  c = ParsePreprocessConfig(R"({"feature_extractor_type": "ViTFeatureExtractor", "size": 64})");
  ASSERT_TRUE(c.ok()) << c.status();
  EXPECT_EQ(c->height, 64);
  EXPECT_EQ(c->width, 64);
}

TEST(PreprocessConfigTest, RejectsWhatItCannotDo) {
  struct Bad {
    const char* json;
    absl::StatusCode code;
    const char* message;
  };
  for (const Bad& bad : {
           Bad{"{", absl::StatusCode::kInvalidArgument, "malformed"},
           Bad{"[]", absl::StatusCode::kInvalidArgument, "not an object"},
           Bad{R"({"size": -3})", absl::StatusCode::kInvalidArgument, "size"},
           Bad{R"({"size": {"width": 3}})", absl::StatusCode::kInvalidArgument, "size"},
           Bad{R"({"size": "big"})", absl::StatusCode::kInvalidArgument, "size"},
           Bad{R"({"resample": 3})", absl::StatusCode::kUnimplemented, "resample 3"},
           Bad{R"({"image_std": [0, 1, 1]})", absl::StatusCode::kInvalidArgument, "image_std"},
           Bad{R"({"image_mean": [0, 1]})", absl::StatusCode::kInvalidArgument, "image_mean"},
           Bad{R"({"do_resize": "yes"})", absl::StatusCode::kInvalidArgument, "do_resize"},
           Bad{R"({"do_center_crop": true})", absl::StatusCode::kInvalidArgument, "center_crop"},
           Bad{R"({"image_processor_type": "CLIPImageProcessor"})",
               absl::StatusCode::kInvalidArgument, "CLIPImageProcessor"},
       }) {
    absl::StatusOr<PreprocessConfig> c = ParsePreprocessConfig(bad.json);
    EXPECT_EQ(c.status().code(), bad.code) << bad.json;
    EXPECT_THAT(c.status().message(), HasSubstr(bad.message)) << bad.json;
  }
}

TEST(PreprocessConfigTest, BadFileNamesItsPath) {
  const std::string dir = ::testing::TempDir() + "/bad_preprocessor_config";
  std::filesystem::create_directories(dir);
  std::ofstream(dir + "/preprocessor_config.json") << R"({"size": 0})";
  absl::StatusOr<PreprocessConfig> c = LoadPreprocessConfig(dir);
  EXPECT_EQ(c.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(c.status().message(), HasSubstr(dir));
}

// ---- Pillow BILINEAR ----

TEST(ResizeBilinearPilTest, MatchesPillowOnManySizes) {
  const auto fixtures = test_support::OpenImagingFixtures();
  int cases = 0;
  for (int i = 0;; ++i) {
    const auto in = ReadU8(*fixtures, "resize." + std::to_string(i) + ".in");
    const auto out = ReadU8(*fixtures, "resize." + std::to_string(i) + ".out");
    if (in.shape.empty()) break;
    ASSERT_EQ(in.shape.size(), 3u);
    const std::vector<uint8_t> got = ResizeBilinearPil(in.data.data(), in.shape[0], in.shape[1],
                                                       in.shape[2], out.shape[0], out.shape[1]);
    int64_t differ = 0;
    for (size_t j = 0; j < got.size() && got.size() == out.data.size(); ++j) {
      differ += got[j] != out.data[j];
    }
    EXPECT_EQ(got.size(), out.data.size()) << "case " << i;
    EXPECT_EQ(differ, 0) << "case " << i << ": " << in.shape[0] << "x" << in.shape[1] << "x"
                         << in.shape[2] << " -> " << out.shape[0] << "x" << out.shape[1];
    ++cases;
  }
  EXPECT_GE(cases, 40);
}

TEST(ResizeBilinearPilTest, HandComputedDownscale) {
  // 4 -> 2 (factor 2): support 2, each output averages a triangle over 4
  // inputs: weights 1/8, 3/8, 3/8, 1/8 clipped at the border. Output 0:
  // inputs 0..2 with weights 3,3,1 (/7) -> (0*3 + 70*3 + 140)/7 = 50.
  const uint8_t row[4] = {0, 70, 140, 210};
  EXPECT_THAT(ResizeBilinearPil(row, 1, 4, 1, 1, 2), ElementsAre(50, 160));
}

// ---- windowing ----

DecodedImage Gray(std::vector<float> values, int bits, const std::string& format = "png") {
  DecodedImage im;
  im.height = 1;
  im.width = static_cast<int64_t>(values.size());
  im.channels = 1;
  im.pixels = std::move(values);
  im.bits_stored = bits;
  im.format = format;
  return im;
}

std::vector<uint8_t> RedChannel(const std::vector<uint8_t>& rgb) {
  std::vector<uint8_t> r;
  for (size_t i = 0; i < rgb.size(); i += 3) {
    EXPECT_EQ(rgb[i], rgb[i + 1]);
    EXPECT_EQ(rgb[i], rgb[i + 2]);
    r.push_back(rgb[i]);
  }
  return r;
}

TEST(ToRgb8Test, EightBitIsTakenAsIs) {
  EXPECT_THAT(RedChannel(ToRgb8(Gray({0, 17, 255}, 8), std::nullopt)), ElementsAre(0, 17, 255));
  // A request window does not touch 8-bit non-DICOM sources.
  EXPECT_THAT(RedChannel(ToRgb8(Gray({0, 17, 255}, 8), Window{10, 2})), ElementsAre(0, 17, 255));
  DecodedImage rgb;
  rgb.height = 1;
  rgb.width = 1;
  rgb.channels = 3;
  rgb.pixels = {1, 2, 3};
  EXPECT_THAT(ToRgb8(rgb, std::nullopt), ElementsAre(1, 2, 3));
}

TEST(ToRgb8Test, SixteenBitMinMax) {
  // min 100 -> 0, max 1100 -> 255, 600 -> 127.5 -> 128.
  EXPECT_THAT(RedChannel(ToRgb8(Gray({100, 1100, 600, 350}, 16), std::nullopt)),
              ElementsAre(0, 255, 128, 64));
  // Constant image: black, no division by zero.
  EXPECT_THAT(RedChannel(ToRgb8(Gray({7, 7}, 16), std::nullopt)), ElementsAre(0, 0));
}

TEST(ToRgb8Test, DicomLinearVoi) {
  // Window center 40, width 400 (a CT soft-tissue window): lower edge
  // c - 0.5 - (w-1)/2 = -160, upper c - 0.5 + (w-1)/2 = 239.
  // y = ((x - 39.5) / 399 + 0.5) * 255.
  DecodedImage ct = Gray({-1000, -160, -159, 39.5f, 239, 240, 3000}, 12, "dicom");
  const std::vector<uint8_t> expected = {
      0,   0,  static_cast<uint8_t>(std::lround(((-159 - 39.5) / 399 + 0.5) * 255)), 128, 255,
      255, 255};
  EXPECT_EQ(RedChannel(ToRgb8(ct, Window{40, 400})), expected);
  // The file's window when the request has none.
  ct.file_window = Window{40, 400};
  EXPECT_EQ(RedChannel(ToRgb8(ct, std::nullopt)), expected);
  // The request wins over the file.
  EXPECT_THAT(RedChannel(ToRgb8(ct, Window{0.5, 1})), ElementsAre(0, 0, 0, 255, 255, 255, 255));
  // MONOCHROME1: inverted after windowing.
  ct.monochrome1 = true;
  std::vector<uint8_t> inverted;
  for (uint8_t v : expected) inverted.push_back(255 - v);
  EXPECT_EQ(RedChannel(ToRgb8(ct, std::nullopt)), inverted);
  // 8-bit DICOM is windowed too.
  EXPECT_THAT(RedChannel(ToRgb8(Gray({0, 100, 200}, 8, "dicom"), Window{100.5, 101})),
              ElementsAre(0, 128, 255));
}

// ---- the whole preprocessing against the reference vectors ----

TEST(PreprocessTest, MatchesHfViTImageProcessorOnReferenceImages) {
  const auto ref =
      *SafetensorsFile::Open(test_support::TestData("clipseg-tiny/preprocess.safetensors"));
  const auto cases =
      *SafetensorsFile::Open(test_support::TestData("clipseg-tiny/cases.safetensors"));
  absl::StatusOr<PreprocessConfig> config = LoadPreprocessConfig(test_support::TinyModelDir());
  ASSERT_TRUE(config.ok()) << config.status();
  const HostTensor all_pixels = test_support::ReadFloat(*cases, "pixel_values");
  int row = 0;
  for (const std::string name : {"img0_rgb_200x150", "img1_gray_128x128", "img2_rgb_80x64"}) {
    SCOPED_TRACE(name);
    const std::string bytes =
        test_support::ReadBytes(test_support::TestData("clipseg-tiny/images/" + name + ".png"));
    absl::StatusOr<DecodedImage> image = DecodeImage(bytes, DecodeLimits{});
    ASSERT_TRUE(image.ok()) << image.status();

    // Step 2 alone: PIL's BILINEAR resize, exact.
    const std::vector<uint8_t> rgb = ToRgb8(*image, std::nullopt);
    const auto resized_ref = ReadU8(*ref, name + ".resized_uint8");
    ASSERT_THAT(resized_ref.shape, ElementsAre(96, 96, 3));
    EXPECT_EQ(ResizeBilinearPil(rgb.data(), image->height, image->width, 3, 96, 96),
              resized_ref.data);

    // The whole processor.
    absl::StatusOr<HostTensor> pixels = Preprocess(*image, *config, std::nullopt);
    ASSERT_TRUE(pixels.ok()) << pixels.status();
    const HostTensor expected = test_support::ReadFloat(*ref, name + ".pixel_values");
    const test_support::Diff d = test_support::Compare(*pixels, expected);
    std::printf("%s pixel_values: max |d| %.3g, mean |d| %.3g\n", name.c_str(), d.max_abs,
                d.mean_abs);
    EXPECT_LE(d.max_abs, 1e-6);
    EXPECT_LE(d.mean_abs, 1e-7);
    // And it is row `row` of the model's test input.
    HostTensor row_pixels;
    row_pixels.shape = {3, 96, 96};
    row_pixels.data.assign(all_pixels.data.begin() + row * 3 * 96 * 96,
                           all_pixels.data.begin() + (row + 1) * 3 * 96 * 96);
    EXPECT_LE(test_support::Compare(*pixels, row_pixels).max_abs, 1e-6);
    ++row;
  }
}

TEST(PreprocessTest, RescaleAndNormalizeFormula) {
  DecodedImage im;
  im.height = 1;
  im.width = 2;
  im.channels = 3;
  im.pixels = {255, 0, 128, 1, 2, 3};
  PreprocessConfig c;
  c.do_resize = false;
  absl::StatusOr<HostTensor> t = Preprocess(im, c, std::nullopt);
  ASSERT_TRUE(t.ok()) << t.status();
  EXPECT_THAT(t->shape, ElementsAre(3, 1, 2));
  const float r255 = static_cast<float>(255 * (1 / 255.));
  const float r1 = static_cast<float>(1 * (1 / 255.));
  EXPECT_EQ(t->data[0], (r255 - 0.485f) / 0.229f);  // R of pixel 0
  EXPECT_EQ(t->data[1], (r1 - 0.485f) / 0.229f);    // R of pixel 1
  EXPECT_EQ(t->data[2], (0.0f - 0.456f) / 0.224f);  // G of pixel 0
  c.do_rescale = c.do_normalize = false;
  t = Preprocess(im, c, std::nullopt);
  ASSERT_TRUE(t.ok()) << t.status();
  EXPECT_THAT(t->data, ElementsAre(255, 1, 0, 2, 128, 3));
}

TEST(PreprocessTest, ResizesGrayAndSixteenBit) {
  DecodedImage im = Gray({0, 1000, 2000, 3000}, 16);
  im.height = 2;
  im.width = 2;
  PreprocessConfig c;
  c.height = 4;
  c.width = 6;
  c.do_normalize = false;
  absl::StatusOr<HostTensor> t = Preprocess(im, c, std::nullopt);
  ASSERT_TRUE(t.ok()) << t.status();
  EXPECT_THAT(t->shape, ElementsAre(3, 4, 6));
  EXPECT_EQ(t->data[0], 0.0f);                    // top-left stays black
  EXPECT_EQ(t->data[4 * 6 - 1], 1.0f);            // bottom-right stays white
  EXPECT_EQ(t->data[5], t->data[2 * 4 * 6 + 5]);  // gray: R == B
}

TEST(PreprocessTest, RejectsBadInput) {
  DecodedImage im = Gray({1, 2, 3}, 8);
  im.width = 4;  // 4 pixels declared, 3 held
  EXPECT_EQ(Preprocess(im, PreprocessConfig{}, std::nullopt).status().code(),
            absl::StatusCode::kInvalidArgument);
  im = Gray({1, 2, 3}, 16);
  EXPECT_THAT(Preprocess(im, PreprocessConfig{}, Window{10, 0}).status().message(),
              HasSubstr("window"));
  EXPECT_EQ(Preprocess(im, PreprocessConfig{}, Window{NAN, 10}).status().code(),
            absl::StatusCode::kInvalidArgument);
  PreprocessConfig c;
  c.height = 0;
  EXPECT_EQ(Preprocess(im, c, std::nullopt).status().code(), absl::StatusCode::kInvalidArgument);
  c = PreprocessConfig{};
  c.resample = 3;
  EXPECT_EQ(Preprocess(im, c, std::nullopt).status().code(), absl::StatusCode::kInvalidArgument);
}

}  // namespace
}  // namespace vlsm
