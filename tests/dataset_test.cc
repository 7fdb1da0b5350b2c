// SegDataset: the VLSM-Adapter layout, preprocessing of images and masks,
// prompt choice, and a named error for every malformed part.
#include "model/dataset.h"

#include <filesystem>
#include <map>
#include <random>
#include <set>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "model/image_decode.h"
#include "opencv2/imgcodecs.hpp"
#include "tests/support/cases.h"
#include "tests/support/tiny_dataset.h"

namespace vlsm {
namespace {

namespace fs = std::filesystem;
using test_support::UniqueTempPath;
using test_support::WriteFileBytes;
using ::testing::HasSubstr;

PreprocessConfig Square(int64_t s) {
  PreprocessConfig c;
  c.height = c.width = s;
  return c;
}

class DatasetTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = UniqueTempPath(std::string("dataset_") +
                          ::testing::UnitTest::GetInstance()->current_test_info()->name());
    fs::remove_all(dir_);
    test_support::WriteTinyDataset(dir_, 3, 2, 1);
  }
  void TearDown() override { fs::remove_all(dir_); }

  void WriteTrain(const std::string& json) { WriteFileBytes(dir_ + "/anns/train.json", json); }
  absl::Status OpenTrain() { return SegDataset::Open(dir_, "train", Square(32)).status(); }

  std::string dir_;
};

TEST_F(DatasetTest, ReadsEverySplitThroughThePreprocessing) {
  auto train = SegDataset::Open(dir_, "train", Square(32));
  ASSERT_TRUE(train.ok()) << train.status();
  EXPECT_EQ((*train)->size(), 3u);
  EXPECT_EQ((*train)->image_size(), 32);
  const SegSample& s = (*train)->sample(0);
  EXPECT_EQ(s.image_name, "train_0.png");
  EXPECT_EQ(s.pixels.shape, (std::vector<int64_t>{3, 32, 32}));
  EXPECT_THAT(s.prompts, ::testing::ElementsAre("a bright square", "the square", "square"));

  // The pixels are exactly the serving preprocessing of the decoded file.
  auto decoded = DecodeImage(test_support::ReadFileBytes(dir_ + "/images/train_0.png"), {});
  ASSERT_TRUE(decoded.ok());
  auto expected = Preprocess(*decoded, Square(32), std::nullopt);
  ASSERT_TRUE(expected.ok());
  EXPECT_EQ(s.pixels.data, expected->data);

  // 0/1 mask with a foreground part and a background part.
  ASSERT_EQ(s.mask.size(), 32u * 32u);
  std::set<float> values(s.mask.begin(), s.mask.end());
  EXPECT_EQ(values, (std::set<float>{0.f, 1.f}));

  EXPECT_EQ(SegDataset::Open(dir_, "val", Square(32)).value()->size(), 2u);
  EXPECT_EQ(SegDataset::Open(dir_, "test", Square(32)).value()->size(), 1u);
}

TEST_F(DatasetTest, MasksAreResizedNearestAndBinarized) {
  // A 4x4 mask with one foreground quadrant of value 7 (any non-zero counts).
  cv::Mat image(4, 4, CV_8UC3, cv::Scalar(10, 20, 30));
  cv::Mat mask(4, 4, CV_8UC1, cv::Scalar(0));
  mask(cv::Rect(2, 0, 2, 2)).setTo(7);
  cv::imwrite(dir_ + "/images/q.png", image);
  cv::imwrite(dir_ + "/masks/q.png", mask);
  WriteTrain(R"([{"img_name": "q.png", "mask_name": "q.png", "prompts": {"p0": "x"}}])");
  auto ds = SegDataset::Open(dir_, "train", Square(8));
  ASSERT_TRUE(ds.ok()) << ds.status();
  const auto& m = (*ds)->sample(0).mask;
  for (int y = 0; y < 8; ++y) {
    for (int x = 0; x < 8; ++x) {
      EXPECT_EQ(m[y * 8 + x], (y < 4 && x >= 4) ? 1.f : 0.f) << y << "," << x;
    }
  }
}

