#include "common/digest.h"

#include <openssl/evp.h>

namespace sluice {
namespace {

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
    static constexpr char kHex[] = "0123456789abcdef";
    std::string hex(len * 2, '\0');
    for (unsigned int i = 0; i < len; ++i) {
      hex[2 * i] = kHex[out[i] >> 4];
      hex[2 * i + 1] = kHex[out[i] & 0xf];
    }
    return hex;
  }

  EVP_MD* md5_;
  EVP_MD* sha256_;
  EVP_MD_CTX* ctx_;
};

thread_local Digester digester;

}  // namespace

std::string Md5Hex(std::string_view data) { return digester.Md5Hex(data); }
std::string Sha256Hex(std::string_view data) { return digester.Sha256Hex(data); }

}  // namespace sluice
