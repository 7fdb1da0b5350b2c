// The mask decoding half of the gRPC segmenter (the stream itself runs
// against a real vlsm-server in tests/pacs_orthanc_test.py).
#include "client/pacs_segmenter.h"

#include <random>
#include <thread>

#include "gtest/gtest.h"
#include "model/mask.h"

namespace vlsm::pacs {
namespace {

TEST(PacsDecodeCocoRle, InvertsTheServersEncoder) {
  std::mt19937 rng(7);
  for (auto [h, w] : std::vector<std::pair<long, long>>{{1, 1}, {5, 3}, {64, 64}, {37, 129}}) {
    for (int density : {0, 3, 50, 97, 100}) {
      std::vector<uint8_t> mask(static_cast<size_t>(h * w));
      for (auto& m : mask) m = static_cast<int>(rng() % 100) < density ? 1 : 0;
      const std::string rle = EncodeCocoRle(mask, h, w);
      auto decoded = DecodeCocoRle(rle, h, w);
      ASSERT_TRUE(decoded.ok()) << decoded.status();
      EXPECT_EQ(*decoded, mask) << h << "x" << w << " density " << density;
    }
  }
}

TEST(PacsDecodeCocoRle, ColumnMajorRuns) {
  // 2x3, pycocotools counts [1, 2, 3]: background 1, foreground 2, background 3
  // over columns -> pixels (1,0) and (0,1) set.
  const std::vector<uint32_t> counts = {1, 2, 3};
  auto decoded = DecodeCocoRle(CocoRleString(counts), 2, 3);
  ASSERT_TRUE(decoded.ok());
  EXPECT_EQ(*decoded, (std::vector<uint8_t>{0, 1, 0, 1, 0, 0}));
}

TEST(PacsDecodeCocoRle, RejectsCountsThatDoNotFit) {
  const std::string rle = EncodeCocoRle(std::vector<uint8_t>(12, 1), 3, 4);
  EXPECT_FALSE(DecodeCocoRle(rle, 3, 5).ok());  // too few pixels
  EXPECT_FALSE(DecodeCocoRle(rle, 2, 4).ok());  // too many
  EXPECT_FALSE(DecodeCocoRle("\x01", 3, 4).ok());
  EXPECT_FALSE(DecodeCocoRle("", 3, 4).ok());
  EXPECT_FALSE(DecodeCocoRle(rle, 0, 4).ok());
}

TEST(PacsGrpcSegmenter, OptionsAreChecked) {
  GrpcSegmenterOptions o;
  EXPECT_EQ(MakeGrpcSegmenter(o).status().code(), absl::StatusCode::kInvalidArgument);
  o.target = "localhost:1";
  o.tls_cert = "c.pem";
  EXPECT_EQ(MakeGrpcSegmenter(o).status().code(), absl::StatusCode::kInvalidArgument);
  o.tls_cert.clear();
  auto segmenter = MakeGrpcSegmenter(o);
  ASSERT_TRUE(segmenter.ok());
  Route no_prompts;
  EXPECT_EQ((*segmenter)->Segment({}, no_prompts).status().code(),
            absl::StatusCode::kInvalidArgument);
}

TEST(PacsGrpcSegmenter, UnreachableServiceIsRetryable) {
  GrpcSegmenterOptions o;
  o.target = "127.0.0.1:1";  // nothing listens on port 1
  o.deadline = absl::Milliseconds(300);
  auto segmenter = MakeGrpcSegmenter(o);
  ASSERT_TRUE(segmenter.ok());
  Route route;
  route.prompts = {"organ"};
  const std::string bytes = "not used";
  auto masks = (*segmenter)->Segment({SliceInput{bytes, 2, 2}}, route);
  ASSERT_FALSE(masks.ok());
  EXPECT_TRUE(masks.status().code() == absl::StatusCode::kUnavailable ||
              masks.status().code() == absl::StatusCode::kDeadlineExceeded)
      << masks.status();
}

TEST(PacsGrpcSegmenter, CancelEndsAWaitingStreamAndLaterCalls) {
  GrpcSegmenterOptions o;
  o.target = "127.0.0.1:1";
  o.deadline = absl::Minutes(10);  // without Cancel the call would wait this long
  auto segmenter = MakeGrpcSegmenter(o);
  ASSERT_TRUE(segmenter.ok());
  Route route;
  route.prompts = {"organ"};
  const std::string bytes = "not used";
  absl::Status result;
  std::thread call([&] {
    result = (*segmenter)->Segment({SliceInput{bytes, 2, 2}}, route).status();
  });
  (*segmenter)->Cancel();  // whether the call registered yet or not, it ends CANCELLED
  call.join();
  EXPECT_EQ(result.code(), absl::StatusCode::kCancelled) << result;
  EXPECT_EQ((*segmenter)->Segment({SliceInput{bytes, 2, 2}}, route).status().code(),
            absl::StatusCode::kCancelled);
}

}  // namespace
}  // namespace vlsm::pacs