TEST_F(DatasetTest, PromptKeysInNumericOrderAndSeededChoice) {
  WriteTrain(R"([{"img_name": "train_0.png", "mask_name": "train_0.png",
                  "prompts": {"p10": "ten", "p2": ["two", "deux"], "p0": "zero", "p1": ""}}])");
  auto ds = SegDataset::Open(dir_, "train", Square(16));
  ASSERT_TRUE(ds.ok()) << ds.status();
  EXPECT_THAT((*ds)->sample(0).prompts, ::testing::ElementsAre("zero", "two", "deux", "ten"));
  EXPECT_EQ((*ds)->EvalPrompt(0), "zero");
  std::mt19937_64 a(5), b(5);
  std::map<std::string, int> seen;
  for (int i = 0; i < 200; ++i) {
    const std::string& pa = (*ds)->RandomPrompt(0, a);
    EXPECT_EQ(pa, (*ds)->RandomPrompt(0, b));
    ++seen[pa];
  }
  EXPECT_EQ(seen.size(), 4u);  // every prompt gets picked
}

TEST_F(DatasetTest, MissingFilesAreNotFoundNamingThem) {
  auto missing_split = SegDataset::Open(dir_, "nosuch", Square(16));
  EXPECT_EQ(missing_split.status().code(), absl::StatusCode::kNotFound);
  EXPECT_THAT(missing_split.status().message(), HasSubstr("anns/nosuch.json"));

  fs::remove(dir_ + "/masks/train_1.png");
  auto s = OpenTrain();
  EXPECT_EQ(s.code(), absl::StatusCode::kNotFound);
  EXPECT_THAT(s.message(), HasSubstr("masks/train_1.png"));
}

TEST_F(DatasetTest, MalformedAnnotationsAreInvalidArgumentNamingTheEntry) {
  const std::string ok =
      R"({"img_name": "train_0.png", "mask_name": "train_0.png", "prompts": {"p0": "x"}})";
  const std::vector<std::pair<std::string, std::string>> cases = {
      {"[1, 2", "not valid JSON"},
      {R"({"a": 1})", "expected a JSON list"},
      {"[]", "no entries"},
      {"[" + ok + ", 3]", "entry 1: not an object"},
      {"[" + ok + R"(, {"mask_name": "train_0.png", "prompts": {"p0": "x"}}])",
       "entry 1: \"img_name\""},
      {R"([{"img_name": "train_0.png", "mask_name": 5, "prompts": {"p0": "x"}}])",
       "entry 0: \"mask_name\""},
      {R"([{"img_name": "train_0.png", "mask_name": "train_0.png"}])", "entry 0: \"prompts\""},
      {R"([{"img_name": "train_0.png", "mask_name": "train_0.png", "prompts": {"p0": 3}}])",
       "prompt \"p0\" must be a string or a list"},
      {R"([{"img_name": "train_0.png", "mask_name": "train_0.png", "prompts": {"p0": ["a", 1]}}])",
       "prompt \"p0\" holds a non-string"},
      {R"([{"img_name": "train_0.png", "mask_name": "train_0.png", "prompts": {"p0": ""}}])",
       "entry 0: no prompts"},
      {R"([{"img_name": "../x.png", "mask_name": "train_0.png", "prompts": {"p0": "x"}}])",
       "leaves the dataset directory"},
  };
  for (const auto& [json, message] : cases) {
    WriteTrain(json);
    absl::Status s = OpenTrain();
    EXPECT_EQ(s.code(), absl::StatusCode::kInvalidArgument) << json;
    EXPECT_THAT(s.message(), HasSubstr(message)) << json;
  }
}

TEST_F(DatasetTest, BadImagesAndMismatchedMasksAreInvalidArgument) {
  WriteFileBytes(dir_ + "/images/train_0.png", "not a png");
  absl::Status s = OpenTrain();
  EXPECT_EQ(s.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(s.message(), HasSubstr("images/train_0.png"));

  test_support::WriteTinyDataset(dir_, 3, 2, 1);
  cv::imwrite(dir_ + "/masks/train_2.png", cv::Mat(10, 12, CV_8UC1, cv::Scalar(0)));
  s = OpenTrain();
  EXPECT_EQ(s.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(s.message(), HasSubstr("entry 2: mask train_2.png is 12x10"));

  EXPECT_EQ(SegDataset::Open(dir_, "val", PreprocessConfig{}).status().code(),
            absl::StatusCode::kOk);  // the default (352 x 352) is square
  PreprocessConfig oblong = Square(16);
  oblong.width = 20;
  EXPECT_EQ(SegDataset::Open(dir_, "val", oblong).status().code(),
            absl::StatusCode::kInvalidArgument);
}

}  // namespace
}  // namespace vlsm
