// The official FHIRPath R4 test suite.
//
// Cases come from the JSON form of the suite (fhir-r4.fhirpathjs-converted.json,
// 935 cases, inputs in input-json-fhirpathjs/). tests-fhir-r4.xml is the
// authority: it holds the same 935 active cases in the same order (plus two
// commented out, hence "937" in its header), with what the JSON form lost: the
// types of expected outputs (date vs string, code vs string, decimal vs integer),
// predicate and strict modes, and the kind of invalidity. The runner pairs each
// JSON case with its XML twin and checks against the XML when they agree on the
// expression.
//
// Known failures live in known_failures.txt (name and reason). The test fails when
// a case not on that list fails, and reports listed cases that now pass.
// FHIRPATH_SUITE_VERBOSE=1 also prints the error behind every case that expects one,
// and the untyped run's failures.
#include <gtest/gtest.h>

#include <cmath>
#include <cstdlib>
#include <iomanip>
#include <iostream>
#include <map>
#include <set>

#include "fhir/fhirpath/fhirpath.h"
#include "fhir/fhirpath/test_support.h"
#include "fhir/fhirpath/ucum.h"

namespace crs::fhirpath {
namespace {

namespace json = boost::json;
using testing::ReadFile;
using testing::ReadJson;
using testing::SharedPath;

// --- a minimal reader for the suite's XML (well-formed, no namespaces, no CDATA) ---

std::string XmlUnescape(std::string_view s) {
  std::string out;
  for (size_t i = 0; i < s.size(); ++i) {
    if (s[i] != '&') {
      out.push_back(s[i]);
      continue;
    }
    size_t end = s.find(';', i);
    if (end == std::string_view::npos) {
      out.push_back(s[i]);
      continue;
    }
    std::string_view e = s.substr(i + 1, end - i - 1);
    if (e == "lt") out += '<';
    else if (e == "gt") out += '>';
    else if (e == "amp") out += '&';
    else if (e == "quot") out += '"';
    else if (e == "apos") out += '\'';
    else if (!e.empty() && e[0] == '#') {
      unsigned long cp = e.size() > 1 && e[1] == 'x' ? std::stoul(std::string(e.substr(2)), nullptr, 16)
                                                     : std::stoul(std::string(e.substr(1)));
      out.push_back(static_cast<char>(cp));  // the suite only escapes ASCII
    } else {
      out.append(s.substr(i, end - i + 1));
    }
    i = end;
  }
  return out;
}

std::map<std::string, std::string> XmlAttributes(std::string_view tag) {
  std::map<std::string, std::string> attrs;
  size_t i = 0;
  while (true) {
    size_t eq = tag.find('=', i);
    if (eq == std::string_view::npos) break;
    size_t name_end = eq;
    while (name_end > 0 && tag[name_end - 1] == ' ') --name_end;
    size_t name_start = tag.find_last_of(" \t\r\n", name_end - 1);
    name_start = name_start == std::string_view::npos ? 0 : name_start + 1;
    size_t q1 = tag.find('"', eq);
    size_t q2 = tag.find('"', q1 + 1);
    if (q1 == std::string_view::npos || q2 == std::string_view::npos) break;
    attrs[std::string(tag.substr(name_start, name_end - name_start))] =
        XmlUnescape(tag.substr(q1 + 1, q2 - q1 - 1));
    i = q2 + 1;
  }
  return attrs;
}

struct XmlOutput {
  std::string type;  // empty when the suite gives none
  std::string text;
};

struct XmlCase {
  std::map<std::string, std::string> attrs;  // name, inputfile, predicate, mode, ...
  std::string expression;
  std::string invalid;  // "", "syntax", "semantic", "execution"
  std::vector<XmlOutput> outputs;
};

std::vector<XmlCase> ReadXmlSuite(const std::string& path) {
  std::string text = ReadFile(path);
  // Drop comments: two of the 937 <test> elements are commented out.
  for (size_t start; (start = text.find("<!--")) != std::string::npos;) {
    size_t end = text.find("-->", start);
    text.erase(start, end == std::string::npos ? std::string::npos : end + 3 - start);
  }
  std::vector<XmlCase> cases;
  size_t pos = 0;
  while ((pos = text.find("<test ", pos)) != std::string::npos) {
    size_t tag_end = text.find('>', pos);
    size_t end = text.find("</test>", tag_end);
    XmlCase c;
    c.attrs = XmlAttributes(std::string_view(text).substr(pos + 6, tag_end - pos - 6));
    std::string_view body = std::string_view(text).substr(tag_end + 1, end - tag_end - 1);
    size_t e = body.find("<expression");
    size_t e_tag_end = body.find('>', e);
    size_t e_end = body.find("</expression>", e_tag_end);
    auto e_attrs = XmlAttributes(body.substr(e + 11, e_tag_end - e - 11));
    c.invalid = e_attrs["invalid"];
    c.expression = XmlUnescape(body.substr(e_tag_end + 1, e_end - e_tag_end - 1));
    size_t o = e_end;
    while ((o = body.find("<output", o)) != std::string_view::npos) {
      size_t o_tag_end = body.find('>', o);
      XmlOutput out;
      if (body[o_tag_end - 1] == '/') {
        o = o_tag_end;
        continue;
      }
      out.type = XmlAttributes(body.substr(o + 7, o_tag_end - o - 7))["type"];
      size_t o_end = body.find("</output>", o_tag_end);
      out.text = XmlUnescape(body.substr(o_tag_end + 1, o_end - o_tag_end - 1));
      c.outputs.push_back(std::move(out));
      o = o_end;
    }
    cases.push_back(std::move(c));
    pos = end;
  }
  return cases;
}

// --- the JSON form ---

struct Case {
  std::string name;
  std::string group;
  std::string expression;
  std::string input_file;  // empty: no input
  bool expect_error = false;
  json::array results;  // JSON form's expected values
  const XmlCase* xml = nullptr;
};

void CollectCases(const json::value& v, const std::string& group, std::vector<Case>* out) {
  if (v.is_array()) {
    for (const auto& x : v.get_array()) CollectCases(x, group, out);
    return;
  }
  if (!v.is_object()) return;
  const json::object& o = v.get_object();
  if (!o.contains("expression")) {
    for (const auto& kv : o) CollectCases(kv.value(), std::string(kv.key()), out);
    return;
  }
  Case c;
  c.group = group;
  c.expression = std::string(o.at("expression").get_string());
  std::string desc(o.at("desc").get_string());
  c.name = desc.rfind("** ", 0) == 0 ? desc.substr(3) : desc;
  if (const auto* f = o.if_contains("inputfile")) c.input_file = std::string(f->get_string());
  if (const auto* e = o.if_contains("error")) c.expect_error = e->as_bool();
  if (const auto* r = o.if_contains("result")) c.results = r->get_array();
  out->push_back(std::move(c));
}

std::string NormalizeNewlines(std::string s) {
  std::string out;
  for (char c : s) {
    if (c != '\r') out.push_back(c);
  }
  while (!out.empty() && (out.back() == ' ' || out.back() == '\n')) out.pop_back();
  while (!out.empty() && (out.front() == ' ' || out.front() == '\n')) out.erase(out.begin());
  return out;
}

// --- comparing results ---

std::string Canonical(const Item& v) {
  switch (v.kind()) {
    case ItemKind::kBoolean: return v.boolean() ? "true" : "false";
    case ItemKind::kInteger: return std::to_string(v.integer());
    case ItemKind::kDecimal: return v.decimal().ToString();
    case ItemKind::kString: return std::string(v.string());
    case ItemKind::kDate:
    case ItemKind::kDateTime: return "@" + v.date_time().ToString();
    case ItemKind::kTime: return "@T" + v.date_time().ToString();
    case ItemKind::kQuantity: return ucum::FormatQuantity(v.decimal(), v.unit());
    default: return v.DebugString();
  }
}

// Does an item match an XML <output>? Typed outputs need the type to match (a FHIR
// type such as code or id needs a node of exactly that type); untyped outputs are
// compared by their text, precision included ("1.58650000").
bool MatchesXml(const Item& got, const XmlOutput& want) {
  std::optional<Item> v = ToSystemValue(got);
  if (!v) return false;
  const std::string& t = want.type;
  if (t.empty()) return Canonical(*v) == want.text;
  static const std::set<std::string> kSystemLike = {"boolean", "integer", "decimal", "string",
                                                     "date",    "dateTime", "time", "Quantity"};
  if (!kSystemLike.count(t)) {
    // A FHIR type such as code or id: the item must be a node of that type.
    if (!got.is_node() || got.fhir_type() != t) return false;
  }
  if (t == "boolean") return v->kind() == ItemKind::kBoolean && Canonical(*v) == want.text;
  if (t == "integer") return v->kind() == ItemKind::kInteger && Canonical(*v) == want.text;
  if (t == "decimal") {
    auto d = Decimal::Parse(want.text);
    if (!d) return false;
    if (v->kind() == ItemKind::kDecimal) return v->decimal() == *d;
    return false;
  }
  if (t == "date") return v->kind() == ItemKind::kDate && Canonical(*v) == want.text;
  if (t == "dateTime") return v->kind() == ItemKind::kDateTime && Canonical(*v) == want.text;
  if (t == "time") return v->kind() == ItemKind::kTime && Canonical(*v) == want.text;
  if (t == "Quantity") return v->kind() == ItemKind::kQuantity && Canonical(*v) == want.text;
  return v->kind() == ItemKind::kString && v->string() == want.text;
}

bool MatchesJson(const Item& got, const json::value& want) {
  std::optional<Item> v = ToSystemValue(got);
  if (!v) return false;
  if (want.is_bool()) return v->kind() == ItemKind::kBoolean && v->boolean() == want.get_bool();
  if (want.is_number()) {
    auto d = want.is_double() ? Decimal::FromDouble(want.get_double())
                              : Decimal::Parse(json::serialize(want));
    if (v->kind() == ItemKind::kInteger) return d && Decimal::FromInt(v->integer()) == *d;
    if (v->kind() == ItemKind::kDecimal) return d && v->decimal() == *d;
    return false;
  }
  if (want.is_string()) {
    std::string c = Canonical(*v);
    if (!c.empty() && c[0] == '@') c = c.substr(c[1] == 'T' ? 2 : 1);
    return c == want.get_string();
  }
  return false;
}

struct Outcome {
  bool pass = false;
  std::string detail;
};

class SuiteRunner {
 public:
  explicit SuiteRunner(const TypeProvider* types) : types_(types) {}

