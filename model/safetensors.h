// Safetensors reading and writing, without torch; and the whole-file read
// and atomic write every tool and service uses (ReadFileToString,
// WriteFileAtomically).
//
// Format: 8-byte little-endian header length N, N bytes of JSON header
// {"name": {"dtype": "F32", "shape": [..], "data_offsets": [begin, end]}, ...,
//  "__metadata__": {"key": "string value"}}, then the data section. Offsets are
// relative to the data section.
//
// Ownership: a SafetensorsFile owns its bytes (an mmap of the file, or an
// in-memory buffer); every TensorView points into them and is valid for the
// file's lifetime. Keep the file alive (e.g. via shared_ptr) as long as any
// tensor built on a view (torch::from_blob) is alive.
// Threading: immutable after Open/FromBuffer; safe to read from any thread.
// Errors: every malformed input yields InvalidArgument naming the offending
// tensor (or the header), never a crash or an exception.
#ifndef VLSM_MODEL_SAFETENSORS_H_
#define VLSM_MODEL_SAFETENSORS_H_

#include <cstddef>
#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"

namespace vlsm {

enum class DType { kF64, kF32, kF16, kBF16, kI64, kI32, kI16, kI8, kU8, kBool };

// "F32", "BF16", ... as safetensors spells them.
absl::string_view DTypeName(DType dtype);
absl::StatusOr<DType> ParseDType(absl::string_view name);
size_t DTypeSize(DType dtype);

struct TensorView {
  std::string name;
  DType dtype = DType::kF32;
  std::vector<int64_t> shape;
  const void* data = nullptr;  // points into the owning file's bytes
  size_t nbytes = 0;

  int64_t numel() const;
};

class SafetensorsFile {
 public:
  // Maps `path` read-only (MAP_PRIVATE) and validates it. NotFound when the
  // file is missing.
  static absl::StatusOr<std::unique_ptr<SafetensorsFile>> Open(const std::string& path);
  // Takes ownership of an in-memory file (e.g. an upload) and validates it.
  static absl::StatusOr<std::unique_ptr<SafetensorsFile>> FromBuffer(std::string bytes);

  ~SafetensorsFile();
  SafetensorsFile(const SafetensorsFile&) = delete;
  SafetensorsFile& operator=(const SafetensorsFile&) = delete;

  // In data-offset order (the order writers emit, e.g. state_dict order).
  const std::vector<TensorView>& tensors() const { return tensors_; }
  const std::map<std::string, std::string>& metadata() const { return metadata_; }
  // nullptr when absent.
  const TensorView* Find(absl::string_view name) const;
  size_t file_size() const { return size_; }

  // Gives the mapped pages back to the kernel (madvise DONTNEED). The bytes
  // stay readable: a later access faults them in from the file again. Called
  // once weights have been copied or converted, so they are not held twice.
  // No-op for in-memory files.
  void ReleaseResidentPages() const;

 private:
  SafetensorsFile() = default;
  absl::Status Parse();

  const char* bytes_ = nullptr;
  size_t size_ = 0;
  void* mapping_ = nullptr;  // non-null when mmapped
  std::string buffer_;       // owner when built from a buffer
  std::vector<TensorView> tensors_;
  std::map<std::string, size_t> index_;
  std::map<std::string, std::string> metadata_;
};

// Serializes tensors (in the given order, 8-byte aligned header) plus string
// metadata. InvalidArgument on duplicate names or nbytes that do not match
// dtype x shape.
absl::StatusOr<std::string> SerializeSafetensors(
    const std::vector<TensorView>& tensors, const std::map<std::string, std::string>& metadata);

// Writes atomically: temp file in the same directory, fsync, rename.
absl::Status WriteFileAtomically(const std::string& path, absl::string_view bytes);

// The whole file's bytes. The status names the path: NotFound when it does
// not exist, PermissionDenied when it may not be read, InvalidArgument for a
// directory, Internal for other read errors.
absl::StatusOr<std::string> ReadFileToString(const std::string& path);

}  // namespace vlsm

#endif  // VLSM_MODEL_SAFETENSORS_H_
