// SMART App Launch scopes (v2, with the v1 forms accepted) carried in a
// token's `scope` claim.
//
// A resource scope is `context/Type.perms`: context `patient`, `user` or
// `system`; Type a FHIR resource type or `*`; perms a non-empty subset of
// `cruds` written in that order (v2), or v1 `read` (= rs), `write` (= cud) or
// `*` (= cruds). Any other scope (`openid`, `fhirUser`, `launch/patient`,
// `offline_access`, ...) is kept verbatim but grants nothing here. Scopes
// whose prefix is a context but whose rest is malformed are refused, and so
// are v2 fine-grained scopes with a `?query` suffix: ignoring the query would
// grant more than the token says.
//
// Thread safety: a value type; const methods are safe from any thread.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "core/status.h"

namespace crs::access {

enum class ScopeContext { kPatient, kUser, kSystem };

// "patient", "user" or "system".
std::string_view ScopeContextName(ScopeContext context);

// One resource scope.
struct ScopeGrant {
  // Interaction bits of `perms`.
  static constexpr uint8_t kCreate = 1, kRead = 2, kUpdate = 4, kDelete = 8, kSearch = 16;

  ScopeContext context = ScopeContext::kUser;
  std::string type;   // resource type, or "*" for every type
  uint8_t perms = 0;  // a non-empty set of the bits above

  // True when this grant covers `type` and `interaction` ('c','r','u','d','s').
  bool Allows(std::string_view resource_type, char interaction) const;
  // The v2 text form, e.g. "user/Patient.rs".
  std::string ToString() const;
};

class Scopes {
 public:
  Scopes() = default;

  // Parses a space-separated scope string (runs of spaces allowed; empty is
  // no scopes). Invalid, naming the problem but not echoing the input, for a
  // malformed resource scope or more than 256 scopes.
  static Result<Scopes> Parse(std::string_view space_separated);

  // True when some grant, in any context, covers `type` and `interaction`
  // ('c','r','u','d','s'). The caller's role decides which contexts make
  // sense (see grants() for the context of each grant).
  bool Allows(std::string_view type, char interaction) const;
  // As Allows, limited to grants in `context`.
  bool AllowsIn(ScopeContext context, std::string_view type, char interaction) const;

  // True when there is no resource grant (other scopes do not count).
  bool Empty() const { return grants_.empty(); }

  const std::vector<ScopeGrant>& grants() const { return grants_; }
  // Non-resource scopes, verbatim, in token order.
  const std::vector<std::string>& others() const { return others_; }

 private:
  std::vector<ScopeGrant> grants_;
  std::vector<std::string> others_;
};

}  // namespace crs::access
