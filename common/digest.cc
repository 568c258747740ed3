#include "common/digest.h"

#include <openssl/evp.h>

#include <algorithm>

#include "common/md5_lanes.h"

namespace sluice {
namespace {

std::string HexOf(const unsigned char* bytes, size_t size) {
  static constexpr char kHex[] = "0123456789abcdef";
  std::string hex(size * 2, '\0');
  for (size_t i = 0; i < size; ++i) {
    hex[2 * i] = kHex[bytes[i] >> 4];
    hex[2 * i + 1] = kHex[bytes[i] & 0xf];
  }
  return hex;
}

// OpenSSL 3 looks the algorithm up again on every digest made with
// EVP_md5() (about 40% of the cost of hashing a 1 KiB body) unless it was
// fetched once. Each thread keeps the fetched algorithms and one context.
class Digester {
 public:
  Digester()
      : md5_(EVP_MD_fetch(nullptr, "MD5", nullptr)),
        sha256_(EVP_MD_fetch(nullptr, "SHA256", nullptr)),
        ctx_(EVP_MD_CTX_new()) {}
  ~Digester() {
    EVP_MD_CTX_free(ctx_);
    EVP_MD_free(md5_);
    EVP_MD_free(sha256_);
  }
  Digester(const Digester&) = delete;
  Digester& operator=(const Digester&) = delete;

  std::string Md5Hex(std::string_view data) { return Hex(md5_ ? md5_ : EVP_md5(), data); }
  std::string Sha256Hex(std::string_view data) {
    return Hex(sha256_ ? sha256_ : EVP_sha256(), data);
  }

 private:
  std::string Hex(const EVP_MD* md, std::string_view data) {
    unsigned char out[EVP_MAX_MD_SIZE];
    unsigned int len = 0;
    EVP_DigestInit_ex(ctx_, md, nullptr);
    EVP_DigestUpdate(ctx_, data.data(), data.size());
    EVP_DigestFinal_ex(ctx_, out, &len);
    return HexOf(out, len);
  }

  EVP_MD* md5_;
  EVP_MD* sha256_;
  EVP_MD_CTX* ctx_;
};

thread_local Digester digester;

}  // namespace

std::string Md5Hex(std::string_view data) { return digester.Md5Hex(data); }
std::string Sha256Hex(std::string_view data) { return digester.Sha256Hex(data); }

std::vector<std::string> Md5HexMany(std::span<const std::string_view> inputs) {
  std::vector<std::string> hex;
  hex.reserve(inputs.size());
  size_t i = 0;
  // A pass of the lanes costs as much as three or four inputs one by one,
  // however few of its lanes are used (docs/benchmarks.md).
  while (Md5LanesAvailable() && inputs.size() - i >= 4) {
    const int n = static_cast<int>(std::min<size_t>(kMd5Lanes, inputs.size() - i));
    Md5Digest digests[kMd5Lanes];
    Md5Lanes(&inputs[i], n, digests);
    for (int l = 0; l < n; ++l) hex.push_back(HexOf(digests[l].data(), digests[l].size()));
    i += static_cast<size_t>(n);
  }
  for (; i < inputs.size(); ++i) hex.push_back(Md5Hex(inputs[i]));
  return hex;
}

}  // namespace sluice
