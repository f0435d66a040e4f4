// Turning request bodies into validated resources and resources into the
// exact bytes the store keeps (with server-maintained meta).
#pragma once

#include <boost/json/value.hpp>
#include <cstdint>
#include <string>
#include <string_view>

#include "core/status.h"

namespace crs::api {

// Parses a JSON body. Invalid (400) for malformed JSON, a body nested deeper
// than `max_depth`, or anything but one JSON value.
Result<boost::json::value> ParseJsonBody(std::string_view body, int max_depth);

// Checks that `resource` is a structurally valid FHIR resource. When
// `expected_type` is not empty, resourceType must equal it.
Status CheckResource(const boost::json::value& resource, std::string_view expected_type);

// True when `type` is an R4 resource type that can be stored (not abstract).
bool IsStorableType(std::string_view type);

// Checks a resource id against the FHIR id rules.
Status CheckIdSyntax(std::string_view id);

// Sets id, meta.versionId and meta.lastUpdated (other meta elements are kept)
// and returns the resource's JSON text with resourceType, id and meta first.
std::string StampResource(boost::json::object& resource, std::string_view id, int64_t version,
                          int64_t last_updated_ms);

}  // namespace crs::api
