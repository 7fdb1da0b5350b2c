#include "server/call_util.h"

#include <chrono>

namespace vlsm {

absl::Time DeadlineOf(const grpc::CallbackServerContext& context) {
  const auto deadline = context.deadline();
  // gRPC reports "no deadline" as a time far in the future.
  if (deadline >= std::chrono::system_clock::now() + std::chrono::hours(24 * 365)) {
    return absl::InfiniteFuture();
  }
  return absl::FromChrono(deadline);
}

std::string TaskLabel(const AdapterRegistry& registry, const std::string& task) {
  if (task.empty()) return "";
  const std::string name = task.substr(0, task.find('@'));
  return registry.snapshot()->tasks.count(name) ? name : "other";
}

}  // namespace vlsm
