#include "server/request_image.h"

#include <cstdint>
#include <cstring>
#include <memory>
#include <string>
#include <vector>

#include "gtest/gtest.h"
#include "model/pipeline.h"
#include "tests/support/cases.h"
#include "tests/support/imaging.h"

namespace vlsm {
namespace {

class RequestImageTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    pipeline_ = Pipeline::Create(test_support::TinyModelWithTokenizer("request_image_model"),
                                 EngineOptions{})
                    ->release();
  }
  static void TearDownTestSuite() { delete pipeline_; }
  static Pipeline* pipeline_;
};
Pipeline* RequestImageTest::pipeline_ = nullptr;

template <typename T>
v1::Image Raw(v1::PixelType type, int height, int width, int channels, const std::vector<T>& v) {
  v1::Image image;
  v1::RawPixels* raw = image.mutable_raw();
  raw->set_type(type);
  raw->set_height(height);
  raw->set_width(width);
  raw->set_channels(channels);
  std::string data(v.size() * sizeof(T), '\0');
  std::memcpy(data.data(), v.data(), data.size());  // little-endian host, as the proto says
  raw->set_data(data);
  return image;
}

// Raw uint8 RGB pixels and the PNG file of the same pixels give the same
// decoded values and the same model input.
TEST_F(RequestImageTest, RawRgbEqualsTheEncodedFile) {
  v1::Image encoded;
  encoded.set_encoded(
      test_support::ReadBytes(test_support::TestData("clipseg-tiny/images/img0_rgb_200x150.png")));
  auto from_file = PrepareRequestImage(*pipeline_, encoded);
  ASSERT_TRUE(from_file.ok()) << from_file.status();
  const DecodedImage& d = from_file->decoded;
  std::vector<uint8_t> bytes(d.pixels.begin(), d.pixels.end());
  auto from_raw =
      PrepareRequestImage(*pipeline_, Raw(v1::UINT8, d.height, d.width, d.channels, bytes));
  ASSERT_TRUE(from_raw.ok()) << from_raw.status();
  EXPECT_EQ(from_raw->decoded.pixels, d.pixels);
  EXPECT_EQ(from_raw->pixel_values.shape, from_file->pixel_values.shape);
  EXPECT_EQ(from_raw->pixel_values.data, from_file->pixel_values.data);
}

TEST_F(RequestImageTest, WideSampleTypesKeepTheirValues) {
  auto u16 = PrepareRequestImage(*pipeline_, Raw<uint16_t>(v1::UINT16, 1, 3, 1, {0, 1000, 65535}));
  ASSERT_TRUE(u16.ok()) << u16.status();
  EXPECT_EQ(u16->decoded.pixels, (std::vector<float>{0, 1000, 65535}));
  EXPECT_EQ(u16->decoded.bits_stored, 16);
  auto s16 = PrepareRequestImage(*pipeline_, Raw<int16_t>(v1::INT16, 1, 3, 1, {-1024, 0, 3071}));
  ASSERT_TRUE(s16.ok()) << s16.status();
  EXPECT_EQ(s16->decoded.pixels, (std::vector<float>{-1024, 0, 3071}));
  auto f32 = PrepareRequestImage(*pipeline_, Raw<float>(v1::FLOAT32, 1, 2, 1, {-0.5f, 2.25f}));
  ASSERT_TRUE(f32.ok()) << f32.status();
  EXPECT_EQ(f32->decoded.pixels, (std::vector<float>{-0.5f, 2.25f}));
  EXPECT_EQ(f32->decoded.bits_stored, 32);
}

TEST_F(RequestImageTest, RawSizeMismatchIsInvalidArgument) {
  v1::Image image = Raw<uint16_t>(v1::UINT16, 2, 2, 1, {1, 2, 3});  // 3 of 4 samples
  auto prepared = PrepareRequestImage(*pipeline_, image);
  EXPECT_EQ(prepared.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_NE(prepared.status().message().find("expected 8 bytes, got 6"), std::string::npos)
      << prepared.status();
}

}  // namespace
}  // namespace vlsm
