// GET /fhir/metadata: a CapabilityStatement generated from what this server
// really does. When an interaction is added, it is added here in the same
// change; nothing is claimed that is not served.
#include <boost/json.hpp>

#include "api/handler_internal.h"
#include "api/outcome.h"
#include "fhir/index/geo.h"
#include "fhir/index/registry.h"
#include "fhir/model.h"

namespace crs::api {

namespace json = boost::json;

void FhirApi::Capabilities(RequestContext& ctx, http::Response* out) {
  static const char* kTypeInteractions[] = {"read",   "vread",          "update",
                                            "patch",  "delete",         "history-instance",
                                            "history-type", "create", "search-type"};
  // _text and _content only when the store keeps the full-text index.
  bool fulltext = store_.KeepsFullText();
  json::array interactions;
  for (const char* code : kTypeInteractions) interactions.push_back(json::object{{"code", code}});
  json::array resources;
  for (const std::string& type : fhir::Model::R4().ResourceTypes()) {
    if (type == "Resource" || type == "DomainResource") continue;
    json::array params;
    for (const fhir::SearchParam* sp : fhir::index::IndexRegistry::Get().params().ForType(type)) {
      bool searched =
          sp->type == fhir::SearchParamType::kSpecial
              ? type == "Location" && sp->code == fhir::index::kNearParam
              : !sp->expression.empty() ||
                    (fulltext && (sp->code == "_text" || sp->code == "_content"));
      if (!searched) continue;  // not claimed
      params.push_back(json::object{{"name", sp->code},
                                    {"definition", sp->url},
                                    {"type", fhir::SearchParamTypeName(sp->type)}});
    }
    resources.push_back(json::object{
        {"type", type},
        {"interaction", interactions},
        {"searchParam", std::move(params)},
        {"versioning", "versioned-update"},
        {"readHistory", true},
        {"updateCreate", true},
        {"conditionalCreate", true},
        {"conditionalRead", "not-supported"},
        {"conditionalUpdate", true},
        {"conditionalDelete", "single"},
    });
  }
  // System-level search takes the parameters every type has.
  json::array system_params;
  for (const char* code :
       {"_id", "_lastUpdated", "_tag", "_profile", "_security", "_source", "_content"}) {
    if (std::string_view(code) == "_content" && !fulltext) continue;
    const fhir::SearchParam* sp = fhir::index::IndexRegistry::Get().params().Find("Patient", code);
    if (sp == nullptr) continue;
    system_params.push_back(json::object{{"name", sp->code},
                                         {"definition", sp->url},
                                         {"type", fhir::SearchParamTypeName(sp->type)}});
  }
  json::object cs{
      {"resourceType", "CapabilityStatement"},
      {"status", "active"},
      {"date", FormatInstant(clock_.NowMs())},
      {"publisher", "OpenCRS"},
      {"kind", "instance"},
      {"software", json::object{{"name", "OpenCRS"}, {"version", "0.1.0"}}},
      {"implementation",
       json::object{{"description", "OpenCRS Care Records Service"}, {"url", ctx.base}}},
      {"fhirVersion", "4.0.1"},
      {"format", json::array{"application/fhir+json", "json"}},
      {"patchFormat", json::array{"application/json-patch+json"}},
      {"rest", json::array{json::object{
                   {"mode", "server"},
                   {"resource", std::move(resources)},
                   {"interaction", json::array{json::object{{"code", "transaction"}},
                                               json::object{{"code", "batch"}},
                                               json::object{{"code", "history-system"}},
                                               json::object{{"code", "search-system"}}}},
                   {"searchParam", std::move(system_params)},
               }}},
  };
  out->status = 200;
  out->SetHeader("Content-Type", std::string(kFhirJson));
  out->body = json::serialize(cs);
}

}  // namespace crs::api
