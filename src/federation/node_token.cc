#include "federation/node_token.h"

#include "access/jwt.h"

namespace crs::federation {

std::string NodeToken::Get() {
  std::lock_guard<std::mutex> lock(mu_);
  int64_t now = clock_.NowMs() / 1000;
  if (token_.empty() || now + 60 >= expires_s_) {
    access::TokenClaims c;
    c.user = "node:" + ods_;
    c.role = "system";
    c.org = ods_;
    c.audience = audience_;
    c.ttl_seconds = 300;
    auto t = access::MintToken(key_, c, now);
    if (t.ok()) {
      token_ = *t;
      expires_s_ = now + c.ttl_seconds;
    }
  }
  return token_;
}

}  // namespace crs::federation
