// Where the embedded default model lives, for tools started without --model.
//
// The default model (model/default/: a small CLIPSeg trained from scratch on
// the synthetic shapes set, with its SentencePiece tokenizer and demo
// adapters; see model/default/README.md) ships with the source tree and is
// installed next to the binaries. Lookup order, first existing directory with
// a config.json wins:
//   1. $VLSM_DEFAULT_MODEL (operators point it anywhere);
//   2. <directory of the running executable>/../share/vlsm-serve/default-model
//      (an installed tree: bin/ + share/);
//   3. the source tree's model/default (a build run from its checkout).
// Threading: safe to call from any thread (reads the environment and the
// filesystem only). Errors: NotFound listing every place it looked.
#ifndef VLSM_MODEL_DEFAULT_MODEL_H_
#define VLSM_MODEL_DEFAULT_MODEL_H_

#include <string>

#include "absl/status/statusor.h"

namespace vlsm {

absl::StatusOr<std::string> DefaultModelDir();

// `flag_value` when set, else DefaultModelDir().
absl::StatusOr<std::string> ModelDirOrDefault(const std::string& flag_value);

}  // namespace vlsm

#endif  // VLSM_MODEL_DEFAULT_MODEL_H_
