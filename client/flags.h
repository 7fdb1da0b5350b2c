// vlsm-client's flags: the common connection flags (every subcommand) and
// the subcommand flags. --prompt repeats and is pre-scanned from argv
// (vlsm::ExtractRepeatedFlag in model/cli_inputs.h), so it is not an absl flag.
#ifndef VLSM_CLIENT_FLAGS_H_
#define VLSM_CLIENT_FLAGS_H_

#include <cstdint>
#include <string>
#include <vector>

#include "absl/flags/declare.h"

ABSL_DECLARE_FLAG(std::string, target);
ABSL_DECLARE_FLAG(std::string, token);
ABSL_DECLARE_FLAG(std::string, token_file);
ABSL_DECLARE_FLAG(std::string, tls_ca);
ABSL_DECLARE_FLAG(std::string, tls_cert);
ABSL_DECLARE_FLAG(std::string, tls_key);
ABSL_DECLARE_FLAG(int64_t, deadline_ms);

ABSL_DECLARE_FLAG(std::string, task);
ABSL_DECLARE_FLAG(float, threshold);
ABSL_DECLARE_FLAG(std::string, encoding);
ABSL_DECLARE_FLAG(bool, overlay);
ABSL_DECLARE_FLAG(std::string, out);

ABSL_DECLARE_FLAG(std::string, name);
ABSL_DECLARE_FLAG(std::string, file);
ABSL_DECLARE_FLAG(std::string, label);
ABSL_DECLARE_FLAG(uint64_t, version);
ABSL_DECLARE_FLAG(bool, force);
ABSL_DECLARE_FLAG(std::string, service);

#endif  // VLSM_CLIENT_FLAGS_H_
