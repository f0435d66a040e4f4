// Differential test: for a sample of token parameters, the (system, code) pairs
// extraction finds equal those of an independent, naive walk of the JSON written
// here, over every official example and every Synthea resource.
#include <dirent.h>
#include <gtest/gtest.h>

#include <algorithm>
#include <iostream>
#include <set>
#include <string>
#include <vector>

#include "fhir/index/extract.h"
#include "fhir/index/test_support.h"

namespace crs::fhir::index {
namespace {

namespace json = boost::json;

enum class Leaf {
  kCoding,      // objects with system/code
  kConcept,     // CodeableConcept: its codings
  kIdentifier,  // system/value
  kPrimitive,   // a string or boolean value
};

// A parameter and the JSON paths (keys, arrays flattened) the naive walk follows.
struct Probe {
  const char* type;
  const char* param;
  std::vector<std::vector<const char*>> paths;
  Leaf leaf;
};

const Probe kProbes[] = {
    {"Observation", "code", {{"code"}}, Leaf::kConcept},
    {"Observation", "category", {{"category"}}, Leaf::kConcept},
    {"Observation", "status", {{"status"}}, Leaf::kPrimitive},
    {"Observation", "component-code", {{"component", "code"}}, Leaf::kConcept},
    {"Observation", "value-concept", {{"valueCodeableConcept"}}, Leaf::kConcept},
    {"Patient", "identifier", {{"identifier"}}, Leaf::kIdentifier},
    {"Patient", "gender", {{"gender"}}, Leaf::kPrimitive},
    {"Patient", "language", {{"communication", "language"}}, Leaf::kConcept},
    {"Condition", "code", {{"code"}}, Leaf::kConcept},
    {"Condition", "clinical-status", {{"clinicalStatus"}}, Leaf::kConcept},
    {"Condition", "category", {{"category"}}, Leaf::kConcept},
    {"Encounter", "class", {{"class"}}, Leaf::kCoding},
    {"Encounter", "type", {{"type"}}, Leaf::kConcept},
    {"Encounter", "identifier", {{"identifier"}}, Leaf::kIdentifier},
    {"Immunization", "vaccine-code", {{"vaccineCode"}}, Leaf::kConcept},
    {"MedicationRequest", "code", {{"medicationCodeableConcept"}}, Leaf::kConcept},
    {"MedicationRequest", "intent", {{"intent"}}, Leaf::kPrimitive},
    {"Procedure", "code", {{"code"}}, Leaf::kConcept},
    {"AllergyIntolerance", "code", {{"code"}, {"reaction", "substance"}}, Leaf::kConcept},
    {"AllergyIntolerance", "criticality", {{"criticality"}}, Leaf::kPrimitive},
    {"DiagnosticReport", "code", {{"code"}}, Leaf::kConcept},
    {"Claim", "use", {{"use"}}, Leaf::kPrimitive},
    {"Organization", "identifier", {{"identifier"}}, Leaf::kIdentifier},
    {"Practitioner", "identifier", {{"identifier"}}, Leaf::kIdentifier},
    {"AuditEvent", "subtype", {{"subtype"}}, Leaf::kCoding},
    {"Consent", "category", {{"category"}}, Leaf::kConcept},
};

std::string Str(const json::object& o, const char* key) {
  const json::value* v = o.if_contains(key);
  return v != nullptr && v->is_string() ? std::string(v->get_string()) : std::string();
}

void Collect(const json::value& v, Leaf leaf, std::set<std::string>* out) {
  if (v.is_array()) {
    for (const json::value& e : v.get_array()) Collect(e, leaf, out);
    return;
  }
  switch (leaf) {
    case Leaf::kPrimitive:
      if (v.is_string()) out->insert("|" + std::string(v.get_string()));
      if (v.is_bool()) out->insert(v.get_bool() ? "|true" : "|false");
      return;
    case Leaf::kCoding:
      if (v.is_object() && (!Str(v.get_object(), "code").empty())) {
        out->insert(Str(v.get_object(), "system") + "|" + Str(v.get_object(), "code"));
      }
      return;
    case Leaf::kConcept:
      if (v.is_object()) {
        if (const json::value* c = v.get_object().if_contains("coding")) {
          Collect(*c, Leaf::kCoding, out);
        }
      }
      return;
    case Leaf::kIdentifier:
      if (v.is_object()) {
        out->insert(Str(v.get_object(), "system") + "|" + Str(v.get_object(), "value"));
      }
      return;
  }
}

void Walk(const json::value& v, const std::vector<const char*>& path, size_t i, Leaf leaf,
          std::set<std::string>* out) {
  if (i == path.size()) {
    Collect(v, leaf, out);
    return;
  }
  if (v.is_array()) {
    for (const json::value& e : v.get_array()) Walk(e, path, i, leaf, out);
    return;
  }
  if (!v.is_object()) return;
  if (const json::value* next = v.get_object().if_contains(path[i])) {
    Walk(*next, path, i + 1, leaf, out);
  }
}

std::set<std::string> Extracted(const IndexEntries& e, std::string_view param) {
  std::set<std::string> out;
  for (const TokenRow& t : e.tokens) {
    // Text-only rows (CodeableConcept.text) have neither.
    if (t.param == param && !(t.code.empty() && t.system.empty())) {
      out.insert(t.system + "|" + t.code);
    }
  }
  return out;
}

std::vector<const json::value*> AllResources(std::vector<json::value>* storage) {
  auto files = [](const std::string& dir) {
    std::vector<std::string> names;
    if (DIR* d = opendir(dir.c_str())) {
      while (dirent* ent = readdir(d)) {
        std::string n = ent->d_name;
        if (n.ends_with(".json")) names.push_back(dir + "/" + n);
      }
      closedir(d);
    }
    std::sort(names.begin(), names.end());
    return names;
  };
  for (const char* dir : {"fhir-r4-examples", "synthea/smart-generated-sample-data-R4"}) {
    for (const std::string& f : files(testing::SharedPath(dir))) {
      storage->push_back(testing::ReadJson(f));
    }
  }
  std::vector<const json::value*> out;
  for (const json::value& v : *storage) {
    out.push_back(&v);
    if (const json::value* entries = v.as_object().if_contains("entry")) {
      for (const json::value& e : entries->as_array()) {
        if (const json::value* r = e.as_object().if_contains("resource")) out.push_back(r);
      }
    }
  }
  return out;
}

TEST(DifferentialTest, TokenCodesMatchANaiveWalk) {
  CRS_REQUIRE_SHARED_DATA();
  std::vector<json::value> storage;
  std::vector<const json::value*> resources = AllResources(&storage);
  size_t compared = 0, with_values = 0, mismatches = 0;
  for (const json::value* r : resources) {
    std::string type(r->at("resourceType").as_string());
    Result<IndexEntries> e = ExtractIndex(*r);
    ASSERT_TRUE(e.ok());
    for (const Probe& p : kProbes) {
      if (type != p.type) continue;
      std::set<std::string> naive;
      for (const auto& path : p.paths) Walk(*r, path, 0, p.leaf, &naive);
      std::set<std::string> mine = Extracted(*e, p.param);
      ++compared;
      if (!naive.empty()) ++with_values;
      if (naive != mine) {
        ++mismatches;
        std::string got, want;
        for (const std::string& s : mine) got += " " + s;
        for (const std::string& s : naive) want += " " + s;
        const json::value* id = r->as_object().if_contains("id");
        ADD_FAILURE() << type << "/" << (id != nullptr ? json::serialize(*id) : "") << " "
                      << p.param << ": extracted {" << got << " } naive {" << want << " }";
      }
    }
  }
  std::cout << "differential: " << compared << " (resource, parameter) pairs over "
            << resources.size() << " resources, " << with_values << " with codes, " << mismatches
            << " mismatches\n";
  EXPECT_GT(with_values, 3000u);
}

}  // namespace
}  // namespace crs::fhir::index
