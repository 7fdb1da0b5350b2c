// vlsm-client's subcommands. Each reads its flags (client/flags.h), prints
// its result on stdout and returns the first error.
#ifndef VLSM_CLIENT_COMMANDS_H_
#define VLSM_CLIENT_COMMANDS_H_

#include <string>
#include <vector>

#include "absl/status/status.h"
#include "client/connection.h"

namespace vlsm::client {

// segment --task NAME --prompt TEXT... --out DIR INPUTS...
absl::Status RunSegment(const Connection& connection, const std::vector<std::string>& prompts,
                        const std::vector<std::string>& inputs);

// upload --name NAME --file FILE [--label L] [--prompt ...] [--threshold T]
absl::Status RunUpload(const Connection& connection, const std::vector<std::string>& prompts);
// list [--name NAME]
absl::Status RunList(const Connection& connection);
// label --name NAME --label L --version N
absl::Status RunLabel(const Connection& connection);
// delete --name NAME [--version N] [--force]
absl::Status RunDelete(const Connection& connection);
// pin / unpin --name NAME [--version N | --label L]: keeps the version on
// (or releases it from) the serving device; default: the latest version.
absl::Status RunPin(const Connection& connection, bool pinned);

// health [--service NAME]: prints the serving status; sets *serving.
absl::Status RunHealth(const Connection& connection, bool* serving);

}  // namespace vlsm::client

#endif  // VLSM_CLIENT_COMMANDS_H_
