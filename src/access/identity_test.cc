// Identity: node key, token minting, verification (including forgeries),
// JWKS keys, the verified-token cache, SMART scopes and RBAC expansion.
#include <gtest/gtest.h>
#include <openssl/bn.h>
#include <openssl/core_names.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <sys/stat.h>

#include <boost/json.hpp>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <thread>

#include "access/crypto.h"
#include "access/jwt.h"
#include "access/keys.h"
#include "access/rbac.h"
#include "access/scopes.h"

namespace crs::access {
namespace {

namespace json = boost::json;
namespace fs = std::filesystem;

constexpr int64_t kNow = 1'800'000'000;  // seconds
constexpr char kPatientNhs[] = "9434765919";
constexpr char kIdpIssuer[] = "https://idp.example.nhs.uk";
// A fixed 2048-bit RSA key for the test identity provider: generating one
// takes up to a second, too slow for the suite's budget. Test use only.
constexpr char kIdpRsaPem[] = R"(-----BEGIN PRIVATE KEY-----
MIIEvQIBADANBgkqhkiG9w0BAQEFAASCBKcwggSjAgEAAoIBAQC1xy2NBa7Rzmlb
Uu5eT+sIQ0Edx6gLZRlJp21wwdnmIr4TA6nRE3z01IqfZgrvL+w2pHqlcZZyP/mZ
GFsUa31XFhkl7z4fMK4mj/Hqe8Ub/JVcBuo4EdkuTw944tbx6z+8N/wGuJm5QcFL
+z2wcpwfFIz2Nris1HNhMySnDYN0xj1yRuMEtba+B97sPuDht0pBYfD1thhKvQ/M
RAgkcIC/QQ+RRoFx9T3l6k4qAFhVI9qKw2pkmToEiBSmGgv60zxr+lzI6m5Mwyt6
srROgtcySWt0T1F8lkc3dzAIq07/q4DZyEt4lT4SCqv4f6rt7wf8Sr6N8LmYBKKj
dB4O1Pc9AgMBAAECggEAEbx57tEXoiQENqNsW6prkdZSE7BH7riyE3QxIvffJWvN
ZPiOCLbgkdjtH6lqtrTT1O8OgncHSWWBmpT8Sg1E4QrocEGcK5np3Bxea9Ugwd7O
yfhowQjIypJvPYnQlDEyelByGEvJwAAw9pNwjPdZ0VSFfn6PXVmrWlgNovkYEvwc
aFfTBIAGCd3bJ0L9RgAOb+VOobB134JeM5WSLr01try9vC4ivTr4S3F1fPqGClMC
/Kp0KMnNxJSpTdoRNysxuwIbq+CDQuhndv9H/mleJ9iHkP8GJxNCSIOMAs+8RwJb
uhlb0s9YfhUxPOjpuuGrZselU1KMwHTlESFA5vxFhwKBgQDwraWeJi+hXEz2/yvR
kIsSJz/83nREYFk3NXQdn5lvdaMbUb9KgmoSDrhI+VcPipWLdy9ivwTssAm5qorB
/yH7034LqTZVo5T88X7M9EjUgE5Bs1Mk9GNCf/jZcyPC9Q1pocyq4EuYIHWgC4ay
1H0xdpSW99VQAoTYedz2G/VWFwKBgQDBWaD0Tpkyypq8zebmhb6lwhtyYSgu6j2B
Miee6+m5tuSJLeXwcMQt4sZzWOU3D+S18BHx8D60zbh4Tq0hx3ibkNNTEOxmMM9y
CbQN4LpMT1lT2VeliDPsw+k1hXc/3cDpQsntfoTOlNrp7rAe9gSsP31C834IwrEw
8yaeOIbFywKBgG+iO5WVZLZVl6VhSjPT9Y2gAwAJNqiYgAkplAhBhOu8BsGfMzke
MJDbnwLKFGWzBBZCXApTS7d1F620utOswViLCoXiIL+sNmj0ornx/O4D7UhwIvqb
GIc50HUcANRm0afTUplXm/id5bEsZ3f/M2qD8/vqTFjmMjQuohzNbwhVAoGAG6iV
pL0lnyVqcz3FHQ7e0dltkbQiSmvJtpSVJF+9BIsMMC93qCiJd8Lr/o4l4/WLExev
iXuDjNus2tDuZVmigCZ8hHJ0Tr4GvtpyflW6cLYdIiiCKDTOsLzpvHVGNMWlFfku
56FkoCSdGD/Dw/oPexBt+8jXK6umK0ltKc8OQHcCgYEAvN0nUFkDOi8tF08tB4HD
6DWS6zpqtt1tFbc2RXW7m+N7r1UdaCjpCGN1F6e9aRDfXQKoO6aYHWu90RzNfD1J
itDEa0pJc/91FR+Ev152h8ino0XOXdw9UQWfljpWDm9nvW9eov79Lo9LUQ+SBfTj
yESauLHG5CeZReA2a+z2Rfg=
-----END PRIVATE KEY-----
)";

class FakeClock : public Clock {
 public:
  int64_t NowMs() const override { return now_ms; }
  int64_t now_ms = kNow * 1000;
};

std::string B64(std::string_view s) { return crypto::Base64UrlEncode(s); }

std::string TempDir() {
  std::string tmpl = (fs::path(testing::TempDir()) / "crs-identity-XXXXXX").string();
  char* dir = mkdtemp(tmpl.data());
  EXPECT_NE(dir, nullptr);
  return tmpl;
}

// Compact JWS from raw JSON texts, signed by `sign` over "header.payload".
template <typename Signer>
std::string Jws(const std::string& header, const std::string& payload, Signer sign) {
  std::string input = B64(header) + "." + B64(payload);
  return input + "." + B64(sign(input));
}

std::string BigNum(EVP_PKEY* key, const char* name) {
  BIGNUM* bn = nullptr;
  EXPECT_EQ(EVP_PKEY_get_bn_param(key, name, &bn), 1);
  std::string out(BN_num_bytes(bn), '\0');
  BN_bn2bin(bn, reinterpret_cast<unsigned char*>(out.data()));
  BN_free(bn);
  return out;
}

class IdentityTest : public testing::Test {
 protected:
  static void SetUpTestSuite() {
    node_ = new NodeKey(NodeKey::Generate().value());
    other_ = new NodeKey(NodeKey::Generate().value());
    idp_ec_ = crypto::GenerateP256().value().release();
    BIO* bio = BIO_new_mem_buf(kIdpRsaPem, -1);
    idp_rsa_ = PEM_read_bio_PrivateKey(bio, nullptr, nullptr, nullptr);
    BIO_free(bio);
    ASSERT_NE(idp_rsa_, nullptr);
  }
  static void TearDownTestSuite() {
    delete node_;
    delete other_;
    EVP_PKEY_free(idp_ec_);
    EVP_PKEY_free(idp_rsa_);
  }

