// The rows search-index extraction produces for one resource: the contract between
// ExtractIndex() (extract.h) and the index tables of the store, one table per row
// type, with the same logical schema on SQLite and PostgreSQL. docs/search-index.md
// describes every column, the normalisation and the precision rules.
//
// Every row names its search parameter by `param`, the parameter's code ("family",
// "code", "value-quantity"). The view points into the registry that extracted the
// rows: IndexRegistry::Get() (registry.h) lives for the process, so its rows may be
// kept and moved freely. Within one resource the rows of each table are sorted and
// free of duplicates.
//
// Thread safety: plain value types.
#pragma once

#include <compare>
#include <cstddef>
#include <cstdint>
#include <limits>
#include <optional>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

namespace crs::fhir::index {

// Open ends of date ranges (Period without start or end).
inline constexpr int64_t kDateMin = std::numeric_limits<int64_t>::min();
inline constexpr int64_t kDateMax = std::numeric_limits<int64_t>::max();

// A string parameter's value (string, markdown, each part of a HumanName or Address).
struct StringRow {
  std::string_view param;
  std::string normalized;  // NormalizeString(exact): default and :contains matching
  std::string exact;       // the value as written (:exact)
  friend auto operator<=>(const StringRow&, const StringRow&) = default;
};

// A token: a code in a system, an identifier, a boolean, a plain code or id.
// Also used, under a reference parameter's code, for Reference.identifier
// (the :identifier modifier).
struct TokenRow {
  std::string_view param;
  std::string system;  // empty when the value has no system
  std::string code;    // empty for a text-only row (CodeableConcept.text)
  std::string text;    // normalised display / text for :text; may be empty
  // Identifier.type.coding for :of-type (one row per type coding); else empty.
  std::string type_system;
  std::string type_code;
  friend auto operator<=>(const TokenRow&, const TokenRow&) = default;
};

// A date, dateTime, instant, Period or Timing as the half-open interval of
// milliseconds since 1970-01-01T00:00:00Z it covers: [low_ms, high_ms).
// "2020-03" is [2020-03-01T00:00Z, 2020-04-01T00:00Z). Open ends: kDateMin/kDateMax.
struct DateRow {
  std::string_view param;
  int64_t low_ms = 0;
  int64_t high_ms = 0;
  friend auto operator<=>(const DateRow&, const DateRow&) = default;
};

// A number (integer, decimal) with the interval its written precision implies:
// 100 is [99.5, 100.5). For a Range, `value` is empty and low/high are its bounds
// (-inf/+inf when open).
struct NumberRow {
  std::string_view param;
  std::optional<double> value;
  double low = 0;
  double high = 0;
  friend auto operator<=>(const NumberRow&, const NumberRow&) = default;
};

// A Quantity (Age, Duration, Distance, Count, SimpleQuantity), Money or Range.
// value/low/high as NumberRow. When the system is UCUM and the unit is known,
// canonical_* hold the value in base units and a canonical unit key
// (CanonicalizeUcum(), numbers.h), so 5 'mg' and 0.005 'g' compare equal.
struct QuantityRow {
  std::string_view param;
  std::optional<double> value;
  double low = 0;
  double high = 0;
  std::string system;  // Quantity.system; "urn:iso:std:iso:4217" for Money
  std::string code;    // Quantity.code; the currency for Money
  std::string unit;    // Quantity.unit (human-readable)
  std::optional<double> canonical_value;
  std::optional<double> canonical_low;
  std::optional<double> canonical_high;
  std::string canonical_unit;  // empty when not canonicalised
  friend auto operator<=>(const QuantityRow&, const QuantityRow&) = default;
};

enum class ReferenceKind : uint8_t {
  kRelative,   // "Patient/123" (optionally "/_history/2")
  kAbsolute,   // "https://host/fhir/Patient/123": url holds the reference
  kContained,  // "#id": target_id is the contained resource's id
  kCanonical,  // a canonical URL (canonical element): url and version ("url|version")
  kOther,      // anything else (urn:uuid:, urn:oid:, a URL without Type/id): url only
};

// A reference to another resource. target_type/target_id are set whenever the
// reference has the form [base/]Type/id (relative, absolute, or a canonical whose
// URL ends so) or, for contained references, from the contained resource.
struct ReferenceRow {
  std::string_view param;
  ReferenceKind kind = ReferenceKind::kRelative;
  std::string target_type;
  std::string target_id;
  std::string version;  // "_history/<n>" for references, "|<version>" for canonicals
  std::string url;      // absolute, canonical and other references: without the version
  friend auto operator<=>(const ReferenceRow&, const ReferenceRow&) = default;
};

// A uri, url, canonical, oid or uuid, as written (:below / :above compare prefixes).
struct UriRow {
  std::string_view param;
  std::string uri;
  friend auto operator<=>(const UriRow&, const UriRow&) = default;
};

// One value of a composite parameter's component; `param` of the held row is the
// component parameter's code ("code", "value-quantity").
using ComponentValue =
    std::variant<StringRow, TokenRow, DateRow, NumberRow, QuantityRow, ReferenceRow, UriRow>;

// One tuple of a composite parameter: for each item its base expression selects (an
// Observation, an Observation.component), one value of each component, in the
// order of the definition's components; all combinations of the item's values.
struct CompositeRow {
  std::string_view param;
  std::vector<ComponentValue> components;
  friend auto operator<=>(const CompositeRow&, const CompositeRow&) = default;
};

// A position (Location.position, WGS84 degrees) for the special parameter
// `near` (geo.h).
struct GeoRow {
  std::string_view param;
  double latitude = 0;
  double longitude = 0;
  friend auto operator<=>(const GeoRow&, const GeoRow&) = default;
};

// The words of a resource for _text (`narrative`) and _content (`content`),
// each column the words joined by one space (fulltext.h). Filled only when
// the store keeps a full-text index (ExtractFullText).
struct FullTextRow {
  std::string narrative;
  std::string content;
  friend bool operator==(const FullTextRow&, const FullTextRow&) = default;
};

// A parameter whose expression failed on this resource (it is then skipped; the
// write still succeeds).
struct IndexWarning {
  std::string_view param;
  std::string message;
};

struct IndexEntries {
  std::string_view resource_type;  // a registry type name
  std::vector<StringRow> strings;
  std::vector<TokenRow> tokens;
  std::vector<DateRow> dates;
  std::vector<NumberRow> numbers;
  std::vector<QuantityRow> quantities;
  std::vector<ReferenceRow> references;
  std::vector<UriRow> uris;
  std::vector<CompositeRow> composites;
  std::vector<GeoRow> geo;
  // Not filled by ExtractIndex: set by the writer's caller when the store
  // keeps a full-text index (store::Store::KeepsFullText).
  std::optional<FullTextRow> fulltext;
  // Codes of the parameters that produced at least one row (any table), sorted:
  // answers :missing. A parameter in `warnings` is absent here.
  std::vector<std::string_view> present;
  std::vector<IndexWarning> warnings;

  // Rows in all tables (composite rows count once each).
  size_t RowCount() const {
    return strings.size() + tokens.size() + dates.size() + numbers.size() + quantities.size() +
           references.size() + uris.size() + composites.size() + geo.size();
  }
};

}  // namespace crs::fhir::index
