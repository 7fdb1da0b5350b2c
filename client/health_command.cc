// health: grpc.health.v1.Health/Check.
#include <iostream>

#include "absl/flags/flag.h"
#include "client/commands.h"
#include "client/flags.h"
#include "health_check.grpc.pb.h"

namespace vlsm::client {

absl::Status RunHealth(const Connection& connection, bool* serving) {
  auto stub = grpc::health::v1::Health::NewStub(connection.channel());
  auto ctx = connection.NewContext();
  grpc::health::v1::HealthCheckRequest request;
  request.set_service(absl::GetFlag(FLAGS_service));
  grpc::health::v1::HealthCheckResponse response;
  if (auto s = FromGrpc(stub->Check(ctx.get(), request, &response)); !s.ok()) return s;
  std::cout << grpc::health::v1::HealthCheckResponse::ServingStatus_Name(response.status()) << "\n";
  *serving = response.status() == grpc::health::v1::HealthCheckResponse::SERVING;
  return absl::OkStatus();
}

}  // namespace vlsm::client
