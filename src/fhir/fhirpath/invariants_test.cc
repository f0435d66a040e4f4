// The R4 invariants (ElementDefinition.constraint.expression in the official
// StructureDefinitions) are FHIRPath too: all must compile, and those on resource
// roots are evaluated against the official examples. Reports how many hold; the
// validator will run these on every write later.
#include <gtest/gtest.h>

#include <dirent.h>

#include <iostream>
#include <map>
#include <set>

#include "fhir/fhirpath/ast.h"
#include "fhir/fhirpath/fhirpath.h"
#include "fhir/fhirpath/test_support.h"

namespace crs::fhirpath {
namespace {

namespace json = boost::json;

struct Invariant {
  std::string key;
  std::string path;  // element path the constraint sits on
  std::string expression;
};

std::vector<Invariant> LoadInvariants() {
  std::vector<Invariant> out;
  std::set<std::pair<std::string, std::string>> seen;
  for (const char* file : {"fhir-r4/profiles-resources.json", "fhir-r4/profiles-types.json"}) {
    json::value bundle = testing::ReadJson(testing::SharedPath(file));
    for (const auto& e : bundle.at("entry").as_array()) {
      const json::object& r = e.at("resource").as_object();
      const json::value* snapshot = r.if_contains("snapshot");
      if (snapshot == nullptr) continue;
      for (const auto& el : snapshot->at("element").as_array()) {
        const json::value* constraints = el.as_object().if_contains("constraint");
        if (constraints == nullptr) continue;
        std::string path(el.at("path").as_string());
        for (const auto& c : constraints->as_array()) {
          const json::value* x = c.as_object().if_contains("expression");
          if (x == nullptr) continue;
          std::string expr(x->as_string());
          if (!seen.insert({path, expr}).second) continue;
          out.push_back({std::string(c.at("key").as_string()), path, expr});
        }
      }
    }
  }
  return out;
}

TEST(InvariantsTest, AllR4InvariantsCompile) {
  std::vector<Invariant> invariants = LoadInvariants();
  std::set<std::string> distinct;
  int max_height = 0;
  for (const Invariant& inv : invariants) {
    distinct.insert(inv.expression);
    auto e = Compile(inv.expression);
    EXPECT_TRUE(e.ok()) << inv.key << ": " << e.status().ToString();
    if (e.ok()) max_height = std::max<int>(max_height, e->root()->height);
  }
  std::cout << "R4 invariants: " << invariants.size() << " (element, expression) pairs, "
            << distinct.size() << " distinct expressions, all compile; deepest tree "
            << max_height << " levels\n";
  EXPECT_GT(distinct.size(), 150u);
}

struct Tally {
  size_t evaluated = 0, held = 0, failed = 0, errors = 0;
  std::map<std::string, int> failures;  // key -> count
  std::map<std::string, int> empties;   // key -> count of empty (unknown) results
};

bool Holds(const Collection& r) {
  if (r.empty()) return true;
  if (r.size() != 1) return false;
  std::optional<Item> v = ToSystemValue(r[0]);
  return v && v->kind() == ItemKind::kBoolean && v->boolean();
}

std::vector<std::string> ExampleFiles() {
  std::string dir = testing::SharedPath("fhir-r4-examples");
  std::vector<std::string> names;
  if (DIR* d = opendir(dir.c_str())) {
    while (dirent* ent = readdir(d)) {
      std::string n = ent->d_name;
      if (n.size() > 5 && n.substr(n.size() - 5) == ".json") names.push_back(dir + "/" + n);
    }
    closedir(d);
  }
  std::sort(names.begin(), names.end());
  return names;
}

// Evaluates every invariant whose element path starts at a resource type on every
// instance of that element in the official examples (and the resources inside the
// example Bundles), as a validator would.
TEST(InvariantsTest, InvariantsOnOfficialExamples) {
  std::vector<Invariant> invariants = LoadInvariants();
  const TypeProvider& types = testing::R4Types();
  EvalContext ctx;
  ctx.types = &types;
  Tally t;
  std::map<std::string, Expression> compiled;
  auto compile = [&](const std::string& text) -> const Expression& {
    auto it = compiled.find(text);
    if (it == compiled.end()) it = compiled.emplace(text, *Compile(text)).first;
    return it->second;
  };
  std::vector<json::value> docs;
  for (const std::string& file : ExampleFiles()) docs.push_back(testing::ReadJson(file));
  struct Target {
    const json::value* resource;
    const json::value* root;
    std::string name;
  };
  std::vector<Target> targets;
  for (size_t i = 0; i < docs.size(); ++i) {
    targets.push_back({&docs[i], &docs[i], "#" + std::to_string(i)});
    if (const json::value* entries = docs[i].as_object().if_contains("entry")) {
      for (const json::value& e : entries->as_array()) {
        if (const json::value* r = e.as_object().if_contains("resource")) {
          targets.push_back({r, &docs[i], "#" + std::to_string(i) + "/entry"});
        }
      }
    }
  }
  for (const Target& target : targets) {
    std::string type(target.resource->at("resourceType").as_string());
    for (const Invariant& inv : invariants) {
      std::string root = inv.path.substr(0, inv.path.find('.'));
      bool applies = root == type || root == "Resource" ||
                     (root == "DomainResource" && type != "Bundle" && type != "Binary" &&
                      type != "Parameters");
      if (!applies) continue;
      // The element instances the invariant is about.
      std::string path = inv.path;
      if (path.size() > 3 && path.substr(path.size() - 3) == "[x]") path.resize(path.size() - 3);
      std::string relative = path.find('.') == std::string::npos ? "" : path.substr(path.find('.') + 1);
      Collection focus;
      ctx.resource = target.resource;
      ctx.root_resource = target.root;
      if (relative.empty()) {
        focus.push_back(ResourceItem(*target.resource));
      } else {
        auto f = Evaluate(compile(relative), *target.resource, ctx);
        ASSERT_TRUE(f.ok()) << relative;
        focus = std::move(*f);
      }
      const Expression& e = compile(inv.expression);
      for (const Item& item : focus) {
        ++t.evaluated;
        auto r = Evaluate(e, Collection{item}, ctx);
        if (!r.ok()) {
          ++t.errors;
          ADD_FAILURE() << inv.key << " on " << type << ": " << r.status().message();
        } else if (Holds(*r)) {
          ++t.held;
          if (r->empty()) ++t.empties[inv.key];
        } else {
          ++t.failed;
          ++t.failures[inv.key];
        }
      }
    }
  }
  std::cout << "R4 invariants on the official examples: " << t.evaluated << " evaluations, "
            << t.held << " hold, " << t.failed << " do not, " << t.errors << " errors\n";
  for (const auto& [key, count] : t.failures) {
    std::cout << "  " << key << " does not hold " << count << " time(s)\n";
  }
  for (const auto& [key, count] : t.empties) {
    std::cout << "  " << key << " evaluates to empty " << count << " time(s)\n";
  }
  EXPECT_EQ(t.errors, 0u);
  EXPECT_EQ(t.failed, 0u);
  // ../shared/DATA.md: bdl-8 (fullUrl.contains('/_history/').not()) is empty, not true,
  // on entries without a fullUrl; a validator that reads empty as false rejects the
  // official batch/transaction examples. Nothing else is ever empty.
  for (const auto& [key, count] : t.empties) EXPECT_EQ(key, "bdl-8");
}

}  // namespace
}  // namespace crs::fhirpath
