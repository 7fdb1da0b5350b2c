#include "client/pacs_spool.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "client/pacs_privacy.h"
#include "model/safetensors.h"

namespace vlsm::pacs {
namespace {

namespace fs = std::filesystem;

constexpr char kIncoming[] = "incoming";
constexpr char kOutbox[] = "outbox";
constexpr char kTmp[] = "tmp";
constexpr char kJournal[] = "journal.log";

absl::Status ErrnoStatus(absl::string_view what, absl::string_view path, int err) {
  const std::string message = absl::StrCat(what, " ", path, ": ", std::strerror(err));
  if (err == ENOSPC || err == EDQUOT) return absl::ResourceExhaustedError(message);
  if (err == EACCES || err == EPERM || err == EROFS) return absl::PermissionDeniedError(message);
  return absl::InternalError(message);
}

absl::Status FsyncPath(const std::string& path, bool directory) {
  const int fd = ::open(path.c_str(), directory ? (O_RDONLY | O_DIRECTORY) : O_RDONLY);
  if (fd < 0) return ErrnoStatus("open", path, errno);
  const int rc = ::fsync(fd);
  const int err = errno;
  ::close(fd);
  if (rc != 0) return ErrnoStatus("fsync", path, err);
  return absl::OkStatus();
}

absl::Status WriteWhole(const std::string& path, absl::string_view bytes) {
  const int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
  if (fd < 0) return ErrnoStatus("create", path, errno);
  size_t done = 0;
  while (done < bytes.size()) {
    const ssize_t n = ::write(fd, bytes.data() + done, bytes.size() - done);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) {
      const int err = errno;
      ::close(fd);
      return ErrnoStatus("write", path, err);
    }
    done += static_cast<size_t>(n);
  }
  if (::fsync(fd) != 0) {
    const int err = errno;
    ::close(fd);
    return ErrnoStatus("fsync", path, err);
  }
  if (::close(fd) != 0) return ErrnoStatus("close", path, errno);
  return absl::OkStatus();
}

// fsync(file), rename into place, fsync(directory).
absl::Status Publish(const std::string& temp, const std::string& final_path, bool sync_file) {
  if (sync_file) {
    if (absl::Status s = FsyncPath(temp, false); !s.ok()) return s;
  }
  if (::rename(temp.c_str(), final_path.c_str()) != 0) {
    return ErrnoStatus("rename", final_path, errno);
  }
  return FsyncPath(fs::path(final_path).parent_path().string(), true);
}

absl::Time MTime(const std::string& path) {
  struct stat st;
  if (::stat(path.c_str(), &st) != 0) return absl::InfinitePast();
  return absl::TimeFromTimespec(st.st_mtim);
}

bool IsTempName(const std::string& name) { return !name.empty() && name[0] == '.'; }

}  // namespace

absl::StatusOr<std::unique_ptr<Spool>> Spool::Open(const std::string& root) {
  if (root.empty()) return absl::InvalidArgumentError("the spool directory must not be empty");
  std::error_code ec;
  for (const char* sub : {kIncoming, kOutbox, kTmp}) {
    fs::create_directories(fs::path(root) / sub, ec);
    if (ec) {
      return absl::PermissionDeniedError(
          absl::StrCat("cannot create ", root, "/", sub, ": ", ec.message()));
    }
  }
  for (const auto& entry : fs::directory_iterator(fs::path(root) / kTmp, ec)) {
    fs::remove_all(entry.path(), ec);
  }
  auto spool = std::unique_ptr<Spool>(new Spool(root));
  if (absl::Status s = spool->LoadJournal(); !s.ok()) return s;
  return spool;
}

std::string Spool::SeriesKey(absl::string_view series_uid) {
  return Sha256Hex(series_uid).substr(0, 32);
}

std::string Spool::WorkKey(absl::string_view series_uid, std::vector<std::string> sop_uids) {
  std::sort(sop_uids.begin(), sop_uids.end());
  return Sha256Hex(absl::StrCat(series_uid, "\n", absl::StrJoin(sop_uids, "\n"))).substr(0, 32);
}

std::string Spool::NewTempPath() {
  absl::MutexLock lock(&mu_);
  return absl::StrCat(root_, "/", kTmp, "/", ::getpid(), "-", ++temp_counter_, ".part");
}

