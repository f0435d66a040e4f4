#include "api/resource_io.h"

#include <boost/json.hpp>

#include "core/time.h"
#include "fhir/model.h"
#include "fhir/validator.h"

namespace crs::api {

namespace json = boost::json;

Result<json::value> ParseJsonBody(std::string_view body, int max_depth) {
  json::parse_options opts;
  opts.max_depth = static_cast<std::size_t>(max_depth);
  json::error_code ec;
  json::value v = json::parse(body, ec, json::storage_ptr(), opts);
  if (ec) {
    if (ec == json::error::too_deep) {
      return Status::Invalid("JSON is nested deeper than the limit of " +
                             std::to_string(max_depth) + " levels");
    }
    return Status::Invalid("body is not valid JSON: " + ec.message());
  }
  return v;
}

bool IsStorableType(std::string_view type) {
  if (type == "Resource" || type == "DomainResource") return false;
  return fhir::Model::R4().IsResourceType(type);
}

Status CheckIdSyntax(std::string_view id) {
  if (id.empty() || id.size() > 64) return Status::Invalid("resource id must be 1 to 64 characters");
  for (char c : id) {
    bool ok = (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
              c == '-' || c == '.';
    if (!ok) return Status::Invalid("resource id may contain only A-Z a-z 0-9 - and .");
  }
  return Status::Ok();
}

Status CheckResource(const json::value& resource, std::string_view expected_type) {
  const json::object* obj = resource.if_object();
  if (!obj) return Status::Invalid("body must be a JSON object (a FHIR resource)");
  const json::value* rt = obj->if_contains("resourceType");
  if (!rt || !rt->is_string()) return Status::Invalid("resource has no resourceType");
  std::string_view type = rt->get_string();
  if (!expected_type.empty() && type != expected_type) {
    return Status::Invalid("resourceType '" + std::string(type) +
                           "' does not match the type in the URL ('" + std::string(expected_type) +
                           "')");
  }
  if (!IsStorableType(type)) {
    return Status::Invalid("unknown resourceType '" + std::string(type) + "'");
  }
  std::vector<fhir::Issue> issues;
  Status st = fhir::Validate(resource, &issues);
  if (st.ok()) return st;
  // Name every error (up to a few) so the client can fix them in one go.
  std::string message;
  int shown = 0;
  for (const auto& issue : issues) {
    if (issue.severity != fhir::Severity::kError && issue.severity != fhir::Severity::kFatal) {
      continue;
    }
    if (shown == 5) {
      message += "; ...";
      break;
    }
    if (shown++) message += "; ";
    message += issue.location.empty() ? issue.message : issue.location + ": " + issue.message;
  }
  return Status::Invalid(message.empty() ? st.message() : message);
}

std::string StampResource(json::object& resource, std::string_view id, int64_t version,
                          int64_t last_updated_ms) {
  json::object meta;
  meta["versionId"] = std::to_string(version);
  meta["lastUpdated"] = FormatInstant(last_updated_ms);
  if (auto* old = resource.if_contains("meta"); old && old->is_object()) {
    for (auto& [k, v] : old->get_object()) {
      if (k != "versionId" && k != "lastUpdated") meta[k] = v;
    }
  }
  json::object out(resource.storage());
  out.reserve(resource.size() + 2);
  out["resourceType"] = resource["resourceType"];
  out["id"] = id;
  out["meta"] = std::move(meta);
  for (auto& [k, v] : resource) {
    if (k != "resourceType" && k != "id" && k != "meta") out[k] = std::move(v);
  }
  resource = std::move(out);
  return json::serialize(resource);
}

}  // namespace crs::api
