#include "store/sql/covered_rows.h"

#include <algorithm>
#include <array>
#include <vector>

namespace crs::store::sql {
namespace {

namespace ix = crs::fhir::index;

// Each covering parameter's expression selects a part of what the covered
// one's selects (R4: Patient.name.family within Patient.name, ...), and the
// value rows of both are built by the same code, so equal values give equal
// rows.
constexpr std::array<std::string_view, 2> kNameBy = {"family", "given"};
constexpr std::array<std::string_view, 4> kAddressBy = {"address-city", "address-country",
                                                        "address-postalcode", "address-state"};
constexpr std::array<std::string_view, 2> kTelecomBy = {"email", "phone"};

const std::array<CoveredParam, 3> kCovered = {{
    {"Patient", "address", kAddressBy},
    {"Patient", "name", kNameBy},
    {"Patient", "telecom", kTelecomBy},
}};

bool Covers(std::span<const std::string_view> by, std::string_view param) {
  return std::find(by.begin(), by.end(), param) != by.end();
}

template <typename Row, typename Same>
bool CoveredIn(std::string_view type, const std::vector<Row>& rows, const Row& row, Same same) {
  std::span<const std::string_view> by = CoveringParams(type, row.param);
  if (by.empty()) return false;
  return std::any_of(rows.begin(), rows.end(), [&](const Row& other) {
    return &other != &row && Covers(by, other.param) && same(other, row);
  });
}

}  // namespace

std::span<const CoveredParam> CoveredParams() { return kCovered; }

std::span<const std::string_view> CoveringParams(std::string_view type, std::string_view code) {
  for (const CoveredParam& c : kCovered) {
    if (c.type == type && c.code == code) return c.by;
  }
  return {};
}

bool Covered(std::string_view type, const ix::IndexEntries& entries, const ix::StringRow& row) {
  return CoveredIn(type, entries.strings, row, [](const ix::StringRow& a, const ix::StringRow& b) {
    return a.normalized == b.normalized && a.exact == b.exact;
  });
}

bool Covered(std::string_view type, const ix::IndexEntries& entries, const ix::TokenRow& row) {
  return CoveredIn(type, entries.tokens, row, [](const ix::TokenRow& a, const ix::TokenRow& b) {
    return a.system == b.system && a.code == b.code && a.text == b.text &&
           a.type_system == b.type_system && a.type_code == b.type_code;
  });
}

}  // namespace crs::store::sql
