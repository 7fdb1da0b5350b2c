// The gRPC segmenter's option checks and failure paths (the stream itself
// runs against a real vlsm-server in tests/pacs_orthanc_test.py; its mask
// decoding is DecodeCocoRle, tested in mask_test.cc).
#include "client/pacs_segmenter.h"

#include <thread>

#include "gtest/gtest.h"

namespace vlsm::pacs {
namespace {

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
