// batch and transaction Bundles (POST /fhir).
//
// A batch runs each entry as if it were its own request. A transaction is
// prepared as a whole — ids assigned, urn:uuid references rewritten, every
// write validated and versioned in the order DELETE, POST, PUT/PATCH — and
// committed as one store::WriteBatch, so it is all or nothing; its GETs run
// afterwards. Responses list entries in the order of the request.
#include <boost/json.hpp>
#include <map>
#include <set>

#include "api/demographics.h"
#include "api/handler_internal.h"
#include "api/outcome.h"
#include "api/resource_io.h"
#include "core/base64.h"
#include "core/ids.h"

namespace crs::api {

namespace json = boost::json;

// One entry of a batch/transaction, as parsed from the request.
struct Entry {
  size_t index = 0;
  std::string method;
  std::string url;  // relative to the base, without query
  std::string query;
  std::string full_url;
  json::value resource;  // POST/PUT body; PATCH: the JSON Patch document
  std::string if_match;
  std::string if_none_match;
  std::string if_none_exist;
  std::string type, id;
  bool has_resource = false;
  // A conditional entry that resolved to "nothing to write": a POST whose
  // ifNoneExist matched `id`, or a conditional DELETE that matched nothing.
  bool noop = false;
};

namespace {

const char* ReasonPhrase(int status) {
  switch (status) {
    case 200: return "OK";
    case 201: return "Created";
    case 204: return "No Content";
    case 304: return "Not Modified";
    case 400: return "Bad Request";
    case 401: return "Unauthorized";
    case 403: return "Forbidden";
    case 404: return "Not Found";
    case 405: return "Method Not Allowed";
    case 406: return "Not Acceptable";
    case 409: return "Conflict";
    case 410: return "Gone";
    case 412: return "Precondition Failed";
    case 413: return "Payload Too Large";
    case 415: return "Unsupported Media Type";
    case 422: return "Unprocessable Entity";
    case 500: return "Internal Server Error";
    case 503: return "Service Unavailable";
  }
  return "";
}

std::string StatusLine(int status) {
  std::string s = std::to_string(status);
  const char* phrase = ReasonPhrase(status);
  if (*phrase) s += std::string(" ") + phrase;
  return s;
}

std::string_view HeaderOf(const http::Response& r, std::string_view name) {
  for (const auto& [k, v] : r.headers) {
    if (k == name) return v;
  }
  return {};
}



// Orders transaction entries as the spec requires.
int Phase(const std::string& method) {
  if (method == "DELETE") return 0;
  if (method == "POST") return 1;
  if (method == "PUT" || method == "PATCH") return 2;
  return 3;  // GET, HEAD
}

Status EntryError(size_t index, const Status& st) {
  return Status(st.code(), "Bundle.entry[" + std::to_string(index) + "]: " + st.message())
      .WithDetail(st.detail());
}

// Reads entry i of a batch/transaction into `e`.
Status ParseEntry(const json::value& v, size_t i, const std::string& base, Entry* e) {
  e->index = i;
  const json::object* obj = v.if_object();
  if (!obj) return Status::Invalid("entry is not an object");
  if (auto* fu = obj->if_contains("fullUrl"); fu && fu->is_string()) e->full_url = fu->get_string();
  const json::value* req = obj->if_contains("request");
  if (!req || !req->is_object()) return Status::Invalid("entry has no request");
  const json::object& r = req->get_object();
  auto str = [&](const char* k) -> std::string {
    const json::value* x = r.if_contains(k);
    return x && x->is_string() ? std::string(x->get_string()) : std::string();
  };
  e->method = str("method");
  std::string url = str("url");
  e->if_match = str("ifMatch");
  e->if_none_match = str("ifNoneMatch");
  e->if_none_exist = str("ifNoneExist");
  static const std::set<std::string> kMethods = {"GET", "HEAD", "POST", "PUT", "DELETE", "PATCH"};
  if (!kMethods.count(e->method)) return Status::Invalid("request.method is missing or invalid");
  if (url.empty()) return Status::Invalid("request.url is missing");
  if (url.starts_with(base + "/")) url = url.substr(base.size() + 1);
  while (!url.empty() && url.front() == '/') url.erase(0, 1);
  size_t q = url.find('?');
  if (q != std::string::npos) {
    e->query = url.substr(q + 1);
    url.resize(q);
  }
  e->url = url;
  size_t slash = url.find('/');
  e->type = url.substr(0, slash);
  if (slash != std::string::npos) e->id = url.substr(slash + 1);
  if (const json::value* res = obj->if_contains("resource")) {
    e->resource = *res;
    e->has_resource = true;
  }
  return Status::Ok();
}

// Replaces every Reference.reference found in `refs` (recursively).
Status RewriteReferences(json::value& v, const std::map<std::string, std::string>& refs) {
  if (json::object* o = v.if_object()) {
    for (auto& [k, child] : *o) {
      if (k == "reference" && child.is_string()) {
        std::string_view ref = child.get_string();
        auto it = refs.find(std::string(ref));
        if (it != refs.end()) {
          child = it->second;
        } else if (ref.starts_with("urn:uuid:") || ref.starts_with("urn:oid:")) {
          return Status::Invalid("reference to a urn that no entry of the Bundle has as fullUrl");
        }
      } else {
        CRS_RETURN_IF_ERROR(RewriteReferences(child, refs));
      }
    }
  } else if (json::array* a = v.if_array()) {
    for (auto& child : *a) CRS_RETURN_IF_ERROR(RewriteReferences(child, refs));
  }
  return Status::Ok();
}

// The JSON Patch carried by a PATCH entry: a Binary whose data is the patch.
Result<json::value> PatchOfEntry(const Entry& e, int max_depth) {
  if (!e.has_resource) return Status::Invalid("PATCH entry has no resource");
  const json::object* o = e.resource.if_object();
  const json::value* rt = o ? o->if_contains("resourceType") : nullptr;
  if (!rt || !rt->is_string() || rt->get_string() != "Binary") {
    return Status(Code::kUnsupportedMedia,
                  "a PATCH entry must carry a Binary with a JSON Patch (FHIRPath Patch is not "
                  "supported)");
  }
  const json::value* data = o->if_contains("data");
  if (!data || !data->is_string()) return Status::Invalid("PATCH Binary has no data");
  auto decoded = Base64Decode(data->get_string());
  if (!decoded) return Status::Invalid("PATCH Binary data is not valid base64");
  return ParseJsonBody(*decoded, max_depth);
}

// Appends the response entry for an http::Response produced by the router.
void AppendRoutedEntry(const http::Response& r, std::string* s) {
  *s += R"({"response":{"status":)";
  AppendJsonString(StatusLine(r.status), s);
  if (auto loc = HeaderOf(r, "Location"); !loc.empty()) {
    *s += R"(,"location":)";
    AppendJsonString(loc, s);
  }
  if (auto etag = HeaderOf(r, "ETag"); !etag.empty()) {
    *s += R"(,"etag":)";
    AppendJsonString(etag, s);
  }
  bool is_error = r.status >= 400;
  if (is_error && !r.body.empty()) {
    *s += R"(,"outcome":)";
    *s += r.body;
  }
  *s += "}";
  if (!is_error && !r.body.empty()) {
    *s += R"(,"resource":)";
    *s += r.body;
  }
  *s += "}";
}

}  // namespace

namespace {

// Builds an internal request for a batch entry or a transaction GET.
http::Request ToRequest(const RequestContext& ctx, const Entry& e) {
  http::Request r;
  r.method = e.method;
  r.path = "/fhir/" + e.url;
  r.query = e.query;
  if (!e.if_match.empty()) r.headers.Add("if-match", e.if_match);
  if (!e.if_none_match.empty()) r.headers.Add("if-none-match", e.if_none_match);
  if (!e.if_none_exist.empty()) r.headers.Add("if-none-exist", e.if_none_exist);
  if (auto host = ctx.request.headers.Get("host"); !host.empty()) r.headers.Add("host", host);
  // Each entry is authorised (and audited) as the bundle's caller would be alone.
  for (const char* h : {"authorization", "x-purpose-of-use", "x-access-justification",
                        "x-permission-to-view", "x-legitimate-relationship",
                        "x-correlation-id"}) {
    if (auto v = ctx.request.headers.Get(h); !v.empty()) r.headers.Add(h, v);
  }
  if (auto prefer = ctx.request.headers.Get("prefer"); !prefer.empty()) {
    r.headers.Add("prefer", prefer);
  }
  if (e.method == "PATCH") {
    r.headers.Add("content-type", "application/json-patch+json");
  } else if (e.has_resource) {
    r.headers.Add("content-type", "application/fhir+json");
  }
  if (e.has_resource) r.body = json::serialize(e.resource);
  return r;
}

}  // namespace

void FhirApi::Bundle(RequestContext& ctx, http::Response* out) {
  ctx.trail.action = "bundle";
  auto body = ParseJsonBody(ctx.request.body, options_.max_json_depth);
  if (!body.ok()) return SetError(body.status(), out);
  // Validate the Bundle's own structure; entry resources are checked one by
  // one as their entries run (so one bad entry does not sink a batch).
  {
    json::value shell = *body;
    if (json::object* o = shell.if_object()) {
      if (json::value* arr = o->if_contains("entry"); arr && arr->is_array()) {
        for (auto& e : arr->get_array()) {
          if (json::object* eo = e.if_object()) eo->erase("resource");
        }
      }
    }
    if (Status st = CheckResource(shell, "Bundle"); !st.ok()) return SetError(st, out);
  }
  const json::object& bundle = body->get_object();
  const json::value* type = bundle.if_contains("type");
  std::string_view bundle_type;
  if (type && type->is_string()) bundle_type = type->get_string();
  if (bundle_type != "batch" && bundle_type != "transaction") {
    return SetError(Status::Invalid("POST to the base needs a Bundle of type batch or "
                                    "transaction"), out);
  }
  std::vector<Entry> entries;
  if (const json::value* arr = bundle.if_contains("entry"); arr && arr->is_array()) {
    if (arr->get_array().size() > static_cast<size_t>(options_.max_bundle_entries)) {
      return SetError(Status(Code::kTooLarge, "Bundle has more than " +
                                                  std::to_string(options_.max_bundle_entries) +
                                                  " entries"), out);
    }
    size_t i = 0;
    for (const auto& v : arr->get_array()) {
      Entry e;
      if (Status st = ParseEntry(v, i, ctx.base, &e); !st.ok()) {
        return SetError(EntryError(i, st), out);
      }
      entries.push_back(std::move(e));
      ++i;
    }
  }
  bool transaction = bundle_type == "transaction";
  ctx.trail.action = transaction ? "transaction" : "batch";
  std::vector<std::string> results(entries.size());

  if (!transaction) {
    for (Entry& e : entries) {
      http::Response r;
      dispatch(ToRequest(ctx, e), &r, &ctx.trail);
      AppendRoutedEntry(r, &results[e.index]);
    }
  } else {
    if (Status st = Transaction(ctx, entries, &results); !st.ok()) return SetError(st, out);
  }

  std::string s = R"({"resourceType":"Bundle","id":")" + NewId() +
                  R"(","meta":{"lastUpdated":")" + FormatInstant(clock_.NowMs()) +
                  R"("},"type":")" + (transaction ? "transaction-response" : "batch-response") +
                  R"(","link":[{"relation":"self","url":)";
  AppendJsonString(ctx.base, &s);
  s += "}]";
  if (!results.empty()) {
    s += R"(,"entry":[)";
    for (size_t i = 0; i < results.size(); ++i) {
      if (i) s += ",";
      s += results[i];
    }
    s += "]";
  }
  s += "}";
  out->status = 200;
  out->SetHeader("Content-Type", std::string(kFhirJson));
  out->body = std::move(s);
}

Status FhirApi::Transaction(RequestContext& ctx, std::vector<Entry>& entries,
                            std::vector<std::string>* results) {
  // 1. Ids for creates, and the map from fullUrl to the local reference.
  std::map<std::string, std::string> refs;
  std::vector<std::string> create_ids(entries.size());
  std::set<std::pair<std::string, std::string>> targets;
  // Maps an entry's fullUrl to the local reference of what it became. A
  // RESTful fullUrl ("<base>/Type/id") is also what relative references
  // "Type/id" inside the Bundle mean (FHIR R4 bundle reference resolution).
  auto map_full_url = [&refs](const Entry& e) {
    if (e.full_url.empty()) return;
    refs[e.full_url] = e.type + "/" + e.id;
    std::string_view fu = e.full_url;
    if (fu.starts_with("http://") || fu.starts_with("https://")) {
      size_t last = fu.rfind('/');
      size_t prev = last == std::string_view::npos || last == 0 ? std::string_view::npos
                                                                : fu.rfind('/', last - 1);
      if (prev != std::string_view::npos && fu.substr(prev + 1, last - prev - 1) == e.type) {
        refs.emplace(std::string(fu.substr(prev + 1)), e.type + "/" + e.id);
      }
    }
  };
  Env e_env = env(ctx);
  // Patients created without an NHS number are numbered once every id the
  // transaction names is known: an allocated number must not be one that
  // another entry PUTs.
  std::vector<Entry*> to_number;
  auto allocates = [](const Entry& e) {
    if (e.type != "Patient" || !e.has_resource) return false;
    auto number = NhsNumberOf(e.resource);
    return number.ok() && number->empty();
  };
  for (Entry& e : entries) {
    bool write = e.method != "GET" && e.method != "HEAD";
    if (write && (e.id.starts_with("$") || e.type.starts_with("$"))) {
      return EntryError(e.index, Status::Invalid("operations (" + e.url + ") are not supported "
                                                 "in a transaction"));
    }
    if (write && !IsStorableType(e.type)) {
      return EntryError(e.index, Status::NotFound("unknown resource type '" + e.type + "'"));
    }
    // Conditional entries are resolved against the state before the transaction.
    if (e.method == "POST" && !e.if_none_exist.empty()) {
      std::string_view criteria = e.if_none_exist;
      if (size_t q = criteria.find('?'); q != std::string_view::npos) criteria.remove_prefix(q + 1);
      auto ids = ConditionalMatches(ctx, e.type, criteria);
      if (!ids.ok()) return EntryError(e.index, ids.status());
      if (ids->size() > 1) {
        return EntryError(e.index, Status(Code::kPreconditionFailed,
                                          "ifNoneExist matches more than one resource"));
      }
      if (ids->size() == 1) {
        e.noop = true;
        e.id = ids->front();
        map_full_url(e);
        continue;
      }
    }
    if ((e.method == "PUT" || e.method == "DELETE") && !e.query.empty()) {
      auto ids = ConditionalMatches(ctx, e.type, e.query);
      if (!ids.ok()) return EntryError(e.index, ids.status());
      if (ids->size() > 1) {
        return EntryError(e.index, Status(Code::kPreconditionFailed,
                                          "the criteria match more than one resource"));
      }
      if (ids->size() == 1) {
        e.id = ids->front();
      } else if (e.method == "DELETE") {
        e.noop = true;
        continue;
      } else {
        const json::object* o = e.resource.if_object();
        const json::value* body_id = o ? o->if_contains("id") : nullptr;
        if (body_id && body_id->is_string()) {
          e.id = std::string(body_id->get_string());
        } else if (allocates(e)) {
          e.query.clear();
          to_number.push_back(&e);
          continue;
        } else {
          auto id = NewResourceId(e_env, e.type, e.resource);  // a Patient: its NHS number
          if (!id.ok()) return EntryError(e.index, id.status());
          e.id = std::move(*id);
        }
      }
      e.query.clear();
    }
    if (e.method == "POST") {
      if (!e.id.empty()) return EntryError(e.index, Status::Invalid("POST url must be a type"));
      if (allocates(e)) {
        to_number.push_back(&e);
        continue;
      }
      // A Patient's id is the NHS number it carries, fixed here so that
      // references to the entry's fullUrl can follow it.
      Result<std::string> id =
          e.has_resource ? NewResourceId(e_env, e.type, e.resource) : Result<std::string>(NewId());
      if (!id.ok()) return EntryError(e.index, id.status());
      create_ids[e.index] = std::move(*id);
      e.id = create_ids[e.index];
    } else if (write) {
      if (e.id.empty() || e.id.find('/') != std::string::npos) {
        return EntryError(e.index, Status::Invalid("request.url must be Type/id"));
      }
      if (Status st = CheckIdSyntax(e.id); !st.ok()) return EntryError(e.index, st);
    }
    if (write && !targets.insert({e.type, e.id}).second) {
      return EntryError(e.index, Status::Invalid("the same resource appears twice in the "
                                                 "transaction"));
    }
    if (write && e.method != "DELETE") map_full_url(e);
  }
  for (Entry* e : to_number) {
    std::string id;
    do {
      auto next = nhs_numbers_.Next();
      if (!next.ok()) return EntryError(e->index, next.status());
      id = std::move(*next);
    } while (targets.count({e->type, id}));
    e->id = id;
    if (e->method == "POST") create_ids[e->index] = id;
    targets.insert({e->type, id});
    map_full_url(*e);
  }
  // 2. Rewrite references between entries.
  for (Entry& e : entries) {
    if (e.has_resource && (e.method == "POST" || e.method == "PUT")) {
      if (Status st = RewriteReferences(e.resource, refs); !st.ok()) {
        return EntryError(e.index, st);
      }
      if (e.method == "PUT") {
        // The body's id must agree with the URL; a urn-identified entry may omit it.
        if (json::object* o = e.resource.if_object(); o && !o->contains("id")) {
          (*o)["id"] = e.id;
        }
      }
    }
  }
  std::vector<Entry*> order;
  for (Entry& e : entries) order.push_back(&e);
  std::stable_sort(order.begin(), order.end(),
                   [](const Entry* a, const Entry* b) { return Phase(a->method) < Phase(b->method); });

  // 3. Prepare every write against current state and commit them as one batch;
  // a concurrent writer (Conflict) means preparing again.
  std::vector<Prepared> prepared(entries.size());
  constexpr int kAttempts = 8;
  for (int attempt = 0;; ++attempt) {
    store::WriteBatch batch;
    std::vector<size_t> write_entry;  // batch.writes[i] is entries[write_entry[i]]'s
    for (Entry* e : order) {
      if (Phase(e->method) == 3) continue;
      if (e->noop) {
        Prepared p;
        p.type = e->type;
        p.id = e->id;
        if (e->method == "POST") {
          auto existing = store_.Read(e->type, e->id);
          if (!existing.ok()) return EntryError(e->index, existing.status());
          if (!See(ctx, e->type, e->id, existing->access, 'u')) {
            return EntryError(e->index, Status::NotFound(e->type + " not found"));
          }
          p.status = 200;
          p.version = existing->version;
          p.last_updated_ms = existing->last_updated_ms;
          p.body = std::move(existing->body);
        } else {
          p.status = 204;
        }
        prepared[e->index] = std::move(p);
        continue;
      }
      Result<Prepared> p = Status::Internal("unreachable");
      if (e->method == "POST") {
        if (!e->has_resource) return EntryError(e->index, Status::Invalid("POST needs a resource"));
        p = PrepareCreate(e_env, e->type, e->resource, create_ids[e->index]);
      } else if (e->method == "PUT") {
        if (!e->has_resource) return EntryError(e->index, Status::Invalid("PUT needs a resource"));
        p = PrepareUpdate(e_env, e->type, e->id, e->resource, e->if_match);
      } else if (e->method == "DELETE") {
        p = PrepareDelete(e_env, e->type, e->id, e->if_match);
      } else {
        auto patch = PatchOfEntry(*e, options_.max_json_depth);
        if (!patch.ok()) return EntryError(e->index, patch.status());
        p = PreparePatch(e_env, e->type, e->id, *patch, e->if_match);
      }
      if (!p.ok()) return EntryError(e->index, p.status());
      char interaction = e->method == "POST" ? 'c' : e->method == "DELETE" ? 'd' : 'u';
      if (Status st = Allow(ctx, e->type, interaction); !st.ok()) return EntryError(e->index, st);
      if (Status st = CheckWrite(ctx, *p, interaction); !st.ok()) {
        return EntryError(e->index, st);
      }
      if (Status st = CheckConsent(ctx, *p); !st.ok()) return EntryError(e->index, st);
      if (p->write) {
        batch.writes.push_back(*p->write);
        write_entry.push_back(e->index);
      }
      prepared[e->index] = std::move(*p);
    }
    // Pointers replaced by relatesTo are superseded in the same commit,
    // after every entry's own write.
    std::vector<store::Write> superseded;
    for (size_t i : write_entry) {
      if (Status st = Supersede(ctx, prepared[i], targets, &superseded); !st.ok()) {
        return EntryError(i, st);
      }
    }
    for (auto& w : superseded) batch.writes.push_back(std::move(w));
    if (batch.writes.empty()) break;
    std::string_view request_id = ctx.request.headers.Get("x-request-id");
    if (!request_id.empty()) batch.idempotency_key = std::string(request_id);
    // Without reads to run after the commit, the transaction's audit record
    // is complete now and rides in the same batch (no second fsync).
    bool audit_in_batch =
        options_.audit && std::none_of(entries.begin(), entries.end(), [](const Entry& e) {
          return Phase(e.method) == 3;
        });
    if (audit_in_batch) {
      batch.audit.push_back(audit::ToAuditInput(
          MakeAuditRecord(ctx.request, ctx.caller.get(), ctx.trail, 200)));
    }
    auto committed = store_.Commit(batch);
    if (committed.ok()) {
      ctx.trail.audited = audit_in_batch;
      counters_.writes.fetch_add(batch.writes.size(), std::memory_order_relaxed);
      if (committed->already_applied) {
        // A retried transaction (same X-Request-ID) is answered with what
        // its first attempt wrote; nothing is written again.
        // The first commit wrote the entries' writes in order, then (on the
        // national node) the pointers they superseded, which a replay may
        // no longer need to supersede.
        const auto& applied = committed->applied;
        bool same = applied.size() >= write_entry.size() &&
                    (applied.size() == write_entry.size() || options_.policy.national);
        for (size_t i = 0; same && i < applied.size(); ++i) {
          same = i < write_entry.size() ? applied[i].type == batch.writes[i].type
                                        : applied[i].type == "DocumentReference";
        }
        if (!same) {
          return Status::Conflict("this X-Request-ID was already used for another request");
        }
        for (size_t i = 0; i < write_entry.size(); ++i) {
          auto replayed = ReplayedWrite(committed->applied[i]);
          if (!replayed.ok()) return replayed.status();
          prepared[write_entry[i]] = std::move(*replayed);
        }
        break;
      }
      for (const Prepared& p : prepared) {
        NoteVip(p);
        if (p.write) CRS_RETURN_IF_ERROR(AfterCommit(ctx, p));
      }
      break;
    }
    if (committed.status().code() != Code::kConflict || attempt + 1 == kAttempts) {
      return committed.status();
    }
    counters_.conflicts_retried.fetch_add(1, std::memory_order_relaxed);
  }

  // 4. Responses: writes from their prepared results, then the reads.
  for (Entry* e : order) {
    std::string& s = (*results)[e->index];
    if (Phase(e->method) == 3) {
      http::Response r;
      dispatch(ToRequest(ctx, *e), &r, &ctx.trail);
      AppendRoutedEntry(r, &s);
      continue;
    }
    http::Response r;
    WriteResult(ctx, prepared[e->index], &r);
    AppendRoutedEntry(r, &s);
  }
  return Status::Ok();
}

}  // namespace crs::api