  void SetUp() override { auth_ = MakeAuth(AuthOptions{}); }

  std::unique_ptr<Authenticator> MakeAuth(const AuthOptions& options) {
    auto a = Authenticator::Create(*node_, options, clock_);
    EXPECT_TRUE(a.ok()) << a.status().ToString();
    return a.ok() ? std::move(a).value() : nullptr;
  }

  static TokenClaims Clinician() {
    TokenClaims c;
    c.user = "555000000001";
    c.name = "Dr A Clinician";
    c.role = "R8000";
    c.org = "RBA";
    c.scopes = {"user/Patient.rs", "user/AllergyIntolerance.cruds", "openid"};
    return c;
  }

  // Valid claims for a node-signed token, as JSON, to be edited by a test.
  static json::object NodeClaims() {
    return json::object{{"iss", node_->issuer()}, {"aud", "urn:opencrs:fhir"},
                        {"sub", "forger"},        {"iat", kNow},
                        {"exp", kNow + 3600},     {"role", "R8000"},
                        {"org", "RBA"},           {"scope", "user/Patient.rs"}};
  }
  static std::string NodeHeader(std::string_view alg = "ES256") {
    return json::serialize(json::object{{"alg", alg}, {"typ", "JWT"}, {"kid", node_->kid()}});
  }
  static std::string SignedByNode(const json::object& claims) {
    return Jws(NodeHeader(), json::serialize(claims),
               [](const std::string& in) { return node_->Sign(in).value(); });
  }

  Result<std::shared_ptr<const Principal>> Auth(const std::string& token) {
    return auth_->Authenticate("Bearer " + token);
  }

