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

}  // namespace

Result<PreparedImport> PrepareImport(api::Env& env, Entry entry) {
  // An update of an existing Patient must name its version; everything
  // else is a plain PUT. The stored body is kept to spot a re-import.
  std::optional<store::ResourceVersion> current;
  if (entry.type == "Patient") {
    auto r = env.store.Read(entry.type, entry.id);
    if (r.ok() && !r->deleted) current = std::move(*r);
    if (!r.ok() && r.status().code() != Code::kNotFound) return r.status();
  }
  std::string if_match = current ? api::ETagOf(current->version) : std::string();
  CRS_ASSIGN_OR_RETURN(api::Prepared p, api::PrepareUpdate(env, entry.type, entry.id,
                                                           std::move(entry.resource), if_match));
  PreparedImport out;
  out.version = p.version;
  if (p.write && p.write->access) out.patient = p.write->access->patient;
  if (p.existed && !current) {
    auto r = env.store.Read(entry.type, entry.id);
    if (r.ok() && !r->deleted) current = std::move(*r);
  }
  if (current && current->version + 1 == p.version && SameContent(current->body, p.body)) {
    out.version = current->version;
    return out;
  }
  out.write = std::move(p.write);
  return out;
}

}  // namespace crs::import
