#include "audit/signing.h"

#include <fcntl.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "store/audit_chain.h"

namespace crs::audit {
namespace {

namespace fs = std::filesystem;

EVP_PKEY* Key(void* p) { return static_cast<EVP_PKEY*>(p); }

Result<std::string> ReadFile(const fs::path& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return Status::NotFound("cannot read " + path.string());
  std::ostringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

std::string RawPublicKey(EVP_PKEY* pkey) {
  std::string out(32, '\0');
  size_t len = out.size();
  if (EVP_PKEY_get_raw_public_key(pkey, reinterpret_cast<unsigned char*>(out.data()), &len) != 1 ||
      len != 32) {
    return {};
  }
  return out;
}

std::string PemOf(EVP_PKEY* pkey, bool private_key) {
  BIO* bio = BIO_new(BIO_s_mem());
  int ok = private_key ? PEM_write_bio_PrivateKey(bio, pkey, nullptr, nullptr, 0, nullptr, nullptr)
                       : PEM_write_bio_PUBKEY(bio, pkey);
  std::string out;
  if (ok == 1) {
    char* data = nullptr;
    long len = BIO_get_mem_data(bio, &data);
    out.assign(data, static_cast<size_t>(len));
  }
  BIO_free(bio);
  return out;
}

// Writes `bytes` to `path` atomically with `mode`: a private temp file,
// fsynced, then hard-linked into place (link fails if another process won
// the race, and then its file is the one to use). The directory is fsynced.
Status WriteNewFile(const fs::path& path, std::string_view bytes, mode_t mode) {
  std::string tmp = path.string() + ".tmp." + std::to_string(getpid());
  int fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, mode);
  if (fd < 0) return Status::Unavailable("cannot create " + tmp + ": " + std::strerror(errno));
  bool ok = ::fchmod(fd, mode) == 0 &&
            ::write(fd, bytes.data(), bytes.size()) == static_cast<ssize_t>(bytes.size()) &&
            ::fsync(fd) == 0;
  ::close(fd);
  if (!ok) {
    ::unlink(tmp.c_str());
    return Status::Unavailable("cannot write " + tmp + ": " + std::strerror(errno));
  }
  int linked = ::link(tmp.c_str(), path.c_str());
  int link_errno = errno;
  ::unlink(tmp.c_str());
  if (linked != 0 && link_errno != EEXIST) {
    return Status::Unavailable("cannot create " + path.string() + ": " + std::strerror(link_errno));
  }
  int dir = ::open(path.parent_path().c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (dir >= 0) {
    (void)::fsync(dir);
    ::close(dir);
  }
  return Status::Ok();
}

}  // namespace

SigningKey::SigningKey(void* pkey) : pkey_(pkey) {
  public_key_ = RawPublicKey(Key(pkey_));
  key_id_ = KeyIdOf(public_key_);
}

SigningKey::~SigningKey() { EVP_PKEY_free(Key(pkey_)); }

Result<std::shared_ptr<const SigningKey>> SigningKey::Load(const std::string& pem_path) {
  CRS_ASSIGN_OR_RETURN(std::string pem, ReadFile(pem_path));
  BIO* bio = BIO_new_mem_buf(pem.data(), static_cast<int>(pem.size()));
  EVP_PKEY* pkey = PEM_read_bio_PrivateKey(bio, nullptr, nullptr, nullptr);
  BIO_free(bio);
  if (pkey == nullptr || EVP_PKEY_get_base_id(pkey) != EVP_PKEY_ED25519) {
    EVP_PKEY_free(pkey);
    return Status::Invalid(pem_path + " holds no Ed25519 private key");
  }
  return std::shared_ptr<const SigningKey>(new SigningKey(pkey));
}

Result<std::shared_ptr<const SigningKey>> SigningKey::LoadOrCreate(const std::string& data_dir) {
  fs::path key_path = fs::path(data_dir) / kAuditKeyFile;
  fs::path dir = key_path.parent_path();
  std::error_code ec;
  // The directory may already exist: the JWT signing key lives there too.
  fs::create_directories(dir, ec);
  if (ec) return Status::Unavailable("cannot create " + dir.string() + ": " + ec.message());
  fs::permissions(dir, fs::perms::owner_all, fs::perm_options::replace, ec);
  if (!fs::exists(key_path)) {
    EVP_PKEY* pkey = EVP_PKEY_Q_keygen(nullptr, nullptr, "ED25519");
    if (pkey == nullptr) return Status::Internal("cannot generate an Ed25519 key");
    std::string pem = PemOf(pkey, /*private_key=*/true);
    EVP_PKEY_free(pkey);
    if (pem.empty()) return Status::Internal("cannot encode the audit key");
    CRS_RETURN_IF_ERROR(WriteNewFile(key_path, pem, 0600));
  }
  CRS_ASSIGN_OR_RETURN(auto key, Load(key_path.string()));
  fs::path pub_path = fs::path(data_dir) / kAuditPublicKeyFile;
  if (!fs::exists(pub_path)) {
    CRS_RETURN_IF_ERROR(WriteNewFile(pub_path, key->PublicKeyPem(), 0644));
  }
  return key;
}

std::string SigningKey::Sign(std::string_view message) const {
  std::string sig(64, '\0');
  size_t len = sig.size();
  EVP_MD_CTX* ctx = EVP_MD_CTX_new();
  bool ok = ctx && EVP_DigestSignInit(ctx, nullptr, nullptr, nullptr, Key(pkey_)) == 1 &&
            EVP_DigestSign(ctx, reinterpret_cast<unsigned char*>(sig.data()), &len,
                           reinterpret_cast<const unsigned char*>(message.data()),
                           message.size()) == 1;
  EVP_MD_CTX_free(ctx);
  if (!ok || len != 64) return {};
  return sig;
}

std::string SigningKey::PublicKeyPem() const { return PemOf(Key(pkey_), /*private_key=*/false); }

std::string KeyIdOf(std::string_view public_key) {
  unsigned char digest[32];
  unsigned int len = 0;
  EVP_Digest(public_key.data(), public_key.size(), digest, &len, EVP_sha256(), nullptr);
  return "ed25519:" + store::AuditHex(std::string_view(reinterpret_cast<char*>(digest), 8));
}

bool VerifySignature(std::string_view public_key, std::string_view message,
                     std::string_view signature) {
  if (public_key.size() != 32 || signature.size() != 64) return false;
  EVP_PKEY* pkey = EVP_PKEY_new_raw_public_key(
      EVP_PKEY_ED25519, nullptr, reinterpret_cast<const unsigned char*>(public_key.data()),
      public_key.size());
  if (pkey == nullptr) return false;
  EVP_MD_CTX* ctx = EVP_MD_CTX_new();
  bool ok = ctx && EVP_DigestVerifyInit(ctx, nullptr, nullptr, nullptr, pkey) == 1 &&
            EVP_DigestVerify(ctx, reinterpret_cast<const unsigned char*>(signature.data()),
                             signature.size(),
                             reinterpret_cast<const unsigned char*>(message.data()),
                             message.size()) == 1;
  EVP_MD_CTX_free(ctx);
  EVP_PKEY_free(pkey);
  return ok;
}

Result<std::vector<std::string>> LoadAuditPublicKeys(const std::string& data_dir) {
  std::vector<std::string> keys;
  auto add = [&](const std::string& raw) {
    if (raw.size() == 32 && std::find(keys.begin(), keys.end(), raw) == keys.end()) {
      keys.push_back(raw);
    }
  };
  fs::path key_path = fs::path(data_dir) / kAuditKeyFile;
  std::error_code ec;
  if (fs::exists(key_path, ec)) {
    auto key = SigningKey::Load(key_path.string());
    if (!key.ok()) return key.status();
    add((*key)->public_key());
  }
  fs::path dir = key_path.parent_path();
  if (fs::is_directory(dir, ec)) {
    for (const auto& entry : fs::directory_iterator(dir, ec)) {
      std::string name = entry.path().filename().string();
      if (!name.starts_with("audit-ed25519") || !name.ends_with(".pub")) continue;
      auto pem = ReadFile(entry.path());
      if (!pem.ok()) continue;
      BIO* bio = BIO_new_mem_buf(pem->data(), static_cast<int>(pem->size()));
      EVP_PKEY* pkey = PEM_read_bio_PUBKEY(bio, nullptr, nullptr, nullptr);
      BIO_free(bio);
      if (pkey != nullptr && EVP_PKEY_get_base_id(pkey) == EVP_PKEY_ED25519) {
        add(RawPublicKey(pkey));
      }
      EVP_PKEY_free(pkey);
    }
  }
  if (keys.empty()) return Status::NotFound("no audit public key in " + dir.string());
  return keys;
}

}  // namespace crs::audit
