#include "store/sql/covered_rows.h"

#include <gtest/gtest.h>

#include <boost/json.hpp>
#include <set>
#include <string>

#include "fhir/index/extract.h"

namespace crs::store::sql {
namespace {

namespace ix = crs::fhir::index;

// "param=exact" of every string and token row of `type` that the store
// leaves out.
std::set<std::string> LeftOut(const char* json) {
  auto entries = ix::ExtractIndex(boost::json::parse(json));
  EXPECT_TRUE(entries.ok()) << entries.status().ToString();
  std::set<std::string> out;
  if (!entries.ok()) return out;
  for (const auto& r : entries->strings) {
    if (Covered(entries->resource_type, *entries, r)) out.insert(std::string(r.param) + "=" + r.exact);
  }
  for (const auto& r : entries->tokens) {
    if (Covered(entries->resource_type, *entries, r)) out.insert(std::string(r.param) + "=" + r.code);
  }
  return out;
}

TEST(CoveredRowsTest, PatientRowsRepeatedByANarrowerParameter) {
  EXPECT_EQ(LeftOut(R"({"resourceType": "Patient",
      "name": [{"family": "Brown", "given": ["Oliver", "Jack"], "prefix": ["Mrs"],
                "text": "Oliver Brown"}],
      "telecom": [{"system": "phone", "value": "0113 496 2286"},
                  {"system": "fax", "value": "0113 000 0000"},
                  {"system": "email", "value": "b@example.org"}],
      "address": [{"line": ["23 Example Road"], "city": "Leeds", "district": "West Yorkshire",
                   "state": "England", "postalCode": "LS19 7AB", "country": "GB"}]})"),
            (std::set<std::string>{"name=Brown", "name=Oliver", "name=Jack",
                                   "address=Leeds", "address=England", "address=LS19 7AB",
                                   "address=GB", "telecom=0113 496 2286",
                                   "telecom=b@example.org"}));
}

TEST(CoveredRowsTest, OnlyRowsEqualInEveryColumn) {
  // A line that reads like the city is the same row (one `address` row
  // serves both); a text name is not a family name; a fax number has no
  // narrower parameter.
  EXPECT_EQ(LeftOut(R"({"resourceType": "Patient",
      "name": [{"text": "Brown"}, {"family": "BROWN"}],
      "telecom": [{"system": "fax", "value": "1"}],
      "address": [{"line": ["Leeds"], "city": "Leeds"}]})"),
            (std::set<std::string>{"name=BROWN", "address=Leeds"}));
}

TEST(CoveredRowsTest, OtherTypesKeepEveryRow) {
  EXPECT_EQ(LeftOut(R"({"resourceType": "Practitioner",
      "name": [{"family": "Brown", "given": ["Oliver"]}],
      "telecom": [{"system": "phone", "value": "1"}]})"),
            std::set<std::string>{});
  EXPECT_TRUE(CoveringParams("Practitioner", "name").empty());
  EXPECT_EQ(CoveringParams("Patient", "name").size(), 2u);
}

}  // namespace
}  // namespace crs::store::sql
