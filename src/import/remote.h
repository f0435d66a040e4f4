// Bulk import into a running node, over its FHIR API: the same inputs,
// checkpoint, report and progress as Import() (importer.h), but each batch
// goes to the server as requests any client could send, so the node keeps
// serving and every write passes its validation, access control, consent
// rules and audit like any other.
//
//   - Resources go as a `transaction` Bundle of PUTs (their ids kept): one
//     commit per batch. When the server refuses the transaction (an entry
//     is bad), the same entries go again as a `batch`, whose per-entry
//     outcomes name the bad ones; the good ones are written.
//   - Summary Care Record documents go as `POST Bundle` entries of a
//     `batch`, after the resources before them (their patient, consents),
//     as uploads (POST /fhir/Bundle) do.
//   - One batch is in flight at a time; the checkpoint records a batch once
//     the server has answered it. A batch whose answer was lost is sent
//     again with the same X-Request-ID, which the server answers from its
//     first commit. Interrupted runs may resend the batch that was in
//     flight (the resources then get one more version).
//
// Thread safety: one ImportRemote() at a time per client.
#pragma once

#include <atomic>
#include <chrono>
#include <functional>
#include <string>
#include <vector>

#include "core/status.h"
#include "http/client.h"
#include "import/importer.h"
#include "import/inputs.h"

namespace crs::import {

struct RemoteOptions {
  std::vector<InputFile> files;  // from ListInputs
  int batch_size = 500;          // resources per request
  std::string checkpoint_path;   // empty: not resumable
  std::string run_id;            // prefix of the requests' X-Request-IDs
  int max_json_depth = 64;
  // The bearer token for each request (called per request, so that a
  // minted token can be renewed before it expires).
  std::function<Result<std::string>()> token;
  std::chrono::milliseconds timeout{std::chrono::minutes(5)};  // per request
  int retries = 5;  // on an unreachable server, 503 or 429, with back-off
};

// Imports options.files through `client` (whose base URL is the node's
// FHIR base, e.g. http://127.0.0.1:8080/fhir), continuing from the
// checkpoint. Errors: the server unreachable after the retries, or
// answering a batch with an error that is not about its entries (401, 403,
// 5xx); what was acknowledged stays, and the checkpoint says so.
Result<ImportSummary> ImportRemote(http::Client& client, const RemoteOptions& options,
                                   ImportObserver& observer, const std::atomic<bool>* stop);

}  // namespace crs::import
