// Who is making a request: the verified content of a bearer token, as the
// access policy and the audit log consume it.
//
// Thread safety: a value type. The Authenticator hands out
// shared_ptr<const Principal>, shared by every request carrying the same
// token; never modify one after construction.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "access/rbac.h"
#include "access/scopes.h"

namespace crs::access {

struct Principal {
  std::string user;        // `sub`
  std::string name;        // display name; may be empty
  std::string role;        // national RBAC role code, `patient` or `system`
  std::string org;         // ODS code; empty only for patients
  std::string patient;     // NHS number; set only for role `patient`
  std::string jti;         // token id; may be empty for tokens of other issuers
  std::string issuer;      // `iss`
  ActivitySet activities;  // expanded (nesting applied); role defaults if the token had none
  Scopes scopes;
  int64_t expires_ms = 0;  // `exp`, in ms since the epoch
  // Set when a peer node's key signed the token (VerifyKey::node_org): the
  // caller is that node's service and may do only what nodes do.
  std::string node_org;

  bool is_patient() const { return role == rbac::kPatient; }
  bool is_system() const { return role == rbac::kSystem; }
  bool HasActivity(std::string_view activity) const { return activities.contains(activity); }
};

}  // namespace crs::access
