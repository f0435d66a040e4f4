#include "api/interactions.h"

#include <boost/json.hpp>
#include <charconv>

#include "access/facts.h"
#include "api/demographics.h"
#include "api/nhs_allocator.h"
#include "api/resource_io.h"
#include "core/ids.h"
#include "fhir/index/extract.h"
#include "fhir/index/fulltext.h"
#include "fhir/index/trace_keys.h"
#include "fhir/json_patch.h"

namespace crs::api {

namespace json = boost::json;

std::optional<int64_t> ParseETag(std::string_view etag) {
  if (etag.starts_with("W/")) etag.remove_prefix(2);
  if (etag.size() >= 2 && etag.front() == '"' && etag.back() == '"') {
    etag = etag.substr(1, etag.size() - 2);
  }
  int64_t v = 0;
  auto [p, ec] = std::from_chars(etag.data(), etag.data() + etag.size(), v);
  if (ec != std::errc() || p != etag.data() + etag.size() || v < 1) return std::nullopt;
  return v;
}

std::string ETagOf(int64_t version) { return "W/\"" + std::to_string(version) + "\""; }

namespace {

// Current state of a resource: version 0 when it never existed.
struct Current {
  int64_t version = 0;
  bool deleted = false;
  std::string body;
  store::AccessFacts facts;
};

Result<Current> CurrentOf(Result<store::ResourceVersion> r) {
  if (!r.ok()) {
    if (r.status().code() == Code::kNotFound) return Current{};
    return r.status();
  }
  return Current{r->version, r->deleted, std::move(r->body), std::move(r->access)};
}

Result<Current> LoadCurrent(Env& env, std::string_view type, std::string_view id) {
  return CurrentOf(env.store.Read(type, id));
}

// For a Patient (PDS), an update of an existing record must name the version
// it replaces, and a stale one is a version mismatch (409); other types keep
// If-Match optional and answer 412.
Status CheckIfMatch(std::string_view type, std::string_view if_match, const Current& cur) {
  bool patient = type == "Patient";
  if (if_match.empty()) {
    return patient && cur.version > 0 && !cur.deleted ? PatientIfMatchRequired() : Status::Ok();
  }
  auto wanted = ParseETag(if_match);
  if (!wanted) return Status::Invalid("If-Match must be a version ETag such as W/\"3\"");
  if (cur.version == 0 || *wanted != cur.version) {
    std::string message = "If-Match names version " + std::to_string(*wanted) +
                          " but the current version is " + std::to_string(cur.version);
    if (patient) return PatientVersionMismatch(std::move(message));
    return Status(Code::kPreconditionFailed, std::move(message));
  }
  return Status::Ok();
}

// A Patient's previous version, for name and address history.
Status KeepHistory(Env& env, const Current& cur, json::value& resource) {
  if (cur.version == 0 || cur.deleted || cur.body.empty()) return Status::Ok();
  CRS_ASSIGN_OR_RETURN(json::value before, ParseJsonBody(cur.body, env.max_json_depth));
  KeepDemographicHistory(before, resource, env.clock.NowMs());
  return Status::Ok();
}

Prepared MakeWrite(Env& env, std::string_view type, std::string_view id, int64_t expected,
                   store::Method method, json::value& resource) {
  Prepared p;
  p.type = type;
  p.id = id;
  p.version = expected + 1;
  p.last_updated_ms = env.clock.NowMs();
  std::shared_ptr<const fhir::index::IndexEntries> index;
  std::shared_ptr<const store::AccessFacts> facts;
  if (method != store::Method::kDelete) {
    p.body = StampResource(resource.as_object(), id, p.version, p.last_updated_ms);
    Result<fhir::index::IndexEntries> entries = Status::Invalid("not indexed");
    if (env.search_index) entries = fhir::index::ExtractIndex(resource);
    // Extraction only fails for a type without search parameters; store the
    // resource unindexed rather than refuse it.
    if (entries.ok()) {
      if (env.store.KeepsFullText()) entries->fulltext = fhir::index::ExtractFullText(resource);
      if (env.store.KeepsTraceKeys()) fhir::index::AddTraceKeys(resource, &*entries);
      index = std::make_shared<const fhir::index::IndexEntries>(std::move(*entries));
    }
    facts = std::make_shared<const store::AccessFacts>(
        access::ComputeFacts(type, id, resource, index.get(), env.author_org));
  }
  store::Write w;
  w.type = p.type;
  w.id = p.id;
  w.expected_version = expected;
  w.last_updated_ms = p.last_updated_ms;
  w.method = method;
  w.body = p.body;
  w.index = std::move(index);
  w.access = std::move(facts);
  p.write = std::move(w);
  return p;
}

}  // namespace

Result<std::string> NewResourceId(Env& env, std::string_view type, const json::value& resource,
                                  bool* allocated) {
  if (allocated != nullptr) *allocated = false;
  if (type != "Patient") return NewId();
  CRS_ASSIGN_OR_RETURN(std::string number, NhsNumberOf(resource));
  if (!number.empty()) return number;
  if (env.nhs_numbers == nullptr) return Status::Unavailable("no NHS numbers to allocate");
  CRS_ASSIGN_OR_RETURN(number, env.nhs_numbers->Next());
  if (allocated != nullptr) *allocated = true;
  return number;
}

Result<Prepared> PrepareCreate(Env& env, std::string_view type, json::value resource,
                               std::string id) {
  CRS_RETURN_IF_ERROR(CheckResource(resource, type));
  bool allocated = false;
  if (id.empty()) {
    CRS_ASSIGN_OR_RETURN(id, NewResourceId(env, type, resource, &allocated));
  }
  if (type == "Patient") {
    CRS_RETURN_IF_ERROR(CheckPatientId(id));
    CRS_RETURN_IF_ERROR(BindNhsNumber(resource, id));
  }
  if (type == "Patient" && !allocated) {
    // An allocated number was free when allocated (the allocator read it;
    // a create that takes it meanwhile makes this commit a Conflict, which
    // is retried with a new number); one the client sent may not be (then
    // this create is refused rather than retried).
    auto existing = env.store.Read(type, id);
    if (existing.ok()) {
      return Status::Conflict("a Patient with this NHS number already exists" +
                              std::string(existing->deleted ? " (deleted)" : "") +
                              "; update it with PUT instead")
          .WithDetail("DUPLICATE_REJECTED");
    }
    if (existing.status().code() != Code::kNotFound) return existing.status();
  }
  Prepared p = MakeWrite(env, type, id, 0, store::Method::kCreate, resource);
  p.status = 201;
  return p;
}

namespace {

Result<Prepared> PrepareUpdateFrom(Env& env, std::string_view type, std::string_view id,
                                   json::value resource, std::string_view if_match,
                                   const Result<store::ResourceVersion>* known) {
  CRS_RETURN_IF_ERROR(CheckIdSyntax(id));
  bool patient = type == "Patient";
  if (patient) CRS_RETURN_IF_ERROR(CheckPatientId(id));
  CRS_RETURN_IF_ERROR(CheckResource(resource, type));
  const json::value* body_id = resource.as_object().if_contains("id");
  if (!body_id || !body_id->is_string()) {
    return Status::Invalid("an update must carry the resource id in the body");
  }
  if (body_id->get_string() != id) {
    return Status::Invalid("the id in the body does not match the id in the URL");
  }
  if (patient) CRS_RETURN_IF_ERROR(BindNhsNumber(resource, id));
  CRS_ASSIGN_OR_RETURN(Current cur, known ? CurrentOf(*known) : LoadCurrent(env, type, id));
  CRS_RETURN_IF_ERROR(CheckIfMatch(type, if_match, cur));
  if (patient) CRS_RETURN_IF_ERROR(KeepHistory(env, cur, resource));
  Prepared p = MakeWrite(env, type, id, cur.version,
                         cur.version == 0 ? store::Method::kCreate : store::Method::kUpdate,
                         resource);
  p.status = (cur.version == 0 || cur.deleted) ? 201 : 200;
  p.existed = cur.version > 0;
  p.existing_deleted = cur.deleted;
  p.existing = std::move(cur.facts);
  return p;
}

}  // namespace

Result<Prepared> PrepareUpdate(Env& env, std::string_view type, std::string_view id,
                               json::value resource, std::string_view if_match) {
  return PrepareUpdateFrom(env, type, id, std::move(resource), if_match, nullptr);
}

Result<Prepared> PrepareUpdate(Env& env, std::string_view type, std::string_view id,
                               json::value resource, std::string_view if_match,
                               const Result<store::ResourceVersion>& current) {
  return PrepareUpdateFrom(env, type, id, std::move(resource), if_match, &current);
}

Result<Prepared> PrepareDelete(Env& env, std::string_view type, std::string_view id,
                               std::string_view if_match) {
  CRS_RETURN_IF_ERROR(CheckIdSyntax(id));
  CRS_ASSIGN_OR_RETURN(Current cur, LoadCurrent(env, type, id));
  // A delete keeps today's If-Match rules for every type (If-Match optional, 412).
  CRS_RETURN_IF_ERROR(CheckIfMatch("", if_match, cur));
  if (cur.version == 0 || cur.deleted) {
    // Deleting what is not there changes nothing; delete is idempotent.
    Prepared p;
    p.status = 204;
    p.type = type;
    p.id = id;
    p.version = cur.version;
    p.existed = cur.version > 0;
    p.existing = std::move(cur.facts);
    return p;
  }
  json::value none;
  Prepared p = MakeWrite(env, type, id, cur.version, store::Method::kDelete, none);
  p.status = 204;
  p.existed = true;
  p.existing = std::move(cur.facts);
  return p;
}

Result<Prepared> PreparePatch(Env& env, std::string_view type, std::string_view id,
                              const json::value& patch, std::string_view if_match) {
  CRS_RETURN_IF_ERROR(CheckIdSyntax(id));
  CRS_ASSIGN_OR_RETURN(Current cur, LoadCurrent(env, type, id));
  if (cur.version == 0) return Status::NotFound(std::string(type) + " not found");
  if (cur.deleted) return Status::Gone(std::string(type) + " has been deleted");
  CRS_RETURN_IF_ERROR(CheckIfMatch(type, if_match, cur));
  CRS_ASSIGN_OR_RETURN(json::value doc, ParseJsonBody(cur.body, env.max_json_depth));
  // PDS wraps the operations: {"patches": [...]}.
  const json::value* ops = &patch;
  if (const json::object* o = patch.if_object(); o && o->size() == 1 && o->contains("patches")) {
    ops = &o->at("patches");
  }
  CRS_ASSIGN_OR_RETURN(json::value patched, fhir::ApplyJsonPatch(doc, *ops));
  Status valid = CheckResource(patched, type);
  if (!valid.ok()) {
    return Status::Unprocessable("the patched resource is not valid: " + valid.message());
  }
  const json::value* new_id = patched.as_object().if_contains("id");
  if (!new_id || !new_id->is_string() || new_id->get_string() != id) {
    return Status::Unprocessable("a patch may not change or remove the resource id");
  }
  if (type == "Patient") {
    CRS_RETURN_IF_ERROR(BindNhsNumber(patched, id));
    KeepDemographicHistory(doc, patched, env.clock.NowMs());
  }
  Prepared p = MakeWrite(env, type, id, cur.version, store::Method::kPatch, patched);
  p.status = 200;
  p.existed = true;
  p.existing = std::move(cur.facts);
  return p;
}

}  // namespace crs::api
