// Every expression of the official R4 SearchParameters compiles, and evaluates
// without error against every official example (and every resource inside the
// example Bundles) of a type the parameter applies to. Reports how often a
// parameter yields a value: index extraction runs these on every write.
#include <gtest/gtest.h>

#include <dirent.h>

#include <iomanip>
#include <iostream>
#include <map>
#include <set>

#include "fhir/fhirpath/fhirpath.h"
#include "fhir/fhirpath/test_support.h"

namespace crs::fhirpath {
namespace {

namespace json = boost::json;
using testing::ReadJson;
using testing::SharedPath;

struct Param {
  std::string id;
  std::string expression;
  std::vector<std::string> bases;
  Expression compiled;
};

struct Example {
  std::string name;
  std::string type;
  const json::value* resource;
  const json::value* bundle;  // the Bundle holding it, if any
};

std::vector<Param> LoadParams() {
  static const json::value bundle = ReadJson(SharedPath("fhir-r4/search-parameters.json"));
  std::vector<Param> params;
  for (const auto& e : bundle.at("entry").as_array()) {
    const json::object& r = e.at("resource").as_object();
    Param p;
    p.id = std::string(r.at("id").as_string());
    if (const auto* x = r.if_contains("expression")) p.expression = std::string(x->as_string());
    for (const auto& b : r.at("base").as_array()) p.bases.emplace_back(b.as_string());
    params.push_back(std::move(p));
  }
  return params;
}

// (file name, parsed JSON) of every official example.
const std::vector<std::pair<std::string, json::value>>& ExampleFiles() {
  static const auto* files = [] {
    auto* out = new std::vector<std::pair<std::string, json::value>>();
    std::string dir = SharedPath("fhir-r4-examples");
    std::vector<std::string> names;
    if (DIR* d = opendir(dir.c_str())) {
      while (dirent* ent = readdir(d)) {
        std::string n = ent->d_name;
        if (n.size() > 5 && n.substr(n.size() - 5) == ".json") names.push_back(n);
      }
      closedir(d);
    }
    std::sort(names.begin(), names.end());
    for (const std::string& n : names) out->emplace_back(n, ReadJson(dir + "/" + n));
    return out;
  }();
  return *files;
}

std::vector<Example> Examples() {
  std::vector<Example> out;
  for (const auto& [file, f] : ExampleFiles()) {
    const json::object& o = f.as_object();
    std::string type(o.at("resourceType").as_string());
    out.push_back({file, type, &f, nullptr});
    if (type != "Bundle") continue;
    const json::value* entries = o.if_contains("entry");
    if (entries == nullptr) continue;
    int i = 0;
    for (const json::value& e : entries->as_array()) {
      const json::value* r = e.as_object().if_contains("resource");
      if (r == nullptr) continue;
      out.push_back({file + "#entry" + std::to_string(i++),
                     std::string(r->as_object().at("resourceType").as_string()), r, &f});
    }
  }
  return out;
}

bool Applies(const Param& p, const std::string& type) {
  for (const std::string& b : p.bases) {
    if (b == type || b == "Resource") return true;
    if (b == "DomainResource" && type != "Bundle" && type != "Binary" && type != "Parameters") {
      return true;
    }
  }
  return false;
}

TEST(SearchParametersTest, AllExpressionsCompile) {
  std::vector<Param> params = LoadParams();
  ASSERT_EQ(params.size(), 1375u);
  size_t with_expression = 0;
  for (Param& p : params) {
    if (p.expression.empty()) continue;
    ++with_expression;
    auto e = Compile(p.expression);
    EXPECT_TRUE(e.ok()) << p.id << ": " << e.status().ToString();
  }
  std::cout << "search parameters: " << params.size() << ", with an expression: "
            << with_expression << "\n";
}

void EvaluateAll(const TypeProvider* types, const char* label) {
  std::vector<Param> params = LoadParams();
  std::vector<Example> examples = Examples();
  size_t pairs = 0, pairs_with_value = 0, errors = 0;
  std::set<std::string> params_applicable, params_with_value;
  for (Param& p : params) {
    if (p.expression.empty()) continue;
    auto compiled = Compile(p.expression);
    ASSERT_TRUE(compiled.ok()) << p.id;
    for (const Example& ex : examples) {
      if (!Applies(p, ex.type)) continue;
      EvalContext ctx;
      ctx.types = types;
      ctx.resource = ex.resource;
      ctx.root_resource = ex.bundle != nullptr ? ex.bundle : ex.resource;
      auto r = Evaluate(*compiled, *ex.resource, ctx);
      ++pairs;
      params_applicable.insert(p.id);
      if (!r.ok()) {
        ++errors;
        ADD_FAILURE() << label << " " << p.id << " `" << p.expression << "` on " << ex.name
                      << ": " << r.status().ToString();
        continue;
      }
      if (!r->empty()) {
        ++pairs_with_value;
        params_with_value.insert(p.id);
      }
    }
  }
  std::cout << std::fixed << std::setprecision(1) << "search parameters (" << label
            << "): " << pairs << " (parameter, example) evaluations over " << examples.size()
            << " resources, " << errors << " errors, " << pairs_with_value << " with a value ("
            << 100.0 * static_cast<double>(pairs_with_value) / static_cast<double>(pairs)
            << "%); " << params_with_value.size() << " of " << params_applicable.size()
            << " applicable parameters yield a value at least once\n";
  EXPECT_EQ(errors, 0u);
  EXPECT_GT(pairs_with_value * 5, pairs) << "fewer than 20% of evaluations yield a value";
}

TEST(SearchParametersTest, EvaluateOnOfficialExamplesTyped) {
  EvaluateAll(&testing::R4Types(), "typed");
}

TEST(SearchParametersTest, EvaluateOnOfficialExamplesUntyped) { EvaluateAll(nullptr, "untyped"); }

// Typed and untyped evaluation should agree on what they find for search
// extraction; a difference points at a typing mistake.
TEST(SearchParametersTest, TypedAndUntypedAgree) {
  std::vector<Param> params = LoadParams();
  std::vector<Example> examples = Examples();
  size_t differ = 0;
  for (Param& p : params) {
    if (p.expression.empty()) continue;
    auto compiled = Compile(p.expression);
    ASSERT_TRUE(compiled.ok());
    for (const Example& ex : examples) {
      if (!Applies(p, ex.type)) continue;
      EvalContext typed, untyped;
      typed.types = &testing::R4Types();
      typed.root_resource = untyped.root_resource = ex.bundle;
      auto a = Evaluate(*compiled, *ex.resource, typed);
      auto b = Evaluate(*compiled, *ex.resource, untyped);
      if (!a.ok() || !b.ok()) continue;
      if (a->size() != b->size()) {
        ++differ;
        std::cout << "  differs: " << p.id << " on " << ex.name << ": typed " << a->size()
                  << ", untyped " << b->size() << "\n";
      }
    }
  }
  std::cout << "search parameters: typed and untyped results differ in " << differ
            << " evaluations\n";
}

}  // namespace
}  // namespace crs::fhirpath