  static NodeKey* node_;
  static NodeKey* other_;
  static EVP_PKEY* idp_ec_;
  static EVP_PKEY* idp_rsa_;
  FakeClock clock_;
  std::unique_ptr<Authenticator> auth_;
};

NodeKey* IdentityTest::node_ = nullptr;
NodeKey* IdentityTest::other_ = nullptr;
EVP_PKEY* IdentityTest::idp_ec_ = nullptr;
EVP_PKEY* IdentityTest::idp_rsa_ = nullptr;

TEST_F(IdentityTest, MintedTokenVerifiesIntoPrincipal) {
  std::string token = MintToken(*node_, Clinician(), kNow).value();
  auto p = Auth(token);
  ASSERT_TRUE(p.ok()) << p.status().ToString();
  EXPECT_EQ((*p)->user, "555000000001");
  EXPECT_EQ((*p)->name, "Dr A Clinician");
  EXPECT_EQ((*p)->role, "R8000");
  EXPECT_EQ((*p)->org, "RBA");
  EXPECT_EQ((*p)->issuer, node_->issuer());
  EXPECT_EQ((*p)->expires_ms, (kNow + 8 * 3600) * 1000);
  EXPECT_EQ((*p)->jti.size(), 22u);
  EXPECT_FALSE((*p)->is_patient());
  EXPECT_TRUE((*p)->HasActivity("B0370"));
  EXPECT_TRUE((*p)->HasActivity("B0820"));
  EXPECT_FALSE((*p)->HasActivity("B0083"));
  EXPECT_TRUE((*p)->scopes.Allows("Patient", 's'));
  EXPECT_FALSE((*p)->scopes.Allows("Patient", 'u'));
  EXPECT_TRUE((*p)->scopes.Allows("AllergyIntolerance", 'd'));
  EXPECT_EQ((*p)->scopes.others(), std::vector<std::string>{"openid"});
  // Scheme is case-insensitive; surrounding blanks are tolerated.
  EXPECT_TRUE(auth_->Authenticate("bearer  " + token + " ").ok());
}

TEST_F(IdentityTest, MintedTokenHasDocumentedShape) {
  TokenClaims c = Clinician();
  c.activities = {"B0370", "B0168"};
  c.audience = "urn:example:aud";
  c.ttl_seconds = 60;
  std::string token = MintToken(*node_, c, kNow).value();
  size_t dot1 = token.find('.'), dot2 = token.rfind('.');
  json::object header = json::parse(*crypto::Base64UrlDecode(token.substr(0, dot1))).as_object();
  json::object claims =
      json::parse(*crypto::Base64UrlDecode(token.substr(dot1 + 1, dot2 - dot1 - 1))).as_object();
  EXPECT_EQ(json::serialize(header),
            R"({"alg":"ES256","typ":"JWT","kid":")" + node_->kid() + R"("})");
  EXPECT_EQ(claims["iss"], node_->issuer().c_str());
  EXPECT_EQ(claims["aud"], "urn:example:aud");
  EXPECT_EQ(claims["exp"].as_int64(), kNow + 60);
  EXPECT_EQ(claims["iat"].as_int64(), kNow);
  EXPECT_EQ(claims["scope"], "user/Patient.rs user/AllergyIntolerance.cruds openid");
  EXPECT_EQ(json::serialize(claims["activities"]), R"(["B0370","B0168"])");
  EXPECT_FALSE(claims.contains("patient"));
  EXPECT_EQ(crypto::Base64UrlDecode(token.substr(dot2 + 1))->size(), 64u);  // raw R||S
}

TEST_F(IdentityTest, PatientToken) {
  TokenClaims c;
  c.user = kPatientNhs;
  c.role = "patient";
  c.patient = kPatientNhs;
  c.scopes = {"patient/*.rs"};
  auto p = Auth(MintToken(*node_, c, kNow).value());
  ASSERT_TRUE(p.ok()) << p.status().ToString();
  EXPECT_TRUE((*p)->is_patient());
  EXPECT_EQ((*p)->patient, kPatientNhs);
  EXPECT_TRUE((*p)->activities.empty());
  EXPECT_TRUE((*p)->scopes.AllowsIn(ScopeContext::kPatient, "Observation", 'r'));
}

TEST_F(IdentityTest, TokenActivitiesReplaceRoleDefaultsAndAreExpanded) {
  TokenClaims c = Clinician();
  c.role = "R8008";
  c.activities = {"B0825"};
  auto p = Auth(MintToken(*node_, c, kNow).value());
  ASSERT_TRUE(p.ok());
  EXPECT_EQ((*p)->activities, (ActivitySet{"B0820", "B0825"}));
}

TEST_F(IdentityTest, MintRefusesClaimsThatWouldNotVerify) {
  auto bad = [&](auto edit) {
    TokenClaims c = Clinician();
    edit(c);
    Result<std::string> t = MintToken(*node_, c, kNow);
    return !t.ok() && t.status().code() == Code::kInvalid;
  };
  EXPECT_TRUE(bad([](TokenClaims& c) { c.role = "R9999"; }));
  EXPECT_TRUE(bad([](TokenClaims& c) { c.user.clear(); }));
  EXPECT_TRUE(bad([](TokenClaims& c) { c.org.clear(); }));
  EXPECT_TRUE(bad([](TokenClaims& c) { c.patient = kPatientNhs; }));  // not a patient role
  EXPECT_TRUE(bad([](TokenClaims& c) {
    c.role = "patient";
    c.patient = "9434765918";
  }));
  EXPECT_TRUE(bad([](TokenClaims& c) { c.scopes = {"user/Patient.xyz"}; }));
  EXPECT_TRUE(bad([](TokenClaims& c) { c.activities = {"b0370"}; }));
  EXPECT_TRUE(bad([](TokenClaims& c) { c.ttl_seconds = 0; }));
}

struct Forgery {
  const char* name;
  std::function<std::string(IdentityTest*)> token;  // full Authorization value
  const char* message;
};

class ForgeryTest : public IdentityTest {};

TEST_F(ForgeryTest, EveryForgeryIsUnauthenticatedWithoutEcho) {
  auto with = [](auto edit) {
    return [edit](IdentityTest*) {
      json::object c = NodeClaims();
      edit(c);
      return "Bearer " + SignedByNode(c);
    };
  };
  auto valid = "Bearer " + SignedByNode(NodeClaims());
  std::vector<Forgery> cases = {
      {"alg none",
       [](IdentityTest*) {
         return "Bearer " + B64(NodeHeader("none")) + "." + B64(json::serialize(NodeClaims())) +
                ".";
       },
       "unsupported token algorithm"},
      {"HS256 keyed with the public key",
       [](IdentityTest*) {
         return "Bearer " +
                Jws(NodeHeader("HS256"), json::serialize(NodeClaims()), [](const std::string& in) {
                  const std::string& secret = node_->PublicJwk();
                  unsigned char mac[32];
                  size_t len = 0;
                  EVP_Q_mac(nullptr, "HMAC", nullptr, "SHA256", nullptr, secret.data(),
                            secret.size(), reinterpret_cast<const unsigned char*>(in.data()),
                            in.size(), mac, sizeof mac, &len);
                  return std::string(reinterpret_cast<char*>(mac), len);
                });
       },
       "unsupported token algorithm"},
      {"RS256 claimed for an EC key",
       [](IdentityTest*) {
         return "Bearer " + Jws(NodeHeader("RS256"), json::serialize(NodeClaims()),
                                [](const std::string& in) { return node_->Sign(in).value(); });
       },
       "token algorithm does not match key"},
      {"tampered payload",
       [valid](IdentityTest*) {
         json::object c = NodeClaims();
         c["role"] = "R5105";
         size_t dot1 = valid.find('.'), dot2 = valid.rfind('.');
         return valid.substr(0, dot1 + 1) + B64(json::serialize(c)) + valid.substr(dot2);
       },
       "invalid token signature"},
      {"tampered signature",
       [valid](IdentityTest*) {
         std::string t = valid;
         size_t i = t.rfind('.') + 10;
         t[i] = t[i] == 'A' ? 'B' : 'A';
         return t;
       },
       "invalid token signature"},
      {"other key, same kid",
       [](IdentityTest*) {
         return "Bearer " + Jws(NodeHeader(), json::serialize(NodeClaims()),
                                [](const std::string& in) { return other_->Sign(in).value(); });
       },
       "invalid token signature"},
      {"unknown kid",
       [](IdentityTest*) {
         std::string header = json::serialize(json::object{{"alg", "ES256"}, {"kid", "nope"}});
         return "Bearer " + Jws(header, json::serialize(NodeClaims()),
                                [](const std::string& in) { return node_->Sign(in).value(); });
       },
       "unknown signing key"},
      {"crit header",
       [](IdentityTest*) {
         std::string header = json::serialize(
             json::object{{"alg", "ES256"}, {"kid", node_->kid()}, {"crit", json::array{"exp"}}});
         return "Bearer " + Jws(header, json::serialize(NodeClaims()),
                                [](const std::string& in) { return node_->Sign(in).value(); });
       },
       "unsupported token header"},
      {"expired", with([](json::object& c) { c["exp"] = kNow - 61; }), "token expired"},
      {"no exp", with([](json::object& c) { c.erase("exp"); }), "token has no expiry"},
      {"exp a string", with([](json::object& c) { c["exp"] = "soon"; }), "malformed time claim"},
      {"issued in the future", with([](json::object& c) { c["iat"] = kNow + 61; }),
       "token not yet valid"},
      {"nbf in the future", with([](json::object& c) { c["nbf"] = kNow + 3000; }),
       "token not yet valid"},
      {"wrong audience", with([](json::object& c) { c["aud"] = "urn:other"; }),
       "wrong token audience"},
      {"audience array without ours", with([](json::object& c) {
         c["aud"] = json::array{"a", "b"};
       }),
       "wrong token audience"},
      {"wrong issuer", with([](json::object& c) { c["iss"] = kIdpIssuer; }), "wrong token issuer"},
      {"no sub", with([](json::object& c) { c.erase("sub"); }), "token has no subject"},
      {"no role", with([](json::object& c) { c.erase("role"); }), "token has no role"},
      {"unknown role", with([](json::object& c) { c["role"] = "forger-admin"; }), "unknown role"},
      {"no org", with([](json::object& c) { c.erase("org"); }), "token has no organisation"},
      {"sub not a string", with([](json::object& c) { c["sub"] = 42; }), "malformed claim"},
      {"malformed scope", with([](json::object& c) { c["scope"] = "user/Patient.forger"; }),
       "malformed scope"},
      {"malformed activities", with([](json::object& c) { c["activities"] = "B0370"; }),
       "malformed activities claim"},
      {"patient with bad NHS number", with([](json::object& c) {
         c["role"] = "patient";
         c["patient"] = "9434765918";
       }),
       "invalid patient NHS number"},
      {"patient without NHS number", with([](json::object& c) { c["role"] = "patient"; }),
       "invalid patient NHS number"},
      {"patient claiming activities", with([](json::object& c) {
         c["role"] = "patient";
         c["patient"] = kPatientNhs;
         c["activities"] = json::array{"B0168"};
       }),
       "activities not allowed for patients"},
      {"clinician with patient claim", with([](json::object& c) { c["patient"] = kPatientNhs; }),
       "patient claim only allowed for patients"},
      {"deep JSON",
       with([](json::object& c) { c["x"] = json::parse(R"({"forger":[[[[[[1]]]]]]})"); }),
       "malformed token"},
      {"garbage", [](IdentityTest*) { return std::string("Bearer forger"); }, "malformed token"},
      {"four segments", [valid](IdentityTest*) { return valid + ".forger"; }, "malformed token"},
      {"padding in signature", [valid](IdentityTest*) { return valid + "="; }, "malformed token"},
      {"empty segments", [](IdentityTest*) { return std::string("Bearer .."); }, "malformed token"},
      {"oversized", [](IdentityTest*) { return "Bearer " + std::string(9000, 'a'); },
       "token too large"},
      {"Basic scheme", [](IdentityTest*) { return std::string("Basic Zm9yZ2VyOnB3"); },
       "bearer token required"},
      {"no token", [](IdentityTest*) { return std::string("Bearer "); }, "bearer token required"},
      {"empty header", [](IdentityTest*) { return std::string(); }, "bearer token required"},
  };
  for (const Forgery& f : cases) {
    auto p = auth_->Authenticate(f.token(this));
    ASSERT_FALSE(p.ok()) << f.name;
    EXPECT_EQ(p.status().code(), Code::kUnauthenticated) << f.name;
    EXPECT_EQ(p.status().message(), f.message) << f.name;
    EXPECT_EQ(p.status().message().find("forger"), std::string::npos) << f.name;
  }
  EXPECT_EQ(auth_->CachedTokens(), 0u);  // failures are never cached
  EXPECT_TRUE(auth_->Authenticate(valid).ok());
}

TEST_F(IdentityTest, ClockSkewIsTolerated) {
  json::object c = NodeClaims();
  c["exp"] = kNow - 30;
  c["iat"] = kNow + 30;
  c["aud"] = json::array{"urn:other", "urn:opencrs:fhir"};
  EXPECT_TRUE(Auth(SignedByNode(c)).ok());
}

class JwksTest : public IdentityTest {
 protected:
  void SetUp() override {
    dir_ = TempDir();
    auto [x, y] = crypto::P256PublicXY(idp_ec_).value();
    json::array keys{
        json::object{{"kty", "EC"},
                     {"crv", "P-256"},
                     {"kid", "idp-ec"},
                     {"use", "sig"},
                     {"x", B64(x)},
                     {"y", B64(y)}},
        json::object{{"kty", "RSA"},
                     {"kid", "idp-rsa"},
                     {"alg", "RS256"},
                     {"n", B64(BigNum(idp_rsa_, OSSL_PKEY_PARAM_RSA_N))},
                     {"e", B64(BigNum(idp_rsa_, OSSL_PKEY_PARAM_RSA_E))}},
        json::object{{"kty", "EC"}, {"kid", "idp-enc"}, {"use", "enc"}},  // skipped
    };
    WriteJwks(json::object{{"keys", keys}});
    AuthOptions options;
    options.jwks_file = dir_ + "/jwks.json";
    options.jwks_issuer = kIdpIssuer;
    auth_ = MakeAuth(options);
  }
  void TearDown() override { fs::remove_all(dir_); }

