// The web UI's side of the server (docs/ui.md): the built UI's static files
// at /, and in demo mode the sign-in endpoints /demo/users and /demo/token.
// Every response carries the UI's security headers (a strict
// Content-Security-Policy, nosniff, no referrer).
//
// Thread safety: stateless; called concurrently.
#pragma once

#include "api/api.h"
#include "http/request.h"

namespace crs::api {

// What a request to POST /demo/token did, for its audit record.
struct DemoSignIn {
  bool asked = false;                // the request was a demo token request
  const DemoUser* issued = nullptr;  // whose token was issued (in options.demo_users)
};

// Answers a request outside /fhir and the service endpoints: a file of
// options.ui_dir (GET/HEAD; "/" is index.html), or a demo endpoint when
// options.demo_users is set. Anything else is a 404 OperationOutcome. Never
// serves a file outside ui_dir: "..", hidden names and symbolic links out of
// it answer 404. `sign_in` (optional) learns whether a demo token was asked
// for and issued.
void ServeWeb(const ApiOptions& options, const http::Request& request, http::Response* out,
              DemoSignIn* sign_in = nullptr);

// The security headers every UI response carries.
void SetUiSecurityHeaders(http::Response* out);

}  // namespace crs::api