absl::Status Spool::LoadJournal() {
  std::ifstream in(root_ + "/" + kJournal);
  if (!in) return absl::OkStatus();  // fresh spool
  std::stringstream ss;
  ss << in.rdbuf();
  const std::string text = ss.str();
  // Only whole records count: a torn last record (no newline) is ignored.
  const size_t whole = text.rfind('\n') == std::string::npos ? 0 : text.rfind('\n') + 1;
  absl::MutexLock lock(&mu_);
  for (absl::string_view line :
       absl::StrSplit(absl::string_view(text).substr(0, whole), '\n', absl::SkipEmpty())) {
    std::vector<std::string> parts = absl::StrSplit(line, ' ');
    if (parts.size() == 2 && parts[0] == "P" && parts[1].size() == 64) {
      processed_.insert(parts[1]);
    } else if (parts.size() == 3 && parts[0] == "D") {
      delivered_.insert(absl::StrCat(parts[1], " ", parts[2]));
    }
  }
  if (whole != text.size()) {
    // Drop the torn tail so appended records start on a fresh line.
    if (::truncate((root_ + "/" + kJournal).c_str(), static_cast<off_t>(whole)) != 0) {
      return ErrnoStatus("truncate", root_ + "/" + kJournal, errno);
    }
  }
  return absl::OkStatus();
}

absl::Status Spool::AppendJournal(const std::string& records) {
  const std::string path = root_ + "/" + kJournal;
  const int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0600);
  if (fd < 0) return ErrnoStatus("open", path, errno);
  size_t done = 0;
  while (done < records.size()) {
    const ssize_t n = ::write(fd, records.data() + done, records.size() - done);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) {
      const int err = errno;
      ::close(fd);
      return ErrnoStatus("append", path, err);
    }
    done += static_cast<size_t>(n);
  }
  const int rc = ::fsync(fd);
  const int err = errno;
  ::close(fd);
  if (rc != 0) return ErrnoStatus("fsync", path, err);
  return absl::OkStatus();
}

absl::StatusOr<Spool::StoreOutcome> Spool::CommitInstance(const std::string& temp_path,
                                                          absl::string_view series_uid,
                                                          absl::string_view sop_uid) {
  std::error_code ec;
  if (IsProcessed(sop_uid)) {
    fs::remove(temp_path, ec);
    return StoreOutcome::kDuplicate;
  }
  const std::string dir = absl::StrCat(root_, "/", kIncoming, "/", SeriesKey(series_uid));
  fs::create_directories(dir, ec);
  if (ec) return absl::InternalError(absl::StrCat("cannot create ", dir, ": ", ec.message()));
  // The new folder's entry must survive a crash too.
  if (absl::Status s = FsyncPath(root_ + "/" + kIncoming, true); !s.ok()) return s;
  const std::string final_path = absl::StrCat(dir, "/", Sha256Hex(sop_uid).substr(0, 32), ".dcm");
  if (absl::Status s = Publish(temp_path, final_path, /*sync_file=*/true); !s.ok()) {
    fs::remove(temp_path, ec);
    return s;
  }
  return StoreOutcome::kStored;
}

absl::StatusOr<Spool::StoreOutcome> Spool::StoreInstance(absl::string_view bytes,
                                                         absl::string_view series_uid,
                                                         absl::string_view sop_uid) {
  const std::string temp = NewTempPath();
  if (absl::Status s = WriteWhole(temp, bytes); !s.ok()) {
    std::error_code ec;
    fs::remove(temp, ec);
    return s;
  }
  return CommitInstance(temp, series_uid, sop_uid);
}

bool Spool::IsProcessed(absl::string_view sop_uid) const {
  const std::string key = Sha256Hex(sop_uid);
  absl::MutexLock lock(&mu_);
  return processed_.contains(key);
}

std::vector<PendingSeries> Spool::ScanIncoming() const {
  std::vector<PendingSeries> out;
  std::error_code ec;
  for (const auto& series : fs::directory_iterator(fs::path(root_) / kIncoming, ec)) {
    if (!series.is_directory(ec)) continue;
    PendingSeries p{series.path().filename().string(), absl::InfinitePast()};
    bool any = false;
    for (const auto& file : fs::directory_iterator(series.path(), ec)) {
      if (IsTempName(file.path().filename().string())) continue;
      any = true;
      p.last_received = std::max(p.last_received, MTime(file.path().string()));
    }
    if (any) out.push_back(std::move(p));
  }
  std::sort(out.begin(), out.end(),
            [](const PendingSeries& a, const PendingSeries& b) { return a.key < b.key; });
  return out;
}