  void WriteJwks(const json::object& jwks) {
    std::ofstream(dir_ + "/jwks.json") << json::serialize(jwks);
  }
  static std::string IdpToken(std::string_view alg, std::string_view kid, EVP_PKEY* key,
                              std::string_view iss = kIdpIssuer) {
    json::object c = NodeClaims();
    c["iss"] = iss;
    std::string header = json::serialize(json::object{{"alg", alg}, {"kid", kid}});
    return Jws(header, json::serialize(c), [&](const std::string& in) {
      return alg == "ES256" ? crypto::SignEs256(key, in).value()
                            : crypto::SignRs256(key, in).value();
    });
  }

  std::string dir_;
};

TEST_F(JwksTest, AcceptsIdpTokensSignedEs256AndRs256) {
  auto ec = Auth(IdpToken("ES256", "idp-ec", idp_ec_));
  ASSERT_TRUE(ec.ok()) << ec.status().ToString();
  EXPECT_EQ((*ec)->issuer, kIdpIssuer);
  auto rsa = Auth(IdpToken("RS256", "idp-rsa", idp_rsa_));
  ASSERT_TRUE(rsa.ok()) << rsa.status().ToString();
  EXPECT_TRUE(Auth(MintToken(*node_, Clinician(), kNow).value()).ok());  // node key still trusted
}

TEST_F(JwksTest, RefusesMismatchedIssuerAlgorithmOrKey) {
  auto expect = [&](const std::string& token, const char* message) {
    auto p = Auth(token);
    ASSERT_FALSE(p.ok());
    EXPECT_EQ(p.status().message(), message);
  };
  expect(IdpToken("ES256", "idp-ec", idp_ec_, node_->issuer()), "wrong token issuer");
  expect(IdpToken("RS256", "idp-ec", idp_rsa_), "token algorithm does not match key");
  expect(IdpToken("ES256", "idp-rsa", idp_ec_), "token algorithm does not match key");
  expect(IdpToken("RS256", "idp-rsa", idp_rsa_, "x"), "wrong token issuer");
  expect(IdpToken("ES256", "idp-ec", other_->pkey()), "invalid token signature");
  expect(IdpToken("ES256", "idp-enc", idp_ec_), "unknown signing key");
  // A node-issuer token signed by an IdP key must fail too (issuer binds key).
  expect(IdpToken("ES256", "idp-ec", idp_ec_, node_->issuer()), "wrong token issuer");
}

TEST_F(JwksTest, RefusesBadJwksFiles) {
  AuthOptions options;
  options.jwks_file = dir_ + "/jwks.json";
  options.jwks_issuer = kIdpIssuer;
  auto create = [&]() { return Authenticator::Create(*node_, options, clock_).status().code(); };
  WriteJwks(json::object{
      {"keys", json::array{json::object{{"kty", "RSA"},
                                        {"kid", "k"},
                                        {"alg", "ES256"},
                                        {"n", B64(BigNum(idp_rsa_, OSSL_PKEY_PARAM_RSA_N))},
                                        {"e", B64(BigNum(idp_rsa_, OSSL_PKEY_PARAM_RSA_E))}}}}});
  EXPECT_EQ(create(), Code::kInvalid);
  WriteJwks(json::object{{"keys", json::array{json::object{{"kty", "EC"},
                                                           {"crv", "P-256"},
                                                           {"kid", "k"},
                                                           {"x", B64(std::string(32, '\1'))},
                                                           {"y", B64(std::string(32, '\2'))}}}}});
  EXPECT_EQ(create(), Code::kInvalid);  // point not on the curve
  WriteJwks(json::object{{"nokeys", 1}});
  EXPECT_EQ(create(), Code::kInvalid);
  options.jwks_issuer.clear();
  EXPECT_EQ(create(), Code::kInvalid);
  options.jwks_issuer = kIdpIssuer;
  options.jwks_file = dir_ + "/missing.json";
  EXPECT_EQ(create(), Code::kUnavailable);
}

TEST_F(IdentityTest, CacheServesSamePrincipalUntilExp) {
  TokenClaims c = Clinician();
  c.ttl_seconds = 600;
  std::string token = MintToken(*node_, c, kNow).value();
  auto first = Auth(token);
  auto second = Auth(token);
  ASSERT_TRUE(first.ok() && second.ok());
  EXPECT_EQ(first->get(), second->get());
  EXPECT_EQ(auth_->CachedTokens(), 1u);

  clock_.now_ms = (kNow + 600) * 1000;  // at exp: not served from cache, still in skew
  auto third = Auth(token);
  ASSERT_TRUE(third.ok());
  EXPECT_NE(third->get(), first->get());
  clock_.now_ms = (kNow + 600 + 60) * 1000;
  auto fourth = Auth(token);
  ASSERT_FALSE(fourth.ok());
  EXPECT_EQ(fourth.status().message(), "token expired");
}

TEST_F(IdentityTest, CacheServesOnlyTheExactTokenItVerified) {
  std::string token = MintToken(*node_, Clinician(), kNow).value();
  ASSERT_TRUE(Auth(token).ok());
  ASSERT_EQ(auth_->CachedTokens(), 1u);
  // The cached token with one byte changed anywhere, a prefix of it, and
  // it with bytes appended: each is verified afresh and refused.
  for (size_t at : {size_t{0}, token.find('.') + 3, token.size() - 2}) {
    std::string other = token;
    other[at] = other[at] == 'A' ? 'B' : 'A';
    EXPECT_FALSE(Auth(other).ok()) << "byte " << at;
  }
  EXPECT_FALSE(Auth(token.substr(0, token.size() - 1)).ok());
  EXPECT_FALSE(Auth(token + "AA").ok());
  EXPECT_EQ(auth_->CachedTokens(), 1u);
  EXPECT_TRUE(Auth(token).ok());
}

TEST_F(IdentityTest, CacheIsBounded) {
  AuthOptions options;
  options.cache_entries = 16;
  auth_ = MakeAuth(options);
  for (int i = 0; i < 64; ++i) {
    TokenClaims c = Clinician();
    c.user = "user" + std::to_string(i);
    ASSERT_TRUE(Auth(MintToken(*node_, c, kNow).value()).ok());
  }
  EXPECT_LE(auth_->CachedTokens(), 16u);
  EXPECT_GT(auth_->CachedTokens(), 0u);
}

TEST(ScopesTest, ParseTable) {
  struct Case {
    const char* text;
    bool ok;
    size_t grants;
  };
  const Case cases[] = {
      {"", true, 0},
      {"openid fhirUser launch/patient offline_access", true, 0},
      {"user/Patient.rs", true, 1},
      {"  user/Patient.rs   patient/*.cruds  ", true, 2},
      {"system/Observation.read user/Patient.write patient/*.*", true, 3},
      {"user/Patient.c user/Patient.d user/Patient.s", true, 3},
      {"user/Patient.sr", false, 0},   // out of order
      {"user/Patient.rrs", false, 0},  // repeated
      {"user/Patient.", false, 0},     // no perms
      {"user/Patient", false, 0},      // no dot
      {"user/.rs", false, 0},          // no type
      {"user/patient.rs", false, 0},   // not a type name
      {"user/Pat-ient.rs", false, 0},
      {"user/Patient.rx", false, 0},
      {"user/Patient.readwrite", false, 0},
      {"patient/Observation.rs?category=laboratory", false, 0},  // fine-grained: unsupported
  };
  for (const Case& c : cases) {
    Result<Scopes> s = Scopes::Parse(c.text);
    EXPECT_EQ(s.ok(), c.ok) << c.text;
    if (s.ok()) {
      EXPECT_EQ(s->grants().size(), c.grants) << c.text;
    } else {
      EXPECT_EQ(s.status().code(), Code::kInvalid) << c.text;
    }
  }
}

TEST(ScopesTest, AllowsTable) {
  Scopes s = Scopes::Parse("user/Patient.rs patient/Observation.read system/*.c openid").value();
  EXPECT_TRUE(s.Allows("Patient", 'r'));
  EXPECT_TRUE(s.Allows("Patient", 's'));
  EXPECT_FALSE(s.Allows("Patient", 'u'));
  EXPECT_TRUE(s.Allows("Observation", 's'));
  EXPECT_TRUE(s.Allows("Condition", 'c'));  // system/*.c
  EXPECT_FALSE(s.Allows("Condition", 'r'));
  EXPECT_FALSE(s.Allows("Patient", 'x'));
  EXPECT_TRUE(s.AllowsIn(ScopeContext::kPatient, "Observation", 'r'));
  EXPECT_FALSE(s.AllowsIn(ScopeContext::kUser, "Observation", 'r'));
  EXPECT_FALSE(s.AllowsIn(ScopeContext::kUser, "Condition", 'c'));
  EXPECT_EQ(s.grants()[1].ToString(), "patient/Observation.rs");
  EXPECT_EQ(s.grants()[2].ToString(), "system/*.c");
  EXPECT_FALSE(s.Empty());
  EXPECT_TRUE(Scopes::Parse("openid").value().Empty());
  EXPECT_EQ(Scopes::Parse("user/*.write").value().grants()[0].ToString(), "user/*.cud");
}

TEST(RbacTest, ExpansionTable) {
  struct Case {
    std::vector<std::string> in;
    ActivitySet out;
  };
  const Case cases[] = {
      {{}, {}},
      {{"B0820"}, {"B0820"}},
      {{"B0825"}, {"B0820", "B0825"}},
      {{"B0370"}, {"B0370", "B0820"}},
      {{"B0168"}, {"B0168", "B0370", "B0820"}},
      {{"B0083"}, {"B0083", "B0370", "B0820"}},
      {{"X0371"}, {"X0371", "B0370", "B0820"}},
      {{"B0020", "X0900"}, {"B0020", "X0900"}},
      {{"B9999"}, {"B9999"}},  // unknown national codes are kept
  };
  for (const Case& c : cases) EXPECT_EQ(rbac::Expand(c.in), c.out);
}

TEST(RbacTest, RoleDefaults) {
  auto defaults = [](std::string_view role) { return rbac::Expand(rbac::DefaultActivities(role)); };
  EXPECT_EQ(defaults("R8000"), (ActivitySet{"B0020", "B0168", "B0370", "B0820", "B0825", "X0371"}));
  EXPECT_EQ(defaults("R8001"), defaults("R8000"));
  EXPECT_EQ(defaults("R8003"), (ActivitySet{"B0168", "B0370", "B0820"}));
  EXPECT_EQ(defaults("R8008"), (ActivitySet{"B0820", "B0825"}));
  EXPECT_EQ(defaults("R0001"), (ActivitySet{"B0820", "X0900"}));
  EXPECT_EQ(defaults("R5105"), (ActivitySet{"B0820", "X0900"}));
  EXPECT_TRUE(defaults("patient").empty());
  EXPECT_TRUE(defaults("system").empty());
  for (auto role : {"R8000", "R8001", "R8003", "R8008", "R0001", "R5105", "patient", "system"}) {
    EXPECT_TRUE(rbac::IsKnownRole(role)) << role;
    EXPECT_FALSE(rbac::RoleName(role).empty()) << role;
  }
  EXPECT_FALSE(rbac::IsKnownRole("R9999"));
  EXPECT_FALSE(rbac::IsKnownRole(""));
  EXPECT_TRUE(defaults("R9999").empty());
}

TEST(NodeKeyTest, CreatedOnceWithPrivateModesAndReloaded) {
  std::string dir = TempDir() + "/data";
  auto created = LoadOrCreateNodeKey(dir);
  ASSERT_TRUE(created.ok()) << created.status().ToString();
  struct stat st {};
  ASSERT_EQ(stat((dir + "/keys/node-es256.pem").c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0600u);
  ASSERT_EQ(stat((dir + "/keys").c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0700u);
  std::ifstream pem(dir + "/keys/node-es256.pem");
  std::string first_line;
  std::getline(pem, first_line);
  EXPECT_EQ(first_line, "-----BEGIN PRIVATE KEY-----");  // PKCS#8

  auto reloaded = LoadOrCreateNodeKey(dir);
  ASSERT_TRUE(reloaded.ok());
  EXPECT_EQ(reloaded->kid(), created->kid());
  EXPECT_EQ(created->kid().size(), 16u);
  EXPECT_EQ(created->issuer(), "urn:opencrs:node:" + created->kid());
  EXPECT_NE(created->PublicJwk().find("\"kid\":\"" + created->kid() + "\""), std::string::npos);
  // A token minted with the reloaded key verifies against the created one.
  FakeClock clock;
  auto auth = Authenticator::Create(*created, AuthOptions{}, clock).value();
  TokenClaims c;
  c.user = "u";
  c.role = "R8001";
  c.org = "RBA";
  EXPECT_TRUE(auth->Authenticate("Bearer " + MintToken(*reloaded, c, kNow).value()).ok());

  chmod((dir + "/keys/node-es256.pem").c_str(), 0644);
  EXPECT_EQ(LoadOrCreateNodeKey(dir).status().code(), Code::kInternal);
  fs::remove_all(fs::path(dir).parent_path());
}

TEST(NodeKeyTest, ConcurrentStartsAgreeOnOneKey) {
  std::string dir = TempDir();
  std::vector<std::string> kids(8);
  std::vector<std::thread> threads;
  for (size_t i = 0; i < kids.size(); ++i) {
    threads.emplace_back([&, i] {
      auto key = LoadOrCreateNodeKey(dir);
      if (key.ok()) kids[i] = key->kid();
    });
  }
  for (auto& t : threads) t.join();
  for (const std::string& kid : kids) EXPECT_EQ(kid, kids[0]);
  EXPECT_FALSE(kids[0].empty());
  size_t files = 0;
  for (auto& entry : fs::directory_iterator(dir + "/keys")) files += entry.is_regular_file();
  EXPECT_EQ(files, 1u);  // no temporary files left behind
  fs::remove_all(dir);
}

TEST(NodeKeyTest, RefusesCorruptKeyFile) {
  std::string dir = TempDir();
  fs::create_directories(dir + "/keys");
  { std::ofstream(dir + "/keys/node-es256.pem") << "not a key"; }
  chmod((dir + "/keys/node-es256.pem").c_str(), 0600);
  EXPECT_EQ(LoadOrCreateNodeKey(dir).status().code(), Code::kInternal);
  fs::remove_all(dir);
}

TEST(CryptoTest, Base64UrlIsStrict) {
  EXPECT_EQ(crypto::Base64UrlEncode("\xfb\xff"), "-_8");
  EXPECT_EQ(crypto::Base64UrlDecode("-_8"), std::string("\xfb\xff"));
  EXPECT_EQ(crypto::Base64UrlDecode(""), std::string());
  EXPECT_FALSE(crypto::Base64UrlDecode("-_9"));   // non-zero trailing bits
  EXPECT_FALSE(crypto::Base64UrlDecode("-_8="));  // padding
  EXPECT_FALSE(crypto::Base64UrlDecode("+/8"));   // standard alphabet
  EXPECT_FALSE(crypto::Base64UrlDecode("A"));     // impossible length
}

}  // namespace
}  // namespace crs::access
