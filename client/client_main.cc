// vlsm-client: command-line client for vlsm-server.
// Exit codes: 0 success (health: SERVING), 1 an error (printed as
// "vlsm-client: STATUS_NAME: message"; health: not SERVING), 2 usage.
#include <algorithm>
#include <iostream>
#include <string>
#include <vector>

#include "absl/flags/parse.h"
#include "absl/flags/usage.h"
#include "absl/status/status.h"
#include "client/commands.h"
#include "client/connection.h"
#include "client/flags.h"
#include "model/cli_inputs.h"

namespace {

constexpr char kUsage[] =
    "SUBCOMMAND [flags]\n"
    "  segment --task NAME --prompt TEXT [--prompt TEXT...] [--threshold T]\n"
    "          [--encoding png|rle|probabilities] [--overlay] --out DIR INPUTS...\n"
    "  upload  --name NAME --file FILE [--label L] [--prompt TEXT...] [--threshold T]\n"
    "  list    [--name NAME]\n"
    "  label   --name NAME --label L --version N\n"
    "  delete  --name NAME [--version N] [--force]\n"
    "  pin     --name NAME [--version N | --label L]   (unpin: the same)\n"
    "  health  [--service NAME]\n"
    "Common: --target HOST:PORT --token T | --token_file F --tls_ca F [--tls_cert F --tls_key F]\n"
    "        --deadline_ms N";

int Report(const absl::Status& status) {
  if (status.ok()) return 0;
  std::cerr << "vlsm-client: " << absl::StatusCodeToString(status.code()) << ": "
            << status.message() << "\n";
  if (vlsm::client::IsUsageError(status)) {
    std::cerr << "usage: vlsm-client " << kUsage << "\n";
    return 2;
  }
  return 1;
}

}  // namespace

int main(int argc, char** argv) {
  absl::SetProgramUsageMessage(kUsage);
  const std::vector<std::string> prompts = vlsm::ExtractRepeatedFlag("prompt", &argc, argv);
  const std::vector<char*> args = absl::ParseCommandLine(argc, argv);
  const std::string command = args.size() > 1 ? args[1] : "";
  const std::vector<std::string> rest(args.begin() + std::min<size_t>(2, args.size()), args.end());
  using vlsm::client::UsageError;
  if (command != "segment" && !rest.empty()) {
    return Report(UsageError("unexpected argument " + rest.front()));
  }
  if (!prompts.empty() && command != "segment" && command != "upload") {
    return Report(UsageError("--prompt is for segment and upload"));
  }
  auto connection = vlsm::client::Connection::FromFlags();
  if (!connection.ok()) return Report(connection.status());
  if (command == "segment") return Report(vlsm::client::RunSegment(*connection, prompts, rest));
  if (command == "upload") return Report(vlsm::client::RunUpload(*connection, prompts));
  if (command == "list") return Report(vlsm::client::RunList(*connection));
  if (command == "label") return Report(vlsm::client::RunLabel(*connection));
  if (command == "delete") return Report(vlsm::client::RunDelete(*connection));
  if (command == "pin" || command == "unpin") {
    return Report(vlsm::client::RunPin(*connection, command == "pin"));
  }
  if (command == "health") {
    bool serving = false;
    const int rc = Report(vlsm::client::RunHealth(*connection, &serving));
    return rc != 0 ? rc : (serving ? 0 : 1);
  }
  return Report(
      UsageError(command.empty() ? "missing subcommand" : "unknown subcommand " + command));
}
