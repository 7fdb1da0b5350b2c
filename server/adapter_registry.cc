#include "server/adapter_registry.h"

#include <chrono>
#include <cmath>
#include <filesystem>
#include <random>

#include "absl/status/status.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "model/fingerprint.h"
#include "model/safetensors.h"
#include "nlohmann/json.hpp"

namespace vlsm {
namespace {

using json = nlohmann::json;
namespace fs = std::filesystem;

int64_t NowUnixMs() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

json ToJson(const AdapterVersion& v) {
  return {{"name", v.name},        {"version", v.version},
          {"sha256", v.sha256},    {"created_unix_ms", v.created_unix_ms},
          {"prompts", v.prompts},  {"threshold", v.threshold},
          {"metadata", v.metadata}};
}

}  // namespace

std::vector<std::string> AdapterSnapshot::LabelsOf(const std::string& name,
                                                   uint64_t version) const {
  std::vector<std::string> out;
  auto it = labels.find(name);
  if (it == labels.end()) return out;
  for (const auto& [label, v] : it->second) {
    if (v == version) out.push_back(label);
  }
  return out;
}

bool AdapterRegistry::ValidTaskName(const std::string& name) {
  if (name.empty() || name.size() > 64) return false;
  auto lower_or_digit = [](char c) { return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9'); };
  if (!lower_or_digit(name[0])) return false;
  for (char c : name) {
    if (!lower_or_digit(c) && c != '_' && c != '.' && c != '-') return false;
  }
  return true;
}

bool AdapterRegistry::ValidLabel(const std::string& label) {
  // Starts with a letter, so it never reads as a version number.
  if (label.empty() || label.size() > 32 || label[0] < 'a' || label[0] > 'z') return false;
  for (char c : label) {
    if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_' || c == '-')) return false;
  }
  return true;
}

AdapterRegistry::AdapterRegistry(const Engine* engine, std::string dir,
                                 const RegistryOptions& options)
    : engine_(engine),
      dir_(std::move(dir)),
      residency_(
          std::make_unique<AdapterResidency>(engine, reaper_.get(), options.device_budget_bytes)) {}

AdapterRegistry::~AdapterRegistry() = default;

std::string AdapterRegistry::Key(const std::string& name, uint64_t version) {
  return absl::StrCat(name, "@", version);
}

absl::Status AdapterRegistry::Track(AdapterVersion& v, std::shared_ptr<const Adapter> device,
                                    bool pinned) {
  auto host = engine_->CopyAdapter(*device, /*to_device=*/false);
  if (!host.ok()) return host.status();
  v.adapter = *std::move(host);
  residency_->Insert(Key(v.name, v.version), v.adapter, std::move(device), pinned);
  return absl::OkStatus();
}

absl::StatusOr<std::shared_ptr<const Adapter>> AdapterRegistry::AcquireDevice(
    const AdapterVersion& version) {
  return residency_->Acquire(Key(version.name, version.version), version.adapter);
}

AdapterResidency::State AdapterRegistry::ResidencyOf(const AdapterVersion& version) const {
  return residency_->StateOf(Key(version.name, version.version));
}

std::string AdapterRegistry::FilePath(const std::string& name, uint64_t version) const {
  return absl::StrCat(dir_, "/", name, "/v", version, ".safetensors");
}

absl::StatusOr<std::unique_ptr<AdapterRegistry>> AdapterRegistry::Open(
    const Engine* engine, const std::string& dir, std::vector<std::string>* warnings,
    RegistryOptions options) {
  std::error_code ec;
  fs::create_directories(dir, ec);
  if (ec)
    return absl::PermissionDeniedError(absl::StrCat("cannot create ", dir, ": ", ec.message()));
  std::unique_ptr<AdapterRegistry> registry(new AdapterRegistry(engine, dir, options));
  if (auto s = registry->Load(warnings); !s.ok()) return s;
  return registry;
}

absl::Status AdapterRegistry::Load(std::vector<std::string>* warnings) {
  auto snapshot = std::make_unique<AdapterSnapshot>();
  absl::MutexLock lock(&write_mu_);
  const std::string index_path = dir_ + "/index.json";
  if (fs::exists(index_path)) {
    auto text = ReadFileToString(index_path);
    if (!text.ok()) return text.status();
    json index = json::parse(*text, nullptr, /*allow_exceptions=*/false);
    if (index.is_discarded() || !index.is_object()) {
      return absl::DataLossError(absl::StrCat(index_path, " is not valid JSON"));
    }
    try {
      // Named copies: iterating items() of a temporary would dangle.
      const json next_versions = index.value("next_version", json::object());
      const json adapters = index.value("adapters", json::array());
      const json all_labels = index.value("labels", json::object());
      const json all_pinned = index.value("pinned", json::object());
      for (const auto& [name, next] : next_versions.items()) {
        next_version_[name] = next.get<uint64_t>();
      }
      for (const auto& entry : adapters) {
        auto v = std::make_unique<AdapterVersion>();
        v->name = entry.at("name").get<std::string>();
        v->version = entry.at("version").get<uint64_t>();
        v->sha256 = entry.value("sha256", "");
        v->created_unix_ms = entry.value("created_unix_ms", int64_t{0});
        v->prompts = entry.value("prompts", std::vector<std::string>{});
        v->threshold = entry.value("threshold", 0.5f);
        v->metadata = entry.value("metadata", std::map<std::string, std::string>{});
        auto adapter = engine_->LoadAdapter(FilePath(v->name, v->version));
        if (!adapter.ok()) {
          if (warnings) {
            warnings->push_back(absl::StrCat("skipping ", v->name, "@", v->version, ": ",
                                             adapter.status().ToString()));
          }
          continue;
        }
        bool pinned = false;
        if (all_pinned.contains(v->name)) {
          for (const auto& p : all_pinned.at(v->name)) pinned |= p.get<uint64_t>() == v->version;
        }
        if (auto s = Track(*v, *adapter, pinned); !s.ok()) {
          if (warnings)
            warnings->push_back(
                absl::StrCat("skipping ", v->name, "@", v->version, ": ", s.ToString()));
          continue;
        }
        if (pinned) snapshot->pinned[v->name].insert(v->version);
        next_version_[v->name] = std::max(next_version_[v->name], v->version + 1);
        const std::string name = v->name;
        const uint64_t number = v->version;
        snapshot->tasks[name][number] = reaper_->Manage(std::move(v));
      }
      for (const auto& [name, labels] : all_labels.items()) {
        for (const auto& [label, version] : labels.items()) {
          const auto ver = version.get<uint64_t>();
          if (snapshot->tasks[name].count(ver)) snapshot->labels[name][label] = ver;
        }
      }
    } catch (const json::exception& e) {
      return absl::DataLossError(absl::StrCat(index_path, ": ", e.what()));
    }
    for (auto it = snapshot->tasks.begin(); it != snapshot->tasks.end();) {
      it = it->second.empty() ? snapshot->tasks.erase(it) : std::next(it);
    }
  }
  absl::MutexLock snap(&snapshot_mu_);
  snapshot_ = reaper_->Manage(std::move(snapshot));
  return absl::OkStatus();
}

std::shared_ptr<const AdapterSnapshot> AdapterRegistry::snapshot() const {
  absl::MutexLock lock(&snapshot_mu_);
  return snapshot_;
}

absl::StatusOr<std::shared_ptr<const AdapterVersion>> AdapterRegistry::Resolve(
    const std::string& task) const {
  auto snap = snapshot();
  const size_t at = task.find('@');
  const std::string name = task.substr(0, at);
  auto versions = snap->tasks.find(name);
  if (versions == snap->tasks.end() || versions->second.empty()) {
    return absl::NotFoundError(absl::StrCat("unknown task '", name, "'"));
  }
  if (at == std::string::npos) return versions->second.rbegin()->second;  // latest
  const std::string selector = task.substr(at + 1);
  uint64_t version = 0;
  if (!absl::SimpleAtoi(selector, &version)) {
    auto labels = snap->labels.find(name);
    if (labels == snap->labels.end() || !labels->second.count(selector)) {
      return absl::NotFoundError(absl::StrCat("task '", name, "' has no label '", selector, "'"));
    }
    version = labels->second.at(selector);
  }
  auto it = versions->second.find(version);
  if (it == versions->second.end()) {
    return absl::NotFoundError(absl::StrCat("task '", name, "' has no version ", version));
  }
  return it->second;
}

absl::Status AdapterRegistry::Probe(std::shared_ptr<const Adapter> adapter) const {
  // A built-in input at the model's native size: the outputs must be finite.
  const auto& c = engine_->config();
  const int64_t side = c.vision.image_size;
  HostTensor image;
  image.shape = {3, side, side};
  image.data.resize(3 * side * side);
  std::mt19937 rng(12345);
  std::uniform_real_distribution<float> u(-2.f, 2.f);
  for (float& v : image.data) v = u(rng);
  SegmentQuery query;
  query.prompt.input_ids = {c.text.bos_token_id, c.text.eos_token_id};
  query.adapter = std::move(adapter);
  auto logits = engine_->Segment({image}, {query});
  if (!logits.ok()) return logits.status();
  for (float v : (*logits)[0].data) {
    if (!std::isfinite(v)) {
      return absl::InvalidArgumentError("adapter produces non-finite logits on the probe input");
    }
  }
  return absl::OkStatus();
}

absl::Status AdapterRegistry::Commit(std::unique_ptr<AdapterSnapshot> next) {
  json index = {{"format", "vlsm-adapter-index/1"},
                {"next_version", next_version_},
                {"adapters", json::array()},
                {"labels", next->labels},
                {"pinned", next->pinned}};
  for (const auto& [name, versions] : next->tasks) {
    for (const auto& [version, v] : versions) index["adapters"].push_back(ToJson(*v));
  }
  if (auto s = WriteFileAtomically(dir_ + "/index.json", index.dump(2)); !s.ok()) return s;
  std::shared_ptr<const AdapterSnapshot> published = reaper_->Manage(std::move(next));
  absl::MutexLock lock(&snapshot_mu_);
  snapshot_.swap(published);  // the old one goes to the reaper when unused
  return absl::OkStatus();
}

absl::StatusOr<std::shared_ptr<const AdapterVersion>> AdapterRegistry::Add(
    const std::string& name, std::string bytes, const AddOptions& options) {
  if (!ValidTaskName(name)) {
    return absl::InvalidArgumentError(
        absl::StrCat("task name '", name, "' must match [a-z0-9][a-z0-9_.-]{0,63}"));
  }
  if (!options.label.empty() && !ValidLabel(options.label)) {
    return absl::InvalidArgumentError(absl::StrCat("bad label '", options.label, "'"));
  }
  auto v = std::make_unique<AdapterVersion>();
  v->name = name;
  v->sha256 = Sha256Hex(bytes);
  v->created_unix_ms = NowUnixMs();
  v->metadata = options.metadata;
  auto adapter = engine_->ParseAdapter(bytes);  // validated against the base model
  if (!adapter.ok()) return adapter.status();
  if (auto s = Probe(*adapter); !s.ok()) return s;
  v->prompts = options.prompts.empty() ? (*adapter)->metadata().prompts : options.prompts;
  v->threshold = options.threshold > 0 ? options.threshold : (*adapter)->metadata().threshold;

  absl::MutexLock lock(&write_mu_);
  v->version = std::max<uint64_t>(next_version_[name], 1);
  std::error_code ec;
  fs::create_directories(dir_ + "/" + name, ec);
  if (ec) return absl::InternalError(absl::StrCat("cannot create task directory: ", ec.message()));
  if (auto s = Track(*v, *adapter, /*pinned=*/false); !s.ok()) return s;
  const uint64_t number = v->version;
  std::shared_ptr<const AdapterVersion> published = reaper_->Manage(std::move(v));
  auto undo = [&] {  // nothing was published
    next_version_[name] = number;
    residency_->Erase(Key(name, number));
    fs::remove(FilePath(name, number), ec);
  };
  if (auto s = WriteFileAtomically(FilePath(name, number), bytes); !s.ok()) {
    undo();
    return s;
  }
  auto next = std::make_unique<AdapterSnapshot>(*snapshot());
  next->tasks[name][number] = published;
  if (!options.label.empty()) next->labels[name][options.label] = number;
  next_version_[name] = number + 1;
  if (auto s = Commit(std::move(next)); !s.ok()) {
    undo();
    return s;
  }
  return published;
}

absl::Status AdapterRegistry::SetLabel(const std::string& name, const std::string& label,
                                       uint64_t version) {
  if (!ValidLabel(label))
    return absl::InvalidArgumentError(absl::StrCat("bad label '", label, "'"));
  absl::MutexLock lock(&write_mu_);
  auto current = snapshot();
  auto versions = current->tasks.find(name);
  if (versions == current->tasks.end() || !versions->second.count(version)) {
    return absl::NotFoundError(absl::StrCat("task '", name, "' has no version ", version));
  }
  auto next = std::make_unique<AdapterSnapshot>(*current);
  next->labels[name][label] = version;
  return Commit(std::move(next));
}

absl::StatusOr<std::vector<uint64_t>> AdapterRegistry::Delete(const std::string& name,
                                                              uint64_t version, bool force) {
  absl::MutexLock lock(&write_mu_);
  auto current = snapshot();
  auto versions = current->tasks.find(name);
  if (versions == current->tasks.end()) {
    return absl::NotFoundError(absl::StrCat("unknown task '", name, "'"));
  }
  std::vector<uint64_t> doomed;
  if (version == 0) {
    for (const auto& [v, _] : versions->second) doomed.push_back(v);
  } else if (versions->second.count(version)) {
    doomed.push_back(version);
  } else {
    return absl::NotFoundError(absl::StrCat("task '", name, "' has no version ", version));
  }
  auto next = std::make_unique<AdapterSnapshot>(*current);
  for (uint64_t v : doomed) {
    auto labels = current->LabelsOf(name, v);
    if (!labels.empty() && !force) {
      return absl::FailedPreconditionError(absl::StrCat("label '", labels.front(), "' points at ",
                                                        name, "@", v, "; move it or force"));
    }
    for (const auto& l : labels) next->labels[name].erase(l);
    next->tasks[name].erase(v);
    if (next->pinned.count(name)) next->pinned[name].erase(v);
  }
  if (next->tasks[name].empty()) next->tasks.erase(name);
  if (next->labels.count(name) && next->labels[name].empty()) next->labels.erase(name);
  if (next->pinned.count(name) && next->pinned[name].empty()) next->pinned.erase(name);
  if (auto s = Commit(std::move(next)); !s.ok()) return s;
  for (uint64_t v : doomed) residency_->Erase(Key(name, v));
  // Files go after the index no longer names them; requests in flight keep
  // their loaded weights.
  std::error_code ec;
  for (uint64_t v : doomed) fs::remove(FilePath(name, v), ec);
  return doomed;
}

absl::Status AdapterRegistry::SetPinned(const std::string& name, uint64_t version, bool pinned) {
  absl::MutexLock lock(&write_mu_);
  auto current = snapshot();
  auto versions = current->tasks.find(name);
  if (versions == current->tasks.end() || !versions->second.count(version)) {
    return absl::NotFoundError(absl::StrCat("task '", name, "' has no version ", version));
  }
  const auto was = current->pinned.find(name);
  if ((was != current->pinned.end() && was->second.count(version) > 0) == pinned) {
    return absl::OkStatus();  // already so
  }
  const int64_t budget = residency_->budget_bytes();
  if (pinned && budget > 0 &&
      residency_->pinned_bytes() + versions->second.at(version)->adapter->bytes() > budget) {
    return absl::ResourceExhaustedError(absl::StrCat(
        "pinning ", name, "@", version, " would exceed the device budget of ", budget, " bytes"));
  }
  auto next = std::make_unique<AdapterSnapshot>(*current);
  if (pinned) {
    next->pinned[name].insert(version);
  } else {
    next->pinned[name].erase(version);
    if (next->pinned[name].empty()) next->pinned.erase(name);
  }
  if (auto s = Commit(std::move(next)); !s.ok()) return s;
  return residency_->SetPinned(Key(name, version), pinned);
}

}  // namespace vlsm
