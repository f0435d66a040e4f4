// Timing of the hot path: search-index extraction evaluates a few compiled
// expressions against every resource written. Reports figures; asserts only the
// results, never the times (machines differ). FHIRPATH_PERF_VERBOSE=1 adds the
// time of each Patient search parameter.
#include <gtest/gtest.h>

#include <chrono>
#include <iomanip>
#include <iostream>

#include "fhir/fhirpath/fhirpath.h"
#include "fhir/fhirpath/test_support.h"

namespace crs::fhirpath {
namespace {

namespace json = boost::json;

// The official Patient example, grown to about 6 KB with more identifiers, names,
// telecoms and addresses, as a realistic national-record patient might carry.
json::value SixKilobytePatient() {
  json::value p = testing::ReadJson(testing::SharedPath("fhir-r4-examples/Patient-example.json"));
  json::object& o = p.as_object();
  json::array& ids = o["identifier"].as_array();
  ids.push_back(json::parse(R"({"system":"https://fhir.nhs.uk/Id/nhs-number","value":"9000000009"})"));
  json::array& telecom = o["telecom"].as_array();
  telecom.push_back(json::parse(R"({"system":"email","value":"p.chalmers@example.org","use":"home"})"));
  json::array& address = o["address"].as_array();
  for (int i = 0; json::serialize(p).size() < 6000; ++i) {
    address.push_back(json::parse(
        R"({"use":"old","type":"both","line":["12 Acacia Avenue","Flat )" + std::to_string(i) +
        R"("],"city":"Leeds","postalCode":"LS1 4AP","country":"GB","period":{"start":"2001-01-01","end":"2010-06-30"}})"));
  }
  return p;
}

double NanosPerEval(const Expression& e, const json::value& root, const EvalContext& ctx,
                    size_t* count) {
  constexpr int kWarmup = 200;
  constexpr int kIterations = 20000;
  for (int i = 0; i < kWarmup; ++i) {
    auto r = Evaluate(e, root, ctx);
    *count = r.ok() ? r->size() : 0;
  }
  auto start = std::chrono::steady_clock::now();
  for (int i = 0; i < kIterations; ++i) {
    auto r = Evaluate(e, root, ctx);
    if (!r.ok()) ADD_FAILURE() << r.status().ToString();
  }
  auto elapsed = std::chrono::steady_clock::now() - start;
  return std::chrono::duration<double, std::nano>(elapsed).count() / kIterations;
}

TEST(PerfTest, HotPathTimings) {
  json::value patient = SixKilobytePatient();
  json::value observation =
      testing::ReadJson(testing::SharedPath("fhir-r4-examples/Observation-example.json"));
  std::cout << "Patient document: " << json::serialize(patient).size() << " bytes\n";

  struct Case {
    const char* expression;
    const json::value* root;
    size_t expected;
  };
  const Case cases[] = {
      {"Patient.name.family", &patient, 2},
      {"Patient.telecom.where(system='phone')", &patient, 3},
      {"Patient.identifier.where(system='https://fhir.nhs.uk/Id/nhs-number').value", &patient, 1},
      {"Patient.birthDate", &patient, 1},
      {"Patient.address.city | Patient.address.state", &patient, 3},
      {"Observation.value as Quantity", &observation, 1},
      {"Observation.subject.where(resolve() is Patient)", &observation, 1},
      {"(Observation.value as Quantity).value > 50", &observation, 1},
  };
  EvalContext typed;
  typed.types = &testing::R4Types();
  EvalContext untyped;
  for (const Case& c : cases) {
    auto e = Compile(c.expression);
    ASSERT_TRUE(e.ok()) << c.expression;
    size_t n_typed = 0, n_untyped = 0;
    double t_typed = NanosPerEval(*e, *c.root, typed, &n_typed);
    double t_untyped = NanosPerEval(*e, *c.root, untyped, &n_untyped);
    EXPECT_EQ(n_typed, c.expected) << c.expression;
    EXPECT_EQ(n_untyped, c.expected) << c.expression;
    std::cout << std::fixed << std::setprecision(2) << "  " << std::left << std::setw(78)
              << c.expression << " typed " << std::right << std::setw(6) << t_typed / 1000
              << " us, untyped " << std::setw(6) << t_untyped / 1000 << " us\n";
  }

  // Compilation happens once per expression, at start-up.
  constexpr int kCompiles = 2000;
  auto start = std::chrono::steady_clock::now();
  for (int i = 0; i < kCompiles; ++i) {
    auto e = Compile("Patient.telecom.where(system='phone' and use != 'old').value");
    ASSERT_TRUE(e.ok());
  }
  double compile_us = std::chrono::duration<double, std::micro>(
                          std::chrono::steady_clock::now() - start).count() / kCompiles;
  std::cout << "  compile a 60-character expression: " << compile_us << " us\n";
}

// All R4 search parameters for Patient, evaluated against one Patient: the FHIRPath
// share of indexing one write.
TEST(PerfTest, AllPatientSearchParameters) {
  json::value patient = SixKilobytePatient();
  json::value bundle = testing::ReadJson(testing::SharedPath("fhir-r4/search-parameters.json"));
  std::vector<Expression> exprs;
  for (const auto& e : bundle.at("entry").as_array()) {
    const json::object& r = e.at("resource").as_object();
    bool patient_base = false;
    for (const auto& b : r.at("base").as_array()) {
      patient_base = patient_base || b.as_string() == "Patient" || b.as_string() == "Resource" ||
                     b.as_string() == "DomainResource";
    }
    const json::value* x = r.if_contains("expression");
    if (!patient_base || x == nullptr) continue;
    auto c = Compile(std::string(x->as_string()));
    ASSERT_TRUE(c.ok());
    exprs.push_back(*c);
  }
  EvalContext ctx;
  ctx.types = &testing::R4Types();
  constexpr int kIterations = 2000;
  size_t values = 0;
  auto start = std::chrono::steady_clock::now();
  for (int i = 0; i < kIterations; ++i) {
    values = 0;
    for (const Expression& e : exprs) {
      auto r = Evaluate(e, patient, ctx);
      ASSERT_TRUE(r.ok()) << e.text() << ": " << r.status().ToString();
      values += r->size();
    }
  }
  double us = std::chrono::duration<double, std::micro>(
                  std::chrono::steady_clock::now() - start).count() / kIterations;
  std::cout << "  all " << exprs.size() << " Patient search parameters on the 6 KB Patient: "
            << std::fixed << std::setprecision(1) << us << " us per resource (" << values
            << " values)\n";
  EXPECT_GT(values, 10u);
  if (getenv("FHIRPATH_PERF_VERBOSE")) {
    for (const Expression& e : exprs) {
      size_t n = 0;
      double ns = NanosPerEval(e, patient, ctx, &n);
      std::cout << "    " << std::setw(10) << ns / 1000 << " us  " << e.text() << "\n";
    }
  }
}

}  // namespace
}  // namespace crs::fhirpath
