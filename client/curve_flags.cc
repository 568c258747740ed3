#include "client/curve_flags.h"

#include "common/curve_keys.h"

namespace sluice {
namespace {

// The key given directly or in a file; "" when neither.
Result<std::string> KeyOf(const std::string& value, const std::string& file,
                          const std::string& flag) {
  if (!file.empty()) return ReadCurveKeyFile(file, flag + "-file");
  if (!value.empty() && !IsCurveKey(value)) {
    return Status(StatusCode::kInvalidArgument, flag + ": not a CURVE key (40 characters of Z85)");
  }
  return value;
}

}  // namespace

void AddCurveFlags(CLI::App* app, CurveFlags* flags) {
  auto* broker_key =
      app->add_option("--broker-public-key", flags->broker_public_key,
                      "the broker's CURVE public key (Z85): connect encrypted, with --secret-key")
          ->envname("SLUICE_BROKER_PUBLIC_KEY");
  app->add_option("--broker-public-key-file", flags->broker_public_key_file,
                  "file holding the broker's CURVE public key")
      ->envname("SLUICE_BROKER_PUBLIC_KEY_FILE")
      ->excludes(broker_key);
  auto* secret_key = app->add_option("--secret-key", flags->secret_key,
                                     "this client's CURVE secret key (Z85); prefer the file")
                         ->envname("SLUICE_SECRET_KEY");
  app->add_option("--secret-key-file", flags->secret_key_file,
                  "file holding this client's CURVE secret key (`sluice-broker keygen`)")
      ->envname("SLUICE_SECRET_KEY_FILE")
      ->excludes(secret_key);
}

Result<std::optional<CurveCredentials>> ResolveCurveFlags(const CurveFlags& flags) {
  auto broker_key =
      KeyOf(flags.broker_public_key, flags.broker_public_key_file, "--broker-public-key");
  if (!broker_key.ok()) return broker_key.status();
  auto secret_key = KeyOf(flags.secret_key, flags.secret_key_file, "--secret-key");
  if (!secret_key.ok()) return secret_key.status();
  if (broker_key->empty() && secret_key->empty()) return std::optional<CurveCredentials>();
  if (broker_key->empty() || secret_key->empty()) {
    return Status(StatusCode::kInvalidArgument,
                  broker_key->empty()
                      ? "a CURVE secret key needs the broker's public key too "
                        "(--broker-public-key-file or $SLUICE_BROKER_PUBLIC_KEY_FILE)"
                      : "the broker's public key needs this client's CURVE secret key too "
                        "(--secret-key-file or $SLUICE_SECRET_KEY_FILE)");
  }
  auto public_key = CurvePublicKeyOf(*secret_key);
  if (!public_key.ok()) return public_key.status();
  return std::optional<CurveCredentials>(CurveCredentials{*broker_key, *public_key, *secret_key});
}

}  // namespace sluice
