// Structural validation of FHIR R4 JSON resources, driven by the structure model
// (fhir/model.h) generated from the official StructureDefinitions.
//
// What is checked (docs/validation.md has the full list): the JSON form of FHIR
// (objects, arrays exactly where the element repeats, no null / empty values, `_name`
// primitive extension siblings), known resource types and elements, choice elements,
// required elements, primitive JSON kinds, ranges and lexical formats, resource ids.
// Contained resources, Bundle.entry.resource and Parameters.parameter.resource are
// validated as resources of their own type.
// Not checked: invariants (FHIRPath constraints), terminology bindings, profiles,
// reference resolution.
//
// Thread safety: free functions over immutable data; safe to call concurrently.
#pragma once

#include <boost/json/fwd.hpp>
#include <cstddef>
#include <string_view>
#include <vector>

#include "core/status.h"
#include "fhir/outcome.h"

namespace crs::fhir {

struct ValidateOptions {
  // Validation stops after this many issues (bounds the work on garbage input).
  size_t max_issues = 100;
  // Nesting limit (objects and arrays), beyond what the model needs; deeper content is
  // reported, not descended into.
  int max_depth = 64;
};

// Validates `resource` (a parsed JSON document that should be a FHIR resource) and
// appends what it finds to `*issues` (not cleared; may be null when only the verdict is
// wanted). Returns OK when no error-level issue was found, else Status::Invalid naming
// the first error.
Status Validate(const boost::json::value& resource, std::vector<Issue>* issues,
                const ValidateOptions& options = {});

// Checks a resource id: [A-Za-z0-9\-\.]{1,64}. Status::Invalid says why not.
Status CheckId(std::string_view id);

struct ParseOptions {
  size_t max_bytes = 16 * 1024 * 1024;
  size_t max_depth = 64;
};

// Parses strict JSON (RFC 8259: no comments, no trailing commas). On failure returns
// Status::Invalid and appends one structure issue with the line and column.
Result<boost::json::value> ParseJson(std::string_view text, std::vector<Issue>* issues,
                                     const ParseOptions& options = {});

// ParseJson() then Validate(): the whole check of a request body.
Result<boost::json::value> ParseAndValidate(std::string_view text, std::vector<Issue>* issues,
                                            const ValidateOptions& options = {});

}  // namespace crs::fhir
