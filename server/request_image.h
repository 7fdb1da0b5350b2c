// The image of a SegmentRequest (encoded file bytes or raw pixels) decoded
// and preprocessed for the model.
//
// Threading: pure apart from the borrowed, thread-safe Pipeline; CPU-heavy,
// so call it from a worker thread, never from a gRPC callback thread.
// Errors: InvalidArgument for a missing, undecodable, oversized or
// inconsistent image (the message never contains pixel data or DICOM tags).
#ifndef VLSM_SERVER_REQUEST_IMAGE_H_
#define VLSM_SERVER_REQUEST_IMAGE_H_

#include <optional>

#include "absl/status/statusor.h"
#include "model/image.h"
#include "model/pipeline.h"
#include "vlsm/v1/segmentation.pb.h"

namespace vlsm {

// The request's window, when it sets one with width > 0.
std::optional<Window> RequestWindow(const v1::Image& image);

absl::StatusOr<PreparedImage> PrepareRequestImage(const Pipeline& pipeline, const v1::Image& image);

}  // namespace vlsm

#endif  // VLSM_SERVER_REQUEST_IMAGE_H_
