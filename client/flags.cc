#include "client/flags.h"

#include "absl/flags/flag.h"

// Common to every subcommand.
ABSL_FLAG(std::string, target, "localhost:50051", "Server address, HOST:PORT.");
ABSL_FLAG(std::string, token, "",
          "Bearer token sent as 'authorization: Bearer TOKEN' (the admin RPCs need it). "
          "Prefer --token_file: a flag is visible in the process list.");
ABSL_FLAG(std::string, token_file, "",
          "File holding the bearer token (surrounding whitespace is ignored).");
ABSL_FLAG(std::string, tls_ca, "",
          "PEM root certificates to verify the server with; set to use TLS. Without it the "
          "connection is plaintext (insecure).");
ABSL_FLAG(std::string, tls_cert, "",
          "PEM client certificate chain for mutual TLS (needs --tls_ca and --tls_key).");
ABSL_FLAG(std::string, tls_key, "", "PEM private key of --tls_cert.");
ABSL_FLAG(int64_t, deadline_ms, 0,
          "Deadline of each RPC in milliseconds (segment of a folder: the whole stream); "
          "0 = none.");

// segment
ABSL_FLAG(std::string, task, "",
          "Adapter to segment with: NAME, NAME@VERSION or NAME@LABEL; empty = the base model.");
ABSL_FLAG(float, threshold, 0,
          "segment: mask threshold (0 = the adapter's). upload: the version's threshold "
          "(0 = the file's).");
ABSL_FLAG(std::string, encoding, "png",
          "segment: mask encoding, png (writes <stem>_p<k>_mask.png), rle (<stem>_p<k>_mask.rle, "
          "COCO counts) or probabilities (<stem>_p<k>_prob.f16, float16 H x W).");
ABSL_FLAG(bool, overlay, false, "segment: also write <stem>_p<k>_overlay.png.");
ABSL_FLAG(std::string, out, "", "segment: output folder (created if missing).");

// Adapter administration and health.
ABSL_FLAG(std::string, name, "", "Adapter task name (upload, list, label, delete).");
ABSL_FLAG(std::string, file, "", "upload: the adapter .safetensors file.");
ABSL_FLAG(std::string, label, "",
          "upload: point this label at the new version. label: the label to move.");
ABSL_FLAG(uint64_t, version, 0,
          "label: the version the label points at. delete: the version (0 = every version).");
ABSL_FLAG(bool, force, false, "delete: also delete versions a label points at.");
ABSL_FLAG(std::string, service, "",
          "health: the service to check (\"\" = the whole server, or vlsm.v1.SegmentationService, "
          "vlsm.v1.AdapterAdmin).");
