// End to end without a server: PNG bytes and prompt text in, masks out,
// against the reference (pixel_values, input_ids, logits, mask_orig), and
// `vlsm-infer segment` writing the same masks.
#include "model/pipeline.h"

#include <cstdlib>
#include <filesystem>

#include "gtest/gtest.h"
#include "model/image_decode.h"
#include "tests/support/cases.h"

namespace vlsm {
namespace {

namespace fs = std::filesystem;
using test_support::Compare;
using test_support::LoadTinyCases;
using test_support::TestData;

// clipseg-tiny's weights + the CLIP tokenizer files: a complete HF directory.
std::string TinyModelWithTokenizer() {
  return test_support::TinyModelWithTokenizer("tiny_with_tokenizer");
}

const char* kImages[] = {"img0_rgb_200x150.png", "img1_gray_128x128.png", "img2_rgb_80x64.png"};
const char* kPrompts[] = {"a round polyp in the colon", "skin lesion",
                          "breast tumor with irregular margins"};

class PipelineTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    model_dir_ = new std::string(TinyModelWithTokenizer());
    pipeline_ = Pipeline::Create(*model_dir_, EngineOptions{})->release();
  }
  static void TearDownTestSuite() {
    delete pipeline_;
    delete model_dir_;
  }
  static Pipeline* pipeline_;
  static std::string* model_dir_;
};
Pipeline* PipelineTest::pipeline_ = nullptr;
std::string* PipelineTest::model_dir_ = nullptr;

TEST_F(PipelineTest, BytesAndTextToReferenceMasks) {
  auto cases = LoadTinyCases();
  for (int i = 0; i < 3; ++i) {
    auto image = pipeline_->PrepareImage(
        test_support::ReadFileBytes(TestData(std::string("clipseg-tiny/images/") + kImages[i])), "",
        std::nullopt);
    ASSERT_TRUE(image.ok()) << image.status();
    EXPECT_LE(Compare(image->pixel_values, cases.images[i]).max_abs, 1e-6) << kImages[i];
    auto prompt = pipeline_->EncodePrompt(kPrompts[i]);
    ASSERT_TRUE(prompt.ok()) << prompt.status();
    EXPECT_EQ(prompt->input_ids, cases.prompts[i].input_ids);
    EXPECT_EQ(prompt->attention_mask, cases.prompts[i].attention_mask);

    auto logits = pipeline_->engine().Segment({image->pixel_values}, {{0, *prompt, nullptr}});
    ASSERT_TRUE(logits.ok()) << logits.status();
    auto ref = test_support::ReadFloat(*cases.file, "logits.base");
    HostTensor ref_row{{96, 96}, {ref.data.begin() + i * 96 * 96, ref.data.begin() + (i + 1) * 96 * 96}};
    EXPECT_LE(Compare((*logits)[0], ref_row).max_abs, 1e-3);

    auto mask = pipeline_->Mask((*logits)[0], image->decoded, 0.5f, MaskResize::kNearestExact);
    const TensorView* want = cases.file->Find("mask_orig.base." + std::to_string(i));
    ASSERT_NE(want, nullptr);
    ASSERT_EQ(mask.size(), want->nbytes);
    int64_t differ = 0;
    for (size_t p = 0; p < mask.size(); ++p) {
      differ += mask[p] != static_cast<const uint8_t*>(want->data)[p];
    }
    EXPECT_EQ(differ, 0) << kImages[i];

    // The default (bilinear logits) mask has the original size too and
    // agrees with the nearest-exact one away from edges (the random reference
    // weights give speckled masks with many edges: 84-85% measured; the
    // bilinear resize itself is checked against torch in mask_test).
    auto smooth = pipeline_->Mask((*logits)[0], image->decoded, 0.5f, MaskResize::kBilinearLogits);
    ASSERT_EQ(smooth.size(), mask.size());
    int64_t agree = 0;
    for (size_t p = 0; p < mask.size(); ++p) agree += smooth[p] == mask[p];
    EXPECT_GT(agree, static_cast<int64_t>(mask.size() * 0.75));
  }
}

TEST_F(PipelineTest, CorruptImageAndBadPromptAreInvalidArgument) {
  std::string png = test_support::ReadFileBytes(TestData("clipseg-tiny/images/img0_rgb_200x150.png"));
  png.resize(png.size() / 3);
  EXPECT_EQ(pipeline_->PrepareImage(png, "", std::nullopt).status().code(),
            absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(pipeline_->PrepareImage("not an image", "", std::nullopt).status().code(),
            absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(pipeline_->EncodePrompt("\xff\xfe").status().code(),
            absl::StatusCode::kInvalidArgument);
}

TEST_F(PipelineTest, InferSegmentWritesTheSameMasks) {
  const std::string out = test_support::UniqueTempPath("infer_segment_out");
  fs::remove_all(out);
  const std::string cmd = std::string(VLSM_BIN_DIR) + "/vlsm-infer segment --model " +
                          *model_dir_ + " --mask_resize nearest --prompt '" + kPrompts[0] +
                          "' --out " + out + " " + TestData("clipseg-tiny/images") + " > /dev/null";
  ASSERT_EQ(std::system(cmd.c_str()), 0) << cmd;
  auto cases = LoadTinyCases();
  auto written = DecodeImage(test_support::ReadFileBytes(out + "/img0_rgb_200x150_p0_mask.png"), DecodeLimits{});
  ASSERT_TRUE(written.ok()) << written.status();
  ASSERT_EQ(written->height, 150);
  ASSERT_EQ(written->width, 200);
  const TensorView* want = cases.file->Find("mask_orig.base.0");
  const auto* w = static_cast<const uint8_t*>(want->data);
  int64_t differ = 0;
  for (int64_t p = 0; p < 150 * 200; ++p) {
    differ += (written->pixels[p * written->channels] > 127) != (w[p] != 0);
  }
  EXPECT_EQ(differ, 0);
  for (const char* img : {"img0_rgb_200x150", "img1_gray_128x128", "img2_rgb_80x64"}) {
    EXPECT_TRUE(fs::exists(out + "/" + img + "_p0_overlay.png")) << img;
  }
}

}  // namespace
}  // namespace vlsm
