#include "cli/token_command.h"

#include <CLI/CLI.hpp>
#include <iostream>

#include "access/jwt.h"
#include "access/keys.h"
#include "access/rbac.h"
#include "core/time.h"
#include "nhs/nhs_number.h"

namespace crs::cli {

std::optional<int64_t> ParseDurationSeconds(std::string_view text) {
  if (text.empty()) return std::nullopt;
  int64_t unit = 1;
  switch (text.back()) {
    case 's':
      unit = 1;
      text.remove_suffix(1);
      break;
    case 'm':
      unit = 60;
      text.remove_suffix(1);
      break;
    case 'h':
      unit = 3600;
      text.remove_suffix(1);
      break;
    case 'd':
      unit = 86400;
      text.remove_suffix(1);
      break;
    default:
      break;
  }
  if (text.empty() || text.size() > 9) return std::nullopt;
  int64_t n = 0;
  for (char c : text) {
    if (c < '0' || c > '9') return std::nullopt;
    n = n * 10 + (c - '0');
  }
  if (n <= 0) return std::nullopt;
  return n * unit;
}

CLI::App* RegisterToken(CLI::App& app, TokenCommandOptions* options) {
  CLI::App* t = app.add_subcommand(
      "token", "Print a bearer token signed by the node key in the data directory");
  t->add_option("--data", options->data_dir,
                "Data directory holding keys/node-es256.pem (key created if missing)")
      ->capture_default_str();
  t->add_option("--user", options->user, "User id (the token's sub)")->required();
  t->add_option("--role", options->role,
                "RBAC role code: R8000 clinical practitioner, R8001 nurse, R8003 health "
                "professional, R8008 admin/clinical support, R0001 privacy officer, R5105 "
                "Caldicott guardian; or patient, system")
      ->required();
  t->add_option("--org", options->org, "ODS code of the user's organisation (not for patients)");
  t->add_option("--patient", options->patient,
                "NHS number of the patient (required with --role patient, refused otherwise)");
  t->add_option("--scope", options->scopes,
                "SMART scope, e.g. user/Patient.rs or patient/*.rs (repeatable)");
  t->add_option("--activity", options->activities,
                "RBAC activity code, e.g. B0370 (repeatable; default: the role's activities)");
  t->add_option("--name", options->name, "Display name of the user");
  t->add_option("--aud", options->audience, "Audience (default: urn:opencrs:fhir)");
  t->add_option("--ttl", options->ttl, "Lifetime: 3600s, 30m, 8h, 1d (at most 30d)")
      ->capture_default_str();
  return t;
}

int RunToken(const TokenCommandOptions& options) {
  if (!access::rbac::IsKnownRole(options.role)) {
    std::cerr << "crs token: unknown role '" << options.role
              << "' (known: R8000 R8001 R8003 R8008 R0001 R5105 patient system)\n";
    return 2;
  }
  if (!options.patient.empty()) {
    Status nhs_status = nhs::ValidateNhsNumber(options.patient);
    if (!nhs_status.ok()) {
      std::cerr << "crs token: --patient: " << nhs_status.message() << "\n";
      return 2;
    }
  }
  std::optional<int64_t> ttl = ParseDurationSeconds(options.ttl);
  if (!ttl) {
    std::cerr << "crs token: --ttl: expected a duration such as 30m, 8h, 1d or 3600s\n";
    return 2;
  }
  access::TokenClaims claims;
  claims.user = options.user;
  claims.name = options.name;
  claims.role = options.role;
  claims.org = options.org;
  claims.patient = options.patient;
  claims.scopes = options.scopes;
  claims.activities = options.activities;
  claims.audience = options.audience;
  claims.ttl_seconds = *ttl;
  // Validate before touching the data directory, so bad usage creates no key.
  Status valid = access::ValidateTokenClaims(claims);
  if (!valid.ok()) {
    std::cerr << "crs token: " << valid.message() << "\n";
    return 2;
  }
  Result<access::NodeKey> key = access::LoadOrCreateNodeKey(options.data_dir);
  if (!key.ok()) {
    std::cerr << "crs token: " << key.status().message() << "\n";
    return 1;
  }
  Result<std::string> token = access::MintToken(*key, claims, SystemClock::Get().NowMs() / 1000);
  if (!token.ok()) {
    std::cerr << "crs token: " << token.status().message() << "\n";
    return token.status().code() == Code::kInvalid ? 2 : 1;
  }
  std::cout << *token << "\n";
  return 0;
}

}  // namespace crs::cli
