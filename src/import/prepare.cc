#include "import/prepare.h"

#include <boost/json.hpp>

namespace crs::import {

namespace json = boost::json;

namespace {

// A resource body without the meta the server stamps on every version.
json::value WithoutVersionMeta(std::string_view body) {
  json::error_code ec;
  json::value v = json::parse(body, ec);
  if (ec || !v.is_object()) return nullptr;
  if (json::value* meta = v.as_object().if_contains("meta"); meta && meta->is_object()) {
    meta->as_object().erase("versionId");
    meta->as_object().erase("lastUpdated");
    if (meta->as_object().empty()) v.as_object().erase("meta");
  }
  return v;
}

bool SameContent(std::string_view stored, std::string_view prepared) {
  json::value a = WithoutVersionMeta(stored);
  return !a.is_null() && a == WithoutVersionMeta(prepared);
}

bool IsSummaryEntry(const Entry& entry) {
  if (entry.type != "Bundle" || !entry.resource.is_object()) return false;
  const json::object& b = entry.resource.get_object();
  const json::value* type = b.if_contains("type");
  return type && type->is_string() && type->get_string() == "document" &&
         api::IsSummaryUpload(b);
}

// Whether the stored current version of `type/id` holds `body` (ignoring
// the version meta): then nothing needs writing.
Result<bool> Unchanged(api::Env& env, const std::string& type, const std::string& id,
                       int64_t new_version, const std::string& body) {
  auto r = env.store.Read(type, id);
  if (!r.ok() && r.status().code() != Code::kNotFound) return r.status();
  return r.ok() && !r->deleted && r->version + 1 == new_version && SameContent(r->body, body);
}

Result<PreparedImport> PrepareSummaryImport(api::Env& env, const api::SummaryUploadRules& rules,
                                            const Entry& entry,
                                            const api::SummaryPending* pending) {
  CRS_ASSIGN_OR_RETURN(api::PreparedSummary s,
                       api::PrepareSummary(env, entry.resource, rules, pending));
  PreparedImport out;
  out.summary = true;
  out.type = s.bundle.type;
  out.id = s.bundle.id;
  out.patient = s.nhs;
  out.version = s.bundle.version;
  CRS_ASSIGN_OR_RETURN(bool same, Unchanged(env, out.type, out.id, s.bundle.version, s.bundle.body));
  if (same) {
    --out.version;
    return out;
  }
  out.writes.push_back(std::move(*s.bundle.write));
  out.writes.push_back(std::move(*s.provenance.write));
  return out;
}

}  // namespace

std::optional<std::string> SummaryPatient(const Entry& entry) {
  if (!IsSummaryEntry(entry)) return std::nullopt;
  auto nhs = api::SummarySubject(entry.resource);
  if (!nhs.ok()) return std::nullopt;
  return *nhs;
}

Result<PreparedImport> PrepareImport(api::Env& env, const api::SummaryUploadRules& summary_rules,
                                     Entry entry, const api::SummaryPending* pending) {
  if (IsSummaryEntry(entry)) return PrepareSummaryImport(env, summary_rules, entry, pending);
  // One read of the current version serves the update (PrepareUpdate
  // would read it again otherwise) and the re-import check. An update of an
  // existing Patient must name its version; everything else is a plain PUT.
  Result<store::ResourceVersion> read = env.store.Read(entry.type, entry.id);
  if (!read.ok() && read.status().code() != Code::kNotFound) return read.status();
  const store::ResourceVersion* current = read.ok() && !read->deleted ? &*read : nullptr;
  std::string if_match =
      current && entry.type == "Patient" ? api::ETagOf(current->version) : std::string();
  CRS_ASSIGN_OR_RETURN(api::Prepared p, api::PrepareUpdate(env, entry.type, entry.id,
                                                           std::move(entry.resource), if_match,
                                                           read));
  PreparedImport out;
  out.type = entry.type;
  out.id = entry.id;
  out.version = p.version;
  if (p.write && p.write->access) out.patient = p.write->access->patient;
  // A re-import of what is stored writes nothing.
  if (current && current->version + 1 == p.version && SameContent(current->body, p.body)) {
    out.version = current->version;
    return out;
  }
  if (p.write) out.writes.push_back(std::move(*p.write));
  return out;
}

}  // namespace crs::import