std::vector<std::string> Spool::InstancePaths(const std::string& series_key) const {
  std::vector<std::string> out;
  std::error_code ec;
  for (const auto& file : fs::directory_iterator(fs::path(root_) / kIncoming / series_key, ec)) {
    const std::string name = file.path().filename().string();
    if (IsTempName(name) || file.path().extension() != ".dcm") continue;
    out.push_back(file.path().string());
  }
  std::sort(out.begin(), out.end());
  return out;
}

absl::Status Spool::FinishSeries(const std::string& series_key,
                                 const std::vector<std::string>& sop_uids,
                                 const std::vector<std::string>& paths) {
  std::string records;
  std::vector<std::string> hashes;
  for (const std::string& uid : sop_uids) {
    hashes.push_back(Sha256Hex(uid));
    absl::StrAppend(&records, "P ", hashes.back(), "\n");
  }
  if (absl::Status s = AppendJournal(records); !s.ok()) return s;
  {
    absl::MutexLock lock(&mu_);
    for (std::string& h : hashes) processed_.insert(std::move(h));
  }
  std::error_code ec;
  for (const std::string& p : paths) fs::remove(p, ec);
  const fs::path dir = fs::path(root_) / kIncoming / series_key;
  fs::remove(dir, ec);  // fails (keeps it) when an instance arrived meanwhile
  return FsyncPath(root_ + "/" + kIncoming, true);
}

absl::Status Spool::QuarantineSeries(const std::string& series_key,
                                     const std::vector<std::string>& paths) {
  const fs::path dir = fs::path(root_) / "failed" / series_key;
  std::error_code ec;
  fs::create_directories(dir, ec);
  if (ec)
    return absl::InternalError(absl::StrCat("cannot create ", dir.string(), ": ", ec.message()));
  for (const std::string& p : paths) {
    const std::string target = (dir / fs::path(p).filename()).string();
    if (::rename(p.c_str(), target.c_str()) != 0) return ErrnoStatus("rename", target, errno);
  }
  fs::remove(fs::path(root_) / kIncoming / series_key, ec);
  if (absl::Status s = FsyncPath(dir.string(), true); !s.ok()) return s;
  return FsyncPath(root_ + "/" + kIncoming, true);
}

bool Spool::OutboxHas(const std::string& name) const {
  std::error_code ec;
  return fs::exists(fs::path(root_) / kOutbox / name, ec);
}

absl::Status Spool::WriteOutbox(const std::string& name, absl::string_view bytes) {
  const std::string temp = NewTempPath();
  if (absl::Status s = WriteWhole(temp, bytes); !s.ok()) {
    std::error_code ec;
    fs::remove(temp, ec);
    return s;
  }
  return Publish(temp, absl::StrCat(root_, "/", kOutbox, "/", name), /*sync_file=*/false);
}

absl::StatusOr<std::string> Spool::ReadOutbox(const std::string& name) const {
  const std::string path = absl::StrCat(root_, "/", kOutbox, "/", name);
  return ReadFileToString(path);
}

std::vector<OutboxEntry> Spool::ScanOutbox() const {
  std::vector<OutboxEntry> out;
  std::error_code ec;
  for (const auto& file : fs::directory_iterator(fs::path(root_) / kOutbox, ec)) {
    const std::string name = file.path().filename().string();
    if (IsTempName(name) || file.path().extension() != ".dcm") continue;
    out.push_back({name, MTime(file.path().string())});
  }
  std::sort(out.begin(), out.end(),
            [](const OutboxEntry& a, const OutboxEntry& b) { return a.name < b.name; });
  return out;
}

absl::Status Spool::RemoveOutbox(const std::string& name) {
  const std::string path = absl::StrCat(root_, "/", kOutbox, "/", name);
  if (::unlink(path.c_str()) != 0 && errno != ENOENT) return ErrnoStatus("unlink", path, errno);
  return FsyncPath(absl::StrCat(root_, "/", kOutbox), true);
}

bool Spool::IsDelivered(const std::string& name, const std::string& destination) const {
  absl::MutexLock lock(&mu_);
  return delivered_.contains(absl::StrCat(name, " ", destination));
}

absl::Status Spool::MarkDelivered(const std::string& name, const std::string& destination) {
  if (name.find_first_of(" \n") != std::string::npos ||
      destination.find_first_of(" \n") != std::string::npos) {
    return absl::InvalidArgumentError("outbox and destination names must not contain spaces");
  }
  if (absl::Status s = AppendJournal(absl::StrCat("D ", name, " ", destination, "\n")); !s.ok()) {
    return s;
  }
  absl::MutexLock lock(&mu_);
  delivered_.insert(absl::StrCat(name, " ", destination));
  return absl::OkStatus();
}

}  // namespace vlsm::pacs
