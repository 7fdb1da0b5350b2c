// Small helpers shared by the RPC handlers.
// Threading: pure functions (the registry is read through its snapshot).
#ifndef VLSM_SERVER_CALL_UTIL_H_
#define VLSM_SERVER_CALL_UTIL_H_

#include <grpcpp/server_context.h>

#include <string>

#include "absl/time/time.h"
#include "server/adapter_registry.h"

namespace vlsm {

// The RPC's deadline as absl::Time (InfiniteFuture when it has none).
absl::Time DeadlineOf(const grpc::CallbackServerContext& context);

// The metrics label of a request's task: "" for the base model, the adapter
// name when it is registered, else "other" (never free text).
std::string TaskLabel(const AdapterRegistry& registry, const std::string& task);

}  // namespace vlsm

#endif  // VLSM_SERVER_CALL_UTIL_H_
