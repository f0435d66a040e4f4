// The write and read interactions of the FHIR RESTful API, shared by the
// single-request handlers and by batch/transaction Bundles.
//
// Writes are prepared (validated, versioned, stamped) against the current
// stored state and then committed in a store::WriteBatch; a Conflict from
// the store means another writer got there first and the caller re-prepares.
#pragma once

#include <boost/json/value.hpp>
#include <optional>
#include <string>
#include <string_view>

#include "core/status.h"
#include "core/time.h"
#include "store/store.h"

namespace crs::api {

class NhsNumberAllocator;

struct Env {
  store::Store& store;
  const Clock& clock;
  int max_json_depth = 64;
  std::string author_org;  // the writing caller's organisation (AccessFacts::author_org)
  // Allocates the NHS numbers of Patients created without one; null: such
  // creates are refused (Unavailable).
  NhsNumberAllocator* nhs_numbers = nullptr;
  // False only for `crs serve --benchmark-baseline-without-search-index`:
  // writes carry no search-index rows (ApiOptions::search_index).
  bool search_index = true;
};

// A write ready to commit and the response it will produce.
struct Prepared {
  std::optional<store::Write> write;  // absent for a no-op (e.g. deleting a deleted resource)
  int status = 200;                   // 200 / 201 / 204
  std::string type;
  std::string id;
  int64_t version = 0;                // the version the write creates (or the current one)
  int64_t last_updated_ms = 0;
  std::string body;                   // stored JSON text (empty for deletes)
  // The access facts of the version this write replaces (when `existed`):
  // the caller must be allowed to see it as well as what it writes.
  bool existed = false;
  bool existing_deleted = false;  // what it replaces is a delete marker
  store::AccessFacts existing;
};

// `if_match` is the raw If-Match header value (W/"3" or "3"), or empty.
//
// Patients follow docs/demographics.md: the id is a valid NHS number
// (Invalid, INVALID_RESOURCE_ID), the NHS-number identifier agrees with it
// (added when absent), an update or patch of an existing Patient needs
// If-Match (412 PRECONDITION_REQUIRED; a stale one is 409
// RESOURCE_VERSION_MISMATCH), and names and addresses an update drops are
// kept as history.
//
// PrepareCreate with an empty `id` picks one (NewResourceId); a Patient
// whose NHS number already exists is a Conflict.
Result<Prepared> PrepareCreate(Env& env, std::string_view type, boost::json::value resource,
                               std::string id);
Result<Prepared> PrepareUpdate(Env& env, std::string_view type, std::string_view id,
                               boost::json::value resource, std::string_view if_match);
// The same, with the resource's current state already read by the caller
// (`current`: Store::Read's answer, NotFound included), so it is not read
// twice (crs import).
Result<Prepared> PrepareUpdate(Env& env, std::string_view type, std::string_view id,
                               boost::json::value resource, std::string_view if_match,
                               const Result<store::ResourceVersion>& current);
Result<Prepared> PrepareDelete(Env& env, std::string_view type, std::string_view id,
                               std::string_view if_match);
Result<Prepared> PreparePatch(Env& env, std::string_view type, std::string_view id,
                              const boost::json::value& patch, std::string_view if_match);

// The id of a new resource of `type`: for a Patient, the NHS number its
// identifier carries or, without one, a newly allocated number; otherwise a
// fresh random id. `allocated` (optional) tells whether the number was
// newly allocated: the allocator has then seen that no Patient holds it.
Result<std::string> NewResourceId(Env& env, std::string_view type,
                                  const boost::json::value& resource,
                                  bool* allocated = nullptr);

// Parses an ETag / If-Match value (W/"3", "3", 3) into a version.
std::optional<int64_t> ParseETag(std::string_view etag);
std::string ETagOf(int64_t version);

}  // namespace crs::api
