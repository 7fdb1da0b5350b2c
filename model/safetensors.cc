#include "model/safetensors.h"

#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <limits>
#include <set>
#include <tuple>
#include <utility>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "nlohmann/json.hpp"

namespace vlsm {
namespace {

using Json = nlohmann::json;

constexpr size_t kLengthPrefixBytes = 8;
constexpr uint64_t kMaxHeaderBytes = 100ull << 20;  // 100 MiB
constexpr char kMetadataKey[] = "__metadata__";

struct DTypeInfo {
  DType dtype;
  const char* name;
  size_t size;
};

constexpr DTypeInfo kDTypes[] = {
    {DType::kF64, "F64", 8},   {DType::kF32, "F32", 4}, {DType::kF16, "F16", 2},
    {DType::kBF16, "BF16", 2}, {DType::kI64, "I64", 8}, {DType::kI32, "I32", 4},
    {DType::kI16, "I16", 2},   {DType::kI8, "I8", 1},   {DType::kU8, "U8", 1},
    {DType::kBool, "BOOL", 1},
};

const DTypeInfo& Info(DType dtype) {
  for (const DTypeInfo& info : kDTypes) {
    if (info.dtype == dtype) return info;
  }
  return kDTypes[1];  // unreachable for valid enum values
}

// A tensor entry as read from the header, before it is placed in the file.
struct Entry {
  TensorView view;
  uint64_t begin = 0;
  uint64_t end = 0;
};

absl::Status TensorError(absl::string_view name, absl::string_view what) {
  return absl::InvalidArgumentError(absl::StrCat("tensor \"", name, "\": ", what));
}

absl::Status HeaderError(absl::string_view what) {
  return absl::InvalidArgumentError(absl::StrCat("header: ", what));
}

absl::Status ErrnoError(absl::string_view op, absl::string_view path, int err) {
  std::string message = absl::StrCat(op, " ", path, ": ", std::strerror(err));
  if (err == EACCES || err == EPERM || err == EROFS) return absl::PermissionDeniedError(message);
  if (err == ENOENT) return absl::NotFoundError(message);
  return absl::InternalError(message);
}

// Reads a JSON integer in [0, INT64_MAX]; false for anything else.
bool GetNonNegative(const Json& value, uint64_t* out) {
  if (value.is_number_unsigned()) {
    *out = value.get<uint64_t>();
  } else if (value.is_number_integer()) {
    int64_t signed_value = value.get<int64_t>();
    if (signed_value < 0) return false;
    *out = static_cast<uint64_t>(signed_value);
  } else {
    return false;
  }
  return *out <= static_cast<uint64_t>(std::numeric_limits<int64_t>::max());
}

// Multiplies into *total, failing when the product leaves [0, INT64_MAX].
bool MulChecked(uint64_t factor, uint64_t* total) {
  constexpr uint64_t kMax = static_cast<uint64_t>(std::numeric_limits<int64_t>::max());
  if (factor != 0 && *total > kMax / factor) return false;
  *total *= factor;
  return true;
}

// numel * dtype size of `shape`, or an error naming `name`.
absl::StatusOr<uint64_t> ByteSize(absl::string_view name, DType dtype,
                                  const std::vector<int64_t>& shape) {
  uint64_t total = DTypeSize(dtype);
  for (int64_t dim : shape) {
    if (dim < 0) return TensorError(name, absl::StrCat("negative dimension ", dim));
    if (!MulChecked(static_cast<uint64_t>(dim), &total)) {
      return TensorError(name, "shape size overflows");
    }
  }
  return total;
}

absl::StatusOr<DType> ParseEntryDType(absl::string_view name, const Json& entry) {
  auto it = entry.find("dtype");
  if (it == entry.end() || !it->is_string()) {
    return TensorError(name, "missing or non-string \"dtype\"");
  }
  absl::StatusOr<DType> dtype = ParseDType(it->get_ref<const std::string&>());
  if (!dtype.ok()) return TensorError(name, dtype.status().message());
  return dtype;
}

absl::StatusOr<std::vector<int64_t>> ParseEntryShape(absl::string_view name, const Json& entry) {
  auto it = entry.find("shape");
  if (it == entry.end() || !it->is_array()) {
    return TensorError(name, "missing or non-array \"shape\"");
  }
  std::vector<int64_t> shape;
  for (const Json& dim : *it) {
    if (dim.is_number_integer() && !dim.is_number_unsigned() && dim.get<int64_t>() < 0) {
      return TensorError(name, absl::StrCat("negative dimension ", dim.get<int64_t>()));
    }
    uint64_t value = 0;
    if (!GetNonNegative(dim, &value)) return TensorError(name, "shape entry is not an integer");
    shape.push_back(static_cast<int64_t>(value));
  }
  return shape;
}

absl::Status ParseEntryOffsets(absl::string_view name, const Json& entry, Entry* out) {
  auto it = entry.find("data_offsets");
  if (it == entry.end() || !it->is_array() || it->size() != 2 ||
      !GetNonNegative((*it)[0], &out->begin) || !GetNonNegative((*it)[1], &out->end)) {
    return TensorError(name, "\"data_offsets\" must be [begin, end] of non-negative integers");
  }
  if (out->begin > out->end) {
    return TensorError(name,
                       absl::StrFormat("data_offsets begin %d > end %d", out->begin, out->end));
  }
  return absl::OkStatus();
}

// Parses and checks one header entry against a data section of `data_size`.
absl::StatusOr<Entry> ParseEntry(const std::string& name, const Json& entry, size_t data_size) {
  if (!entry.is_object()) return TensorError(name, "entry is not an object");
  Entry out;
  out.view.name = name;
  absl::StatusOr<DType> dtype = ParseEntryDType(name, entry);
  if (!dtype.ok()) return dtype.status();
  out.view.dtype = *dtype;
  absl::StatusOr<std::vector<int64_t>> shape = ParseEntryShape(name, entry);
  if (!shape.ok()) return shape.status();
  out.view.shape = *std::move(shape);
  absl::StatusOr<uint64_t> nbytes = ByteSize(name, out.view.dtype, out.view.shape);
  if (!nbytes.ok()) return nbytes.status();
  if (absl::Status s = ParseEntryOffsets(name, entry, &out); !s.ok()) return s;
  if (out.end > data_size) {
    return TensorError(
        name, absl::StrFormat("data_offsets end %d is beyond the %d-byte data section", out.end,
                              data_size));
  }
  if (out.end - out.begin != *nbytes) {
    return TensorError(name, absl::StrFormat("data_offsets span %d bytes, dtype x shape needs %d",
                                             out.end - out.begin, *nbytes));
  }
  out.view.nbytes = static_cast<size_t>(*nbytes);
  return out;
}

absl::StatusOr<std::map<std::string, std::string>> ParseMetadata(const Json& value) {
  if (!value.is_object()) return HeaderError("\"__metadata__\" is not an object");
  std::map<std::string, std::string> metadata;
  for (auto it = value.begin(); it != value.end(); ++it) {
    if (!it.value().is_string()) {
      return HeaderError(
          absl::StrCat("\"__metadata__\" value of \"", it.key(), "\" is not a string"));
    }
    metadata[it.key()] = it.value().get<std::string>();
  }
  return metadata;
}

// Sorts by data offset and rejects tensors whose (non-empty) byte ranges overlap.
absl::Status SortAndCheckOverlap(std::vector<Entry>* entries) {
  std::sort(entries->begin(), entries->end(), [](const Entry& a, const Entry& b) {
    return std::tie(a.begin, a.end, a.view.name) < std::tie(b.begin, b.end, b.view.name);
  });
  const Entry* previous = nullptr;  // the non-empty entry reaching furthest so far
  for (const Entry& entry : *entries) {
    if (entry.begin == entry.end) continue;
    if (previous != nullptr && entry.begin < previous->end) {
      return TensorError(entry.view.name,
                         absl::StrCat("byte range overlaps tensor \"", previous->view.name, "\""));
    }
    previous = &entry;
  }
  return absl::OkStatus();
}

// Reads the header length and checks it against the file size.
absl::StatusOr<size_t> ReadHeaderLength(const char* bytes, size_t size) {
  if (size < kLengthPrefixBytes) {
    return HeaderError(
        absl::StrFormat("file is %d bytes, shorter than the 8-byte length prefix", size));
  }
  uint64_t length = 0;
  for (size_t i = 0; i < kLengthPrefixBytes; ++i) {
    length |= static_cast<uint64_t>(static_cast<unsigned char>(bytes[i])) << (8 * i);
  }
  if (length > size - kLengthPrefixBytes) {
    return HeaderError(absl::StrFormat("length %d exceeds the %d bytes after the length prefix",
                                       length, size - kLengthPrefixBytes));
  }
  if (length > kMaxHeaderBytes) {
    return HeaderError(
        absl::StrFormat("length %d exceeds the %d-byte limit", length, kMaxHeaderBytes));
  }
  return static_cast<size_t>(length);
}

Json ParseJson(const char* begin, const char* end) {
  try {
    return Json::parse(begin, end, /*cb=*/nullptr, /*allow_exceptions=*/false);
  } catch (const std::exception&) {  // e.g. bad_alloc; parse errors do not throw
    return Json(Json::value_t::discarded);
  }
}

void AppendLength(uint64_t length, std::string* out) {
  for (size_t i = 0; i < kLengthPrefixBytes; ++i) {
    out->push_back(static_cast<char>((length >> (8 * i)) & 0xff));
  }
}

// The JSON header for `tensors` (contiguous offsets, in order), unpadded.
absl::StatusOr<std::string> BuildHeader(const std::vector<TensorView>& tensors,
                                        const std::map<std::string, std::string>& metadata) {
  nlohmann::ordered_json header = nlohmann::ordered_json::object();
  if (!metadata.empty()) header[kMetadataKey] = metadata;
  std::set<std::string> names;
  uint64_t offset = 0;
  for (const TensorView& tensor : tensors) {
    if (!names.insert(tensor.name).second) return TensorError(tensor.name, "duplicate name");
    if (tensor.name == kMetadataKey) return TensorError(tensor.name, "reserved name");
    absl::StatusOr<uint64_t> nbytes = ByteSize(tensor.name, tensor.dtype, tensor.shape);
    if (!nbytes.ok()) return nbytes.status();
    if (*nbytes != tensor.nbytes) {
      return TensorError(tensor.name, absl::StrFormat("nbytes %d but dtype x shape needs %d",
                                                      tensor.nbytes, *nbytes));
    }
    if (tensor.data == nullptr && tensor.nbytes != 0) return TensorError(tensor.name, "null data");
    header[tensor.name] = {{"dtype", std::string(DTypeName(tensor.dtype))},
                           {"shape", tensor.shape},
                           {"data_offsets", {offset, offset + tensor.nbytes}}};
    offset += tensor.nbytes;
  }
  try {
    return header.dump();
  } catch (const std::exception& e) {  // invalid UTF-8 in a name or value
    return HeaderError(absl::StrCat("cannot serialize: ", e.what()));
  }
}

std::string DirName(const std::string& path) {
  size_t slash = path.find_last_of('/');
  if (slash == std::string::npos) return ".";
  if (slash == 0) return "/";
  return path.substr(0, slash);
}

absl::Status WriteAll(int fd, absl::string_view bytes, const std::string& path) {
  while (!bytes.empty()) {
    ssize_t written = ::write(fd, bytes.data(), bytes.size());
    if (written < 0) {
      if (errno == EINTR) continue;
      return ErrnoError("write", path, errno);
    }
    bytes.remove_prefix(static_cast<size_t>(written));
  }
  return absl::OkStatus();
}

absl::Status FsyncDirectory(const std::string& dir) {
  int fd = ::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (fd < 0) return ErrnoError("open", dir, errno);
  int rc = ::fsync(fd);
  int err = errno;
  ::close(fd);
  if (rc != 0) return ErrnoError("fsync", dir, err);
  return absl::OkStatus();
}

// Fills the already-created temp file `fd` with `bytes`, syncs and closes it
// (also on failure).
absl::Status FillAndClose(int fd, absl::string_view bytes, const std::string& tmp) {
  absl::Status status = WriteAll(fd, bytes, tmp);
  // mkstemp creates 0600; a model file is meant to be readable by others.
  if (status.ok() && ::fchmod(fd, 0644) != 0) status = ErrnoError("fchmod", tmp, errno);
  if (status.ok() && ::fsync(fd) != 0) status = ErrnoError("fsync", tmp, errno);
  if (::close(fd) != 0 && status.ok()) status = ErrnoError("close", tmp, errno);
  return status;
}

}  // namespace

absl::string_view DTypeName(DType dtype) { return Info(dtype).name; }

size_t DTypeSize(DType dtype) { return Info(dtype).size; }

absl::StatusOr<DType> ParseDType(absl::string_view name) {
  for (const DTypeInfo& info : kDTypes) {
    if (name == info.name) return info.dtype;
  }
  return absl::InvalidArgumentError(absl::StrCat("unknown dtype \"", name, "\""));
}

int64_t TensorView::numel() const {
  int64_t n = 1;
  for (int64_t dim : shape) n *= dim;
  return n;
}

absl::StatusOr<std::unique_ptr<SafetensorsFile>> SafetensorsFile::Open(const std::string& path) {
  int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return ErrnoError("open", path, errno);
  struct stat st;
  if (::fstat(fd, &st) != 0) {
    int err = errno;
    ::close(fd);
    return ErrnoError("fstat", path, err);
  }
  if (!S_ISREG(st.st_mode)) {
    ::close(fd);
    return absl::InvalidArgumentError(absl::StrCat(path, " is not a regular file"));
  }
  std::unique_ptr<SafetensorsFile> file(new SafetensorsFile());
  file->size_ = static_cast<size_t>(st.st_size);
  if (file->size_ > 0) {  // mmap rejects length 0; Parse() reports the short file
    void* mapping = ::mmap(nullptr, file->size_, PROT_READ, MAP_PRIVATE, fd, 0);
    if (mapping == MAP_FAILED) {
      int err = errno;
      ::close(fd);
      return ErrnoError("mmap", path, err);
    }
    file->mapping_ = mapping;
    file->bytes_ = static_cast<const char*>(mapping);
  }
  ::close(fd);
  if (absl::Status s = file->Parse(); !s.ok()) {
    return absl::Status(s.code(), absl::StrCat(path, ": ", s.message()));
  }
  return file;
}

absl::StatusOr<std::unique_ptr<SafetensorsFile>> SafetensorsFile::FromBuffer(std::string bytes) {
  std::unique_ptr<SafetensorsFile> file(new SafetensorsFile());
  file->buffer_ = std::move(bytes);
  file->bytes_ = file->buffer_.data();
  file->size_ = file->buffer_.size();
  if (absl::Status s = file->Parse(); !s.ok()) return s;
  return file;
}

SafetensorsFile::~SafetensorsFile() {
  if (mapping_ != nullptr) ::munmap(mapping_, size_);
}

const TensorView* SafetensorsFile::Find(absl::string_view name) const {
  auto it = index_.find(std::string(name));
  return it == index_.end() ? nullptr : &tensors_[it->second];
}

absl::Status SafetensorsFile::Parse() {
  absl::StatusOr<size_t> header_length = ReadHeaderLength(bytes_, size_);
  if (!header_length.ok()) return header_length.status();
  const char* header_begin = bytes_ + kLengthPrefixBytes;
  const char* data = header_begin + *header_length;
  const size_t data_size = size_ - kLengthPrefixBytes - *header_length;

  Json header = ParseJson(header_begin, data);
  if (header.is_discarded()) return HeaderError("not valid JSON");
  if (!header.is_object()) return HeaderError("not a JSON object");

  std::vector<Entry> entries;
  for (auto it = header.begin(); it != header.end(); ++it) {
    if (it.key() == kMetadataKey) {
      absl::StatusOr<std::map<std::string, std::string>> metadata = ParseMetadata(it.value());
      if (!metadata.ok()) return metadata.status();
      metadata_ = *std::move(metadata);
      continue;
    }
    absl::StatusOr<Entry> entry = ParseEntry(it.key(), it.value(), data_size);
    if (!entry.ok()) return entry.status();
    entries.push_back(*std::move(entry));
  }
  if (absl::Status s = SortAndCheckOverlap(&entries); !s.ok()) return s;

  tensors_.reserve(entries.size());
  for (Entry& entry : entries) {
    entry.view.data = data + entry.begin;
    index_[entry.view.name] = tensors_.size();
    tensors_.push_back(std::move(entry.view));
  }
  return absl::OkStatus();
}

absl::StatusOr<std::string> SerializeSafetensors(
    const std::vector<TensorView>& tensors, const std::map<std::string, std::string>& metadata) {
  absl::StatusOr<std::string> header = BuildHeader(tensors, metadata);
  if (!header.ok()) return header.status();
  // Pad with spaces so the data section starts at a multiple of 8.
  size_t unaligned = (kLengthPrefixBytes + header->size()) % 8;
  if (unaligned != 0) header->append(8 - unaligned, ' ');

  size_t data_size = 0;
  for (const TensorView& tensor : tensors) data_size += tensor.nbytes;
  std::string out;
  out.reserve(kLengthPrefixBytes + header->size() + data_size);
  AppendLength(header->size(), &out);
  out.append(*header);
  for (const TensorView& tensor : tensors) {
    if (tensor.nbytes > 0) out.append(static_cast<const char*>(tensor.data), tensor.nbytes);
  }
  return out;
}

absl::Status WriteFileAtomically(const std::string& path, absl::string_view bytes) {
  std::string tmp = path + ".tmp.XXXXXX";
  int fd = ::mkstemp(tmp.data());
  if (fd < 0) return ErrnoError("mkstemp", tmp, errno);
  absl::Status status = FillAndClose(fd, bytes, tmp);
  if (status.ok() && ::rename(tmp.c_str(), path.c_str()) != 0) {
    status = ErrnoError("rename", absl::StrCat(tmp, " to ", path), errno);
  }
  if (!status.ok()) {
    ::unlink(tmp.c_str());
    return status;
  }
  return FsyncDirectory(DirName(path));
}

absl::StatusOr<std::string> ReadFileToString(const std::string& path) {
  const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return ErrnoError("open", path, errno);
  struct stat st;
  if (::fstat(fd, &st) == 0 && S_ISDIR(st.st_mode)) {
    ::close(fd);
    return absl::InvalidArgumentError(absl::StrCat(path, " is a directory"));
  }
  std::string out;
  char buffer[1 << 16];
  while (true) {  // to end of file: st_size is 0 for /proc files and pipes
    const ssize_t n = ::read(fd, buffer, sizeof(buffer));
    if (n == 0) break;
    if (n < 0) {
      if (errno == EINTR) continue;
      const int err = errno;
      ::close(fd);
      return ErrnoError("read", path, err);
    }
    out.append(buffer, static_cast<size_t>(n));
  }
  ::close(fd);
  return out;
}

}  // namespace vlsm

namespace vlsm {

void SafetensorsFile::ReleaseResidentPages() const {
  if (mapping_ != nullptr) ::madvise(mapping_, size_, MADV_DONTNEED);
}

}  // namespace vlsm
