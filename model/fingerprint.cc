#include "model/fingerprint.h"

#include <openssl/evp.h>

#include <algorithm>
#include <memory>

#include "absl/strings/escaping.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"

namespace vlsm {
namespace {

// Incremental SHA-256 over OpenSSL's EVP interface.
class Sha256 {
 public:
  Sha256() : ctx_(EVP_MD_CTX_new()) { EVP_DigestInit_ex(ctx_.get(), EVP_sha256(), nullptr); }

  void Update(const void* data, size_t size) {
    if (size > 0) EVP_DigestUpdate(ctx_.get(), data, size);
  }
  void Update(absl::string_view bytes) { Update(bytes.data(), bytes.size()); }

  // Lowercase hex digest; call once.
  std::string FinalHex() {
    unsigned char digest[EVP_MAX_MD_SIZE];
    unsigned int length = 0;
    EVP_DigestFinal_ex(ctx_.get(), digest, &length);
    return absl::BytesToHexString(absl::string_view(reinterpret_cast<const char*>(digest), length));
  }

 private:
  struct Free {
    void operator()(EVP_MD_CTX* ctx) const { EVP_MD_CTX_free(ctx); }
  };
  std::unique_ptr<EVP_MD_CTX, Free> ctx_;
};

constexpr absl::string_view kNul("\0", 1);

}  // namespace

std::string WeightsFingerprint(const std::vector<TensorView>& tensors) {
  std::vector<const TensorView*> sorted;
  sorted.reserve(tensors.size());
  for (const TensorView& tensor : tensors) {
    if (!absl::EndsWith(tensor.name, "position_ids")) sorted.push_back(&tensor);
  }
  std::sort(sorted.begin(), sorted.end(),
            [](const TensorView* a, const TensorView* b) { return a->name < b->name; });

  Sha256 sha;
  for (const TensorView* tensor : sorted) {
    sha.Update(tensor->name);
    sha.Update(kNul);
    sha.Update(DTypeName(tensor->dtype));
    sha.Update(kNul);
    sha.Update(absl::StrJoin(tensor->shape, ","));
    sha.Update(kNul);
    sha.Update(tensor->data, tensor->nbytes);
  }
  return absl::StrCat("sha256:", sha.FinalHex());
}

std::string Sha256Hex(absl::string_view bytes) {
  Sha256 sha;
  sha.Update(bytes);
  return sha.FinalHex();
}

}  // namespace vlsm