  Outcome Run(const Case& c) {
    const XmlCase* x = c.xml;
    bool expect_error = x ? !x->invalid.empty() : c.expect_error;
    bool has_outputs = x ? !x->outputs.empty() : !c.results.empty();
    auto expr = Compile(c.expression);
    if (!expr.ok()) {
      return {expect_error, "compile: " + expr.status().message()};
    }
    EvalContext ctx;
    ctx.types = types_;
    ctx.strict = x && x->attrs.count("mode") && x->attrs.at("mode") == "strict";
    Result<Collection> result = Status::Invalid("unset");
    if (c.input_file.empty()) {
      result = Evaluate(*expr, Collection{}, ctx);
    } else {
      const json::value& input = Input(c.input_file);
      result = Evaluate(*expr, input, ctx);
    }
    if (!result.ok()) return {expect_error, "eval: " + result.status().message()};
    if (expect_error && !has_outputs) return {false, "expected an error, got " + Show(*result)};
    Collection got = std::move(result).value();
    if (x && x->attrs.count("predicate") && x->attrs.at("predicate") == "true") {
      bool b = !got.empty();
      if (got.size() == 1 && got[0].kind() == ItemKind::kBoolean) b = got[0].boolean();
      got = Collection{Item::Boolean(b)};
    }
    size_t want = x ? x->outputs.size() : c.results.size();
    if (got.size() != want) return {false, "got " + Show(got)};
    bool unordered = x && x->attrs.count("ordered") && x->attrs.at("ordered") == "false";
    std::vector<bool> used(got.size(), false);
    for (size_t i = 0; i < want; ++i) {
      bool found = false;
      for (size_t j = unordered ? 0 : i; j < (unordered ? got.size() : i + 1); ++j) {
        if (used[j]) continue;
        bool ok = x ? MatchesXml(got[j], x->outputs[i]) : MatchesJson(got[j], c.results[i]);
        if (ok) {
          used[j] = true;
          found = true;
          break;
        }
      }
      if (!found) return {false, "got " + Show(got)};
    }
    return {true, ""};
  }

