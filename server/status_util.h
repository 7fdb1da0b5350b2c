// The one place where absl::Status becomes grpc::Status. Every RPC handler
// works in absl::Status and converts at its boundary with ToGrpcStatus.
//
// Threading: pure function. Error contract: the canonical codes map 1:1
// (gRPC and Abseil share the numbering); the message is passed through and
// must never contain pixel data, prompts or DICOM identifiers.
#ifndef VLSM_SERVER_STATUS_UTIL_H_
#define VLSM_SERVER_STATUS_UTIL_H_

#include <grpcpp/support/status.h>

#include "absl/status/status.h"

namespace vlsm {

grpc::Status ToGrpcStatus(const absl::Status& status);

}  // namespace vlsm

#endif  // VLSM_SERVER_STATUS_UTIL_H_
