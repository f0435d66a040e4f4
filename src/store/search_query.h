// A search, as the store executes it: backend-neutral predicates over the
// index tables that search-index extraction fills (fhir/index/index_entries.h,
// docs/search-index.md). The API layer parses FHIR search URLs into this; each
// backend compiles it to its own SQL.
//
// Semantics: a resource matches when it is of `type`, not deleted, and every
// Predicate (AND) has at least one matching Condition (OR).
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <variant>
#include <vector>

namespace crs::store {

// FHIR search prefixes for ordered values.
enum class Prefix { kEq, kNe, kLt, kGt, kLe, kGe, kSa, kEb, kAp };

struct StringCond {
  enum class Mode { kPrefix, kExact, kContains } mode = Mode::kPrefix;
  std::string value;  // normalised for kPrefix/kContains, as written for kExact
};

struct TokenCond {
  std::optional<std::string> system;  // nullopt: any system; "": no system
  std::optional<std::string> code;    // nullopt: any code (system| form)
  std::optional<std::string> text;    // :text: normalised prefix of display/text
  // :of-type (identifiers): type system|code plus the identifier value in `code`.
  std::optional<std::string> type_system, type_code;
};

// A date query value as the half-open range its precision implies.
struct DateCond {
  Prefix prefix = Prefix::kEq;
  int64_t low_ms = 0, high_ms = 0;  // [low, high)
};

struct NumberCond {
  Prefix prefix = Prefix::kEq;
  double value = 0;
  double low = 0, high = 0;  // the precision range of `value`: [low, high)
  // Quantity only: system and code (unit) constraints; empty = any.
  std::string system, code;
};

struct ReferenceCond {
  std::optional<std::string> type;  // target type ("Patient"), nullopt = any
  std::optional<std::string> id;    // target id
  std::optional<std::string> url;   // absolute / canonical URL (without version)
};

struct UriCond {
  enum class Mode { kEq, kBelow, kAbove } mode = Mode::kEq;
  std::string value;
};

// :missing=true|false.
struct MissingCond {
  bool missing = true;
};

// _id and _lastUpdated, on the resource itself.
struct IdCond {
  std::string id;
};

// One value of a composite parameter's component, in the component's own
// type (a token, a quantity, a date...).
using ComponentCond =
    std::variant<StringCond, TokenCond, DateCond, NumberCond, ReferenceCond, UriCond>;

// A composite value (code$value): every component's condition must hold on
// the same tuple (docs/search-index.md, CompositeRow), in component order.
struct CompositeCond {
  std::vector<ComponentCond> components;
};

// _text (the narrative) and _content (all the resource's text): every term
// must match (AND). A term is adjacent words in this order (one word, or a
// quoted phrase); with `prefix` its last word matches as a prefix. Words are
// fhir::index::FullTextWords (normalised, no separators).
struct TextCond {
  struct Term {
    std::vector<std::string> words;
    bool prefix = false;
  };
  std::vector<Term> terms;
};

// near (Location.position): positions within `km` of (latitude, longitude),
// by great-circle distance.
struct GeoCond {
  double latitude = 0, longitude = 0;
  double km = 0;
};

using Condition = std::variant<StringCond, TokenCond, DateCond, NumberCond, ReferenceCond, UriCond,
                               MissingCond, IdCond, CompositeCond, TextCond, GeoCond>;

// clang-format off
enum class IndexTable {
  kString, kToken, kDate, kNumber, kQuantity, kReference, kUri, kComposite, kNone,
  kText,  // ix_text: `param` "_text" searches the narrative column, "_content" the content
  kGeo    // ix_geo
};
// clang-format on

struct Predicate {
  std::string param;  // the search parameter's code ("family"); "_id" for IdCond
  IndexTable table = IndexTable::kNone;
  bool negate = false;  // :not (tokens): match resources with no matching value
  std::vector<Condition> any_of;  // OR
  // _lastUpdated is answered from the versions table.
  bool last_updated = false;
  // Chain (subject:Patient.name=x): `param` is a reference parameter; a
  // resource matches when it references a resource of `chain_type` that
  // matches chain[0] (any_of is unused).
  std::string chain_type;
  // Reverse chain (_has:Observation:patient:code=x): a resource matches when
  // some resource of `has_type` references it through `param` (a parameter
  // of has_type) and matches chain[0].
  std::string has_type;
  std::vector<Predicate> chain;  // one element when chain_type or has_type is set
  // A plan hint, never a change of meaning: when another predicate drives
  // the query, intersect this one's matching rids with the driver's (one
  // pass over each's index ranges) instead of checking each of the
  // driver's rids for it. For two predicates of similar, large size, such
  // as a trace's two names' sounds over three years (api/trace.cc). Plans
  // that do not know it check the predicate as usual.
  bool intersect = false;
};

// _include / _revinclude: resources referenced by the matches (forward), or
// referencing them (reverse), through reference parameter `param` of
// `source_type` ("*": every reference parameter of that type).
struct Include {
  bool reverse = false;
  std::string source_type;
  std::string param;
  std::string target_type;  // forward only; empty = any
  bool iterate = false;     // also apply to resources included by earlier rounds
};

// _sort: one key. A resource with several values sorts by its lowest
// (ascending) or highest (descending); one with none sorts last.
struct SortKey {
  std::string param;                     // "_id", "_lastUpdated" or a parameter code
  IndexTable table = IndexTable::kNone;  // kNone for _id/_lastUpdated
  bool descending = false;
};

// A sort key's value in a keyset cursor: null = the resource had none.
using SortValue = std::variant<std::monostate, int64_t, double, std::string>;

// What a caller may see, as the access layer (src/access/) compiled it. The
// store applies it inside every query over resources -- matches, counts,
// chains, _has, includes, compartments and history -- so nothing the caller
// may not see can shape a result. A resource (with its AccessFacts) is
// visible when all of these hold:
//   - its type is in `types` (when set);
//   - its labels allow it: kLocked only when authored by `org`; kSealed only
//     when authored by `org` or `sealed` is set (an empty `org` authors nothing);
//   - its patient is allowed: "" (no patient) when `unbound`; any when
//     `any_patient`; any when its type is in `any_patient_types`; a patient
//     in `patients`; a patient with a relationship to `org` when `related`.
// access::Visible() states the same rule in C++ for single-resource reads.
struct AccessFilter {
  std::string org;
  std::optional<std::vector<std::string>> types;
  bool sealed = false;
  bool unbound = true;
  bool any_patient = false;
  std::vector<std::string> any_patient_types;
  std::vector<std::string> patients;
  bool related = false;
};

struct SearchQuery {
  // The resource type searched; empty for a system-level search (GET
  // /fhir?...), which spans `types` (every type when empty). Parameters of a
  // system-level search are looked up by code on each resource's own type.
  std::string type;
  std::vector<std::string> types;
  std::vector<Predicate> all_of;  // AND
  int count = 50;                 // page size; 0: no matches returned (counts only)
  int64_t after_rid = 0;          // keyset cursor: only resources after this position
  bool want_total = false;        // count every match (ignores paging)
  bool explain = false;           // return the backend's plan instead of executing
  std::vector<Include> includes;
  std::vector<SortKey> sort;
  // With sort: the keyset cursor is (after_sort..., after_rid) of the last row
  // of the previous page; empty on the first page.
  std::vector<SortValue> after_sort;
  int include_limit = 1000;       // most included resources per page
  // Only what the caller may see (null: unrestricted, for internal use).
  std::shared_ptr<const AccessFilter> access;
};

// Resources of `type` whose reference parameter `param` names
// `target_type`/`target_id` (e.g. AllergyIntolerance?patient=Patient/123).
inline SearchQuery ReferencingQuery(std::string type, std::string param, std::string target_type,
                                    std::string target_id, int count = 1000) {
  SearchQuery q;
  q.type = std::move(type);
  q.count = count;
  Predicate ref;
  ref.param = std::move(param);
  ref.table = IndexTable::kReference;
  ref.any_of.push_back(ReferenceCond{std::move(target_type), std::move(target_id), std::nullopt});
  q.all_of.push_back(std::move(ref));
  return q;
}

struct SearchMatch {
  std::string type;  // the resource's type (matches and included resources alike)
  std::string id;
  int64_t version = 0;
  int64_t last_updated_ms = 0;
  std::string body;
  int64_t rid = 0;  // the keyset position
  std::string patient;     // AccessFacts of the resource: patient,
  uint32_t labels = 0;     // labels
  std::string author_org;  // and first author
};

struct SearchResult {
  std::vector<SearchMatch> matches;
  int64_t next_after_rid = 0;  // 0 when this page is the last
  std::vector<SortValue> next_after_sort;  // with sort: the last row's keys
  std::optional<int64_t> total;
  std::vector<SearchMatch> included;  // _include/_revinclude results for this page
  int64_t included_left_out = 0;      // found beyond include_limit: not returned
  std::string plan;  // with explain
};

// The resources in a compartment (e.g. everything about Patient/123): the
// owner itself plus every current resource that references it through one
// of `links` ((resource type, reference parameter code) pairs, from the
// official CompartmentDefinition). Ordered and paged like a search.
struct CompartmentQuery {
  std::string type;  // the compartment owner's type ("Patient")
  std::string id;
  std::vector<std::pair<std::string, std::string>> links;
  std::vector<std::string> types;  // only these resource types (empty: all)
  int count = 50;
  int64_t after_rid = 0;
  std::shared_ptr<const AccessFilter> access;  // null: unrestricted
  // Only resources whose current version was written at or after this (ms).
  std::optional<int64_t> since_ms;
  // Only resources whose date of care overlaps [care_low_ms, care_high_ms):
  // `care_dates` names, per type, the date parameter holding it; a resource
  // of such a type without a value is left out, one of another type (the
  // owner, Organization, Medication...) is kept.
  std::vector<std::pair<std::string, std::string>> care_dates;
  std::optional<int64_t> care_low_ms, care_high_ms;
};

}  // namespace crs::store