 private:
  static std::string Show(const Collection& c) {
    std::string s = "[";
    for (size_t i = 0; i < c.size(); ++i) {
      if (i) s += ", ";
      s += c[i].DebugString();
      if (c[i].is_node() && !c[i].fhir_type().empty()) s += " (" + std::string(c[i].fhir_type()) + ")";
    }
    return s + "]";
  }

  const json::value& Input(const std::string& file) {
    auto it = inputs_.find(file);
    if (it != inputs_.end()) return it->second;
    std::string path = SharedPath("fhirpath-tests/input-json-fhirpathjs/" + file);
    if (ReadFile(path).empty()) path = SharedPath("fhirpath-tests/input/" + file);
    return inputs_.emplace(file, ReadJson(path)).first->second;
  }

  const TypeProvider* types_;
  std::map<std::string, json::value> inputs_;
};

std::map<std::string, std::string> ReadKnownFailures() {
  std::map<std::string, std::string> known;
  std::istringstream in(ReadFile(std::string(CRS_SOURCE_DIR) + "/src/fhir/fhirpath/known_failures.txt"));
  std::string line;
  while (std::getline(in, line)) {
    size_t start = line.find_first_not_of(" \t");
    if (start == std::string::npos || line[start] == '#') continue;
    size_t end = line.find_first_of(" \t", start);
    std::string name = line.substr(start, end - start);
    std::string reason = end == std::string::npos ? "" : line.substr(end);
    known[name] = reason;
  }
  return known;
}

std::vector<Case> LoadSuite() {
  std::vector<Case> cases;
  CollectCases(ReadJson(SharedPath("fhirpath-tests/fhir-r4.fhirpathjs-converted.json")), "", &cases);
  static const std::vector<XmlCase> xml = ReadXmlSuite(SharedPath("fhirpath-tests/tests-fhir-r4.xml"));
  std::map<std::string, int> seen;
  for (size_t i = 0; i < cases.size(); ++i) {
    if (i < xml.size() &&
        NormalizeNewlines(xml[i].expression) == NormalizeNewlines(cases[i].expression)) {
      cases[i].xml = &xml[i];
      std::string name = xml[i].attrs.count("name") ? xml[i].attrs.at("name") : cases[i].name;
      // testEquivalent23 appears twice in the suite.
      if (++seen[name] > 1) name += "#" + std::to_string(seen[name]);
      cases[i].name = name;
      // The XML names the original input; its JSON rendition has the same stem.
      std::string input = xml[i].attrs.count("inputfile") ? xml[i].attrs.at("inputfile") : "";
      if (input.size() > 4 && input.substr(input.size() - 4) == ".xml") {
        input = input.substr(0, input.size() - 4) + ".json";
      }
      cases[i].input_file = input;
    }
  }
  return cases;
}

TEST(FhirPathSuiteTest, OfficialR4Suite) {
  std::vector<Case> cases = LoadSuite();
  ASSERT_EQ(cases.size(), 935u) << "the JSON form of the R4 suite has 935 cases";
  size_t paired = 0;
  for (const Case& c : cases) paired += c.xml != nullptr;
  EXPECT_EQ(paired, cases.size()) << "every JSON case should pair with its XML twin";

  std::map<std::string, std::string> known = ReadKnownFailures();
  SuiteRunner runner(&testing::R4Types());
  size_t passed = 0;
  std::vector<std::string> unexpected, fixed;
  std::set<std::string> names;
  for (const Case& c : cases) {
    names.insert(c.name);
    Outcome o = runner.Run(c);
    if (getenv("FHIRPATH_SUITE_VERBOSE") && o.pass && !o.detail.empty()) {
      std::cout << "  " << c.name << " `" << c.expression << "`: " << o.detail << "\n";
    }
    bool listed = known.count(c.name) > 0;
    if (o.pass) {
      ++passed;
      if (listed) fixed.push_back(c.name);
    } else if (!listed) {
      unexpected.push_back(c.name + " [" + c.group + "] `" + c.expression + "`: " + o.detail);
    }
  }
  double rate = 100.0 * static_cast<double>(passed) / static_cast<double>(cases.size());
  std::cout << "FHIRPath R4 suite: " << passed << "/" << cases.size() << " passed ("
            << std::fixed << std::setprecision(1) << rate << "%)\n";
  for (const std::string& f : fixed) {
    std::cout << "  listed in known_failures.txt but now passes: " << f << "\n";
  }
  for (const auto& [name, reason] : known) {
    if (!names.count(name)) std::cout << "  known_failures.txt names no such case: " << name << "\n";
  }
  for (const std::string& u : unexpected) ADD_FAILURE() << "unexpected failure: " << u;
  EXPECT_GE(rate, 95.0);
}

// The same suite without a TypeProvider: how far plain JSON navigation gets.
// Informational; only crashes or a collapse would fail it.
TEST(FhirPathSuiteTest, UntypedPassRate) {
  std::vector<Case> cases = LoadSuite();
  SuiteRunner runner(nullptr);
  size_t passed = 0;
  for (const Case& c : cases) {
    Outcome o = runner.Run(c);
    passed += o.pass;
    if (!o.pass && getenv("FHIRPATH_SUITE_VERBOSE")) {
      std::cout << "  untyped failure: " << c.name << " `" << c.expression << "`: " << o.detail << "\n";
    }
  }
  double rate = 100.0 * static_cast<double>(passed) / static_cast<double>(cases.size());
  std::cout << "FHIRPath R4 suite, untyped (no TypeProvider): " << passed << "/" << cases.size()
            << " passed (" << std::fixed << std::setprecision(1) << rate << "%)\n";
  EXPECT_GE(rate, 95.0);
}

}  // namespace
}  // namespace crs::fhirpath
