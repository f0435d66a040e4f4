#include "fhir/index/registry.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <thread>

#include "fhir/index/extract.h"
#include "fhir/index/test_support.h"

namespace crs::fhir::index {
namespace {

namespace json = boost::json;

TEST(IndexRegistryTest, EveryOfficialExpressionCompiles) {
  const IndexRegistry& r = IndexRegistry::Get();
  EXPECT_EQ(r.params().ResourceTypes().size(), 146u);
  size_t pairs = 0;
  for (const std::string& type : r.params().ResourceTypes()) {
    const std::vector<CompiledParam>* params = r.ForType(type);
    ASSERT_NE(params, nullptr) << type;
    pairs += params->size();
    for (const CompiledParam& p : *params) {
      EXPECT_NE(p.skip, SkipReason::kCompileError)
          << type << " " << p.param->code << ": " << p.compile_error;
      if (p.param->type == SearchParamType::kComposite && p.skip == SkipReason::kNone) {
        EXPECT_EQ(p.components.size(), p.param->component.size()) << p.param->id;
      }
    }
    EXPECT_TRUE(std::is_sorted(params->begin(), params->end(),
                               [](const CompiledParam& a, const CompiledParam& b) {
                                 return a.param->code < b.param->code;
                               }))
        << type;
  }
  EXPECT_EQ(pairs, r.pair_count());
  EXPECT_EQ(r.skipped_count(SkipReason::kCompileError), 0u);
  EXPECT_EQ(r.skipped_count(SkipReason::kSpecial), 1u);  // Location near
  // _content and _query on every type, _text on the 143 DomainResource types.
  EXPECT_EQ(r.skipped_count(SkipReason::kNoExpression), 146u * 2 + 143u);
}

TEST(IndexRegistryTest, ExpressionsAreTheTypesOwn) {
  const IndexRegistry& r = IndexRegistry::Get();
  auto find = [&](std::string_view type, std::string_view code) -> const CompiledParam* {
    for (const CompiledParam& p : *r.ForType(type)) {
      if (p.param->code == code) return &p;
    }
    return nullptr;
  };
  const CompiledParam* patient = find("Observation", "patient");
  ASSERT_NE(patient, nullptr);
  EXPECT_EQ(patient->expression.text(), "Observation.subject.where(resolve() is Patient)");
  const CompiledParam* id = find("Observation", "_id");
  ASSERT_NE(id, nullptr);
  EXPECT_EQ(id->expression.text(), "Resource.id");
  EXPECT_EQ(find("Binary", "_text"), nullptr);  // Binary is not a DomainResource
  EXPECT_EQ(r.ForType("Nope"), nullptr);
  EXPECT_EQ(r.ForType("DomainResource"), nullptr);
  EXPECT_EQ(r.TypeName("Patient"), "Patient");
  EXPECT_EQ(r.TypeName("Nope"), "");
}

TEST(IndexRegistryTest, InvalidDataIsAnError) {
  EXPECT_FALSE(IndexRegistry::Create("not json").ok());
  EXPECT_FALSE(IndexRegistry::Create(R"({"resourceTypes": {}, "params": []})").ok());
}

// Extraction shares the registry and the compiled expressions between threads.
TEST(IndexRegistryTest, ConcurrentExtractionMatchesSequential) {
  CRS_REQUIRE_SHARED_DATA();
  std::vector<json::value> resources;
  for (const char* name : {"Patient-example.json", "Observation-blood-pressure.json",
                           "Condition-f201.json", "Bundle-bundle-transaction.json",
                           "AuditEvent-example.json", "Consent-consent-example-basic.json"}) {
    resources.push_back(testing::ReadExample(name));
  }
  std::vector<size_t> expected;
  for (const json::value& v : resources) expected.push_back(ExtractIndex(v)->RowCount());
  std::vector<std::thread> threads;
  std::vector<int> mismatches(4, 0);
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&, t] {
      for (int i = 0; i < 200; ++i) {
        size_t k = static_cast<size_t>(i + t) % resources.size();
        Result<IndexEntries> r = ExtractIndex(resources[k]);
        if (!r.ok() || r->RowCount() != expected[k]) ++mismatches[static_cast<size_t>(t)];
      }
    });
  }
  for (std::thread& t : threads) t.join();
  for (int m : mismatches) EXPECT_EQ(m, 0);
}

}  // namespace
}  // namespace crs::fhir::index
