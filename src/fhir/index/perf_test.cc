// Timing of extraction (it runs on every create and update) and of compiling the
// registry. Reports figures; asserts only results, never times (machines differ).
#include <gtest/gtest.h>
#include <time.h>

#include <chrono>
#include <iomanip>
#include <iostream>

#include "fhir/index/extract.h"
#include "fhir/index/fulltext.h"
#include "fhir/index/registry.h"
#include "fhir/index/test_support.h"

namespace crs::fhir::index {
namespace {

namespace json = boost::json;

// CPU time of this thread: the machines that run the tests are shared, and wall time
// would count other processes' turns.
double ThreadCpuMicros() {
  timespec ts;
  clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
  return static_cast<double>(ts.tv_sec) * 1e6 + static_cast<double>(ts.tv_nsec) / 1e3;
}

double MicrosPerExtraction(const json::value& resource, size_t* rows) {
  constexpr int kWarmup = 50;
  int iterations = 2000;
  for (int i = 0; i < kWarmup; ++i) {
    Result<IndexEntries> r = ExtractIndex(resource);
    EXPECT_TRUE(r.ok());
    *rows = r.ok() ? r->RowCount() : 0;
  }
  double start = ThreadCpuMicros();
  for (int i = 0; i < iterations; ++i) {
    Result<IndexEntries> r = ExtractIndex(resource);
    if (!r.ok()) ADD_FAILURE() << r.status().ToString();
  }
  return (ThreadCpuMicros() - start) / iterations;
}

// The first resource of `type` in a Synthea bundle.
json::value SyntheaResource(const std::string& type) {
  json::value bundle = testing::ReadJson(
      testing::SharedPath("synthea/smart-generated-sample-data-R4/"
                          "Alexis_Toy_68cd1181-6359-4047-a77f-a165d7912480.json"));
  for (const json::value& e : bundle.at("entry").as_array()) {
    if (e.at("resource").at("resourceType").as_string() == type) return e.at("resource");
  }
  ADD_FAILURE() << "no " << type;
  return {};
}

TEST(PerfTest, BuildRegistry) {
  auto start = std::chrono::steady_clock::now();
  Result<std::unique_ptr<SearchParamRegistry>> params =
      SearchParamRegistry::Parse(IndexRegistry::EmbeddedData());
  auto parsed = std::chrono::steady_clock::now();
  Result<std::unique_ptr<IndexRegistry>> registry =
      IndexRegistry::Create(IndexRegistry::EmbeddedData());
  auto built = std::chrono::steady_clock::now();
  ASSERT_TRUE(params.ok() && registry.ok());
  double parse_ms = std::chrono::duration<double, std::milli>(parsed - start).count();
  double build_ms = std::chrono::duration<double, std::milli>(built - parsed).count();
  std::cout << "registry: " << (*registry)->pair_count() << " (parameter, type) pairs; parse "
            << std::fixed << std::setprecision(1) << parse_ms << " ms, parse + compile all "
            << build_ms << " ms\n";
  EXPECT_GT((*registry)->pair_count(), 1706u);
}

TEST(PerfTest, ExtractionTimings) {
  CRS_REQUIRE_SHARED_DATA();
  struct Case {
    const char* label;
    json::value resource;
  };
  Case cases[] = {
      {"Synthea Patient", SyntheaResource("Patient")},
      {"Synthea Observation", SyntheaResource("Observation")},
      {"Synthea Encounter", SyntheaResource("Encounter")},
      {"Synthea ExplanationOfBenefit", SyntheaResource("ExplanationOfBenefit")},
      {"official Patient-example", testing::ReadExample("Patient-example.json")},
      {"official Observation-blood-pressure",
       testing::ReadExample("Observation-blood-pressure.json")},
      {"official Bundle-bundle-transaction",
       testing::ReadExample("Bundle-bundle-transaction.json")},
  };
  for (const Case& c : cases) {
    size_t rows = 0;
    double us = MicrosPerExtraction(c.resource, &rows);
    std::cout << std::left << std::setw(40) << c.label << std::right << std::fixed
              << std::setprecision(1) << std::setw(8) << us << " us CPU/resource  " << rows
              << " rows, " << json::serialize(c.resource).size() << " bytes\n";
    EXPECT_GT(rows, 0u) << c.label;
  }
}

// ExtractFullText runs on writes only when the node keeps the full-text
// index (crs serve --fulltext), on top of ExtractIndex.
TEST(PerfTest, FullTextExtractionTimings) {
  CRS_REQUIRE_SHARED_DATA();
  struct Case {
    const char* label;
    json::value resource;
  };
  Case cases[] = {
      {"Synthea Patient", SyntheaResource("Patient")},
      {"Synthea Observation", SyntheaResource("Observation")},
      {"Synthea ExplanationOfBenefit", SyntheaResource("ExplanationOfBenefit")},
      {"official Patient-example", testing::ReadExample("Patient-example.json")},
  };
  for (const Case& c : cases) {
    FullTextRow row;
    for (int i = 0; i < 50; ++i) row = ExtractFullText(c.resource);
    constexpr int kIterations = 2000;
    double start = ThreadCpuMicros();
    for (int i = 0; i < kIterations; ++i) row = ExtractFullText(c.resource);
    double us = (ThreadCpuMicros() - start) / kIterations;
    std::cout << std::left << std::setw(40) << c.label << std::right << std::fixed
              << std::setprecision(1) << std::setw(8) << us << " us CPU/resource  "
              << row.content.size() << " bytes of words, " << row.narrative.size()
              << " of narrative\n";
    EXPECT_FALSE(row.content.empty()) << c.label;
  }
}

}  // namespace
}  // namespace crs::fhir::index
