#include "access/keys.h"

#include <fcntl.h>
#include <openssl/bio.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/rand.h>
#include <sys/stat.h>
#include <unistd.h>

#include <boost/json.hpp>
#include <cerrno>
#include <cstring>
#include <filesystem>

#include "access/crypto.h"

namespace crs::access {
namespace {

struct BioFree {
  void operator()(BIO* b) const { BIO_free(b); }
};
using BioPtr = std::unique_ptr<BIO, BioFree>;

std::string Errno(const std::string& what) { return what + ": " + std::strerror(errno); }

Status WriteAll(int fd, std::string_view data) {
  while (!data.empty()) {
    ssize_t n = ::write(fd, data.data(), data.size());
    if (n < 0) {
      if (errno == EINTR) continue;
      return Status::Unavailable(Errno("cannot write node key"));
    }
    data.remove_prefix(static_cast<size_t>(n));
  }
  return Status::Ok();
}

Status MakeDir(const std::string& path, mode_t mode) {
  if (::mkdir(path.c_str(), mode) == 0 || errno == EEXIST) return Status::Ok();
  return Status::Unavailable(Errno("cannot create " + path));
}

void SyncDir(const std::string& path) {
  int fd = ::open(path.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (fd >= 0) {
    ::fsync(fd);
    ::close(fd);
  }
}

Result<NodeKey> LoadKeyFile(const std::string& path) {
  int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
  if (fd < 0) return Status::Unavailable(Errno("cannot open node key " + path));
  struct stat st {};
  std::string pem;
  char buf[4096];
  bool ok = ::fstat(fd, &st) == 0;
  while (ok) {
    ssize_t n = ::read(fd, buf, sizeof buf);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0 || pem.size() > 64 * 1024) {
      ok = n == 0;
      break;
    }
    pem.append(buf, static_cast<size_t>(n));
  }
  ::close(fd);
  if (!ok) return Status::Unavailable(Errno("cannot read node key " + path));
  if ((st.st_mode & 077) != 0) {
    return Status::Internal("node key " + path + " is accessible by group or others; chmod 600 it");
  }
  Result<NodeKey> key = NodeKey::FromPem(pem);
  if (!key.ok()) return Status::Internal("node key " + path + ": " + key.status().message());
  return key;
}

// Writes `pem` to a fresh private file next to `path` and links it into
// place. link() fails with EEXIST when another process got there first, so
// exactly one key wins; the loser loads the winner's key.
Result<bool> CreateKeyFile(const std::string& path, std::string_view pem) {
  unsigned char rnd[8];
  if (RAND_bytes(rnd, sizeof rnd) != 1) return Status::Internal("no randomness");
  std::string tmp = path + ".tmp." + std::to_string(::getpid()) + "." +
                    crypto::Base64UrlEncode(std::string_view(reinterpret_cast<char*>(rnd), 8));
  int fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW, 0600);
  if (fd < 0) return Status::Unavailable(Errno("cannot create node key"));
  Status written = WriteAll(fd, pem);
  if (written.ok() && ::fsync(fd) != 0)
    written = Status::Unavailable(Errno("cannot sync node key"));
  ::close(fd);
  if (!written.ok()) {
    ::unlink(tmp.c_str());
    return written;
  }
  bool created = ::link(tmp.c_str(), path.c_str()) == 0;
  int link_errno = errno;
  ::unlink(tmp.c_str());
  if (!created && link_errno != EEXIST) {
    errno = link_errno;
    return Status::Unavailable(Errno("cannot install node key"));
  }
  return created;
}

}  // namespace

Result<NodeKey> NodeKey::FromKey(std::shared_ptr<evp_pkey_st> key) {
  if (!crypto::IsP256(key.get())) return Status::Invalid("not an EC P-256 key");
  CRS_ASSIGN_OR_RETURN(std::string spki, crypto::SubjectPublicKeyInfo(key.get()));
  std::optional<crypto::Sha256Digest> digest = crypto::Sha256(spki);
  if (!digest) return Status::Internal("SHA-256 failed");
  CRS_ASSIGN_OR_RETURN(auto xy, crypto::P256PublicXY(key.get()));
  NodeKey out;
  out.key_ = std::move(key);
  out.kid_ = crypto::Base64UrlEncode(
                 std::string_view(reinterpret_cast<const char*>(digest->data()), digest->size()))
                 .substr(0, 16);
  out.issuer_ = std::string(kNodeIssuerPrefix) + out.kid_;
  boost::json::object jwk;
  jwk["kty"] = "EC";
  jwk["crv"] = "P-256";
  jwk["x"] = crypto::Base64UrlEncode(xy.first);
  jwk["y"] = crypto::Base64UrlEncode(xy.second);
  jwk["kid"] = out.kid_;
  jwk["alg"] = "ES256";
  jwk["use"] = "sig";
  out.jwk_ = boost::json::serialize(jwk);
  return out;
}

Result<NodeKey> NodeKey::FromPem(std::string_view pem) {
  BioPtr bio(BIO_new_mem_buf(pem.data(), static_cast<int>(pem.size())));
  EVP_PKEY* raw = bio ? PEM_read_bio_PrivateKey(bio.get(), nullptr, nullptr, nullptr) : nullptr;
  if (raw == nullptr) return Status::Invalid("not a PEM private key");
  return FromKey(std::shared_ptr<evp_pkey_st>(raw, EVP_PKEY_free));
}

Result<NodeKey> NodeKey::Generate() {
  CRS_ASSIGN_OR_RETURN(crypto::PkeyPtr key, crypto::GenerateP256());
  return FromKey(std::shared_ptr<evp_pkey_st>(key.release(), EVP_PKEY_free));
}

Result<std::string> NodeKey::Sign(std::string_view data) const {
  return crypto::SignEs256(key_.get(), data);
}

Result<std::string> NodeKey::ToPem() const {
  BioPtr bio(BIO_new(BIO_s_mem()));
  if (!bio ||
      PEM_write_bio_PrivateKey(bio.get(), key_.get(), nullptr, nullptr, 0, nullptr, nullptr) != 1) {
    return Status::Internal("cannot encode node key");
  }
  char* data = nullptr;
  long len = BIO_get_mem_data(bio.get(), &data);
  return std::string(data, static_cast<size_t>(len));
}

Result<NodeKey> LoadOrCreateNodeKey(const std::string& data_dir) {
  namespace fs = std::filesystem;
  std::string keys_dir = (fs::path(data_dir) / "keys").string();
  std::string path = (fs::path(data_dir) / kNodeKeyFile).string();
  if (::access(path.c_str(), F_OK) == 0) return LoadKeyFile(path);

  std::error_code ec;
  fs::create_directories(data_dir, ec);
  if (ec) return Status::Unavailable("cannot create " + data_dir + ": " + ec.message());
  CRS_RETURN_IF_ERROR(MakeDir(keys_dir, 0700));
  CRS_ASSIGN_OR_RETURN(NodeKey fresh, NodeKey::Generate());
  CRS_ASSIGN_OR_RETURN(std::string pem, fresh.ToPem());
  CRS_ASSIGN_OR_RETURN(bool created, CreateKeyFile(path, pem));
  if (!created) return LoadKeyFile(path);  // another process won the race
  SyncDir(keys_dir);
  return fresh;
}

}  // namespace crs::access
