// Data-driven validator tests over the public data in ../shared (CRS_SHARED_DIR): the
// official R4 examples, the reference validator's test cases, Synthea output, and a
// timing report. Each test skips when its data is missing.
#include <gtest/gtest.h>

#include <algorithm>
#include <boost/json.hpp>
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <map>
#include <optional>
#include <set>
#include <sstream>
#include <string>
#include <vector>

#include "fhir/outcome.h"
#include "fhir/validator.h"

namespace crs::fhir {
namespace {

namespace fs = std::filesystem;

const fs::path kShared = CRS_SHARED_DIR;

std::optional<std::string> ReadFile(const fs::path& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return std::nullopt;
  std::stringstream text;
  text << in.rdbuf();
  return text.str();
}

std::vector<Issue> ErrorsOf(const std::vector<Issue>& issues) {
  std::vector<Issue> errors;
  for (const Issue& issue : issues) {
    if (issue.severity == Severity::kError || issue.severity == Severity::kFatal) {
      errors.push_back(issue);
    }
  }
  return errors;
}

std::string Dump(const std::vector<Issue>& issues, size_t limit = 10) {
  std::string out;
  for (size_t i = 0; i < issues.size() && i < limit; ++i) out += "  " + ToString(issues[i]) + "\n";
  return out;
}

// Parses and validates a document the way the server will: strict JSON, then the model.
std::vector<Issue> Check(const std::string& text) {
  std::vector<Issue> issues;
  Result<boost::json::value> parsed = ParseJson(text, &issues);
  if (parsed.ok()) (void)Validate(*parsed, &issues);
  return ErrorsOf(issues);
}

std::vector<fs::path> JsonFiles(const fs::path& dir, std::string_view extension = ".json") {
  std::vector<fs::path> files;
  for (const auto& entry : fs::directory_iterator(dir)) {
    if (entry.path().extension() == extension) files.push_back(entry.path());
  }
  std::sort(files.begin(), files.end());
  return files;
}

// --- The 89 official R4 examples ------------------------------------------------------

TEST(OfficialExamplesTest, AllValidateWithoutErrors) {
  const fs::path dir = kShared / "fhir-r4-examples";
  if (!fs::is_directory(dir)) GTEST_SKIP() << "shared data missing: " << dir;
  // Examples that are genuinely invalid per the spec, with the reason. None so far; an
  // entry here must keep failing, so the list cannot go stale.
  const std::map<std::string, std::string> kKnownInvalid = {};
  size_t count = 0;
  for (const fs::path& file : JsonFiles(dir)) {
    ++count;
    std::vector<Issue> errors = Check(*ReadFile(file));
    std::string name = file.filename().string();
    if (kKnownInvalid.count(name)) {
      EXPECT_FALSE(errors.empty()) << name << " is listed as invalid but validates";
    } else {
      EXPECT_TRUE(errors.empty()) << name << "\n" << Dump(errors);
    }
  }
  EXPECT_EQ(count, 89u);
}

// --- The reference validator's cases ----------------------------------------------------
//
// Scope rule. A case is in scope when
//   1. its input is a JSON document (.json; XML and NDJSON inputs are excluded), and its
//      expected OperationOutcome (expected-java/) exists;
//   2. it is not run with an option that changes a rule we implement: "allow-comments"
//      (we parse strict JSON) or "validateContains" other than CHECK_VALID (we always
//      validate contained resources fully); other options only change rules we do not
//      implement;
//   3. the reference either accepts it (no error-level issue: then we must accept it
//      too), or rejects it with at least one issue of a kind we check (kInScope below:
//      then we must reject it, and report each such issue at or below its location).
//      A case the reference rejects only for kinds we do not check (terminology,
//      invariants, references and bundle rules, XHTML, extension and profile lookup,
//      markdown, attachment sizes, ...) is excluded: we accept it by design.
// The test prints the in-scope and excluded cases, each with the reason.

struct Pattern {
  const char* text;  // substring of the reference's message
  bool syntax;       // JSON syntax error: reported without a location by us
};

const Pattern kInScope[] = {
    {"Error parsing JSON", true},
    {"Comments are not allowed in JSON", true},
    {"A Comma is missing", true},
    {"extra comma", true},
    {"has no quotes around", true},
    {"Unrecognized property", false},
    {"must be a JSON Array", false},
    {"Array cannot be empty", false},
    {"The JSON array for", false},
    {"The property '", false},  // "The property 'value' is invalid" in a _name object
    {"minimum required =", false},
    {"Invalid Resource id", false},
    {"Not a valid date", false},
    {"If a date has a time, it must have a timezone", false},
    {"not a valid Base64", false},
    {"not valid base64", false},
    {"longer than permitted maximum length", false},
    {"Extensions are not allowed on Resource.id", false},
};

struct ExpectedIssue {
  std::string message;
  std::string location;  // normalised: "/*Type/id*/" comments removed
  bool syntax = false;
};

std::string NormaliseLocation(std::string location) {
  for (size_t start; (start = location.find("/*")) != std::string::npos;) {
    size_t end = location.find("*/", start);
    if (end == std::string::npos) break;
    location.erase(start, end + 2 - start);
  }
  while (!location.empty() && location.back() == '.') location.pop_back();
  return location;
}

// True when one of `ours` is at `location` or beneath it.
bool ReportedAt(const std::vector<Issue>& ours, const std::string& location) {
  return std::any_of(ours.begin(), ours.end(), [&](const Issue& issue) {
    if (!issue.location.starts_with(location)) return false;
    if (issue.location.size() == location.size()) return true;
    char next = issue.location[location.size()];
    return next == '.' || next == '[';
  });
}

// What the reference validator said about one case.
struct ReferenceOutcome {
  bool rejects = false;
  std::vector<ExpectedIssue> checked;        // error-level issues of kinds we check
  std::vector<std::string> error_locations;  // of every error-level issue
  std::string first_unchecked;               // message of the first other error
};

ReferenceOutcome ReadOutcome(const boost::json::value& outcome) {
  ReferenceOutcome out;
  const boost::json::value* issues = outcome.as_object().if_contains("issue");
  if (issues == nullptr) return out;  // no issues at all: accepted
  for (const boost::json::value& issue : issues->as_array()) {
    const boost::json::object& i = issue.as_object();
    std::string_view severity = i.at("severity").as_string();
    if (severity != "error" && severity != "fatal") continue;
    out.rejects = true;
    std::string message;
    if (const auto* details = i.if_contains("details")) {
      if (const auto* text = details->as_object().if_contains("text")) message = text->as_string();
    }
    std::string location;
    if (const auto* expr = i.if_contains("expression"); expr && !expr->as_array().empty()) {
      location = NormaliseLocation(std::string(expr->as_array()[0].as_string()));
    }
    out.error_locations.push_back(location);
    const Pattern* match = nullptr;
    for (const Pattern& p : kInScope) {
      if (message.find(p.text) != std::string::npos) match = &p;
    }
    if (match != nullptr) {
      out.checked.push_back({message, location, match->syntax});
    } else if (out.first_unchecked.empty()) {
      out.first_unchecked = message;
    }
  }
  return out;
}

// The expected outcome of a manifest entry. The manifest names
// "java/R4.<name>-base.json"; a few files lack the "-base".
std::optional<std::string> ReadExpected(const fs::path& dir, std::string java) {
  java = java.substr(java.find('/') + 1);
  std::optional<std::string> text = ReadFile(dir / "expected-java" / java);
  if (!text)
    text = ReadFile(dir / "expected-java" / (java.substr(0, java.size() - 5) + "-base.json"));
  return text;
}

struct CaseResult {
  std::string name;
  std::string detail;
};

TEST(ValidatorCasesTest, AgreesWithTheReferenceOnBaseStructure) {
  const fs::path dir = kShared / "fhir-validator-cases";
  std::optional<std::string> manifest_text = ReadFile(dir / "manifest-r4-base-subset.json");
  if (!manifest_text) GTEST_SKIP() << "shared data missing: " << dir;
  boost::json::value manifest = boost::json::parse(*manifest_text);

  std::vector<CaseResult> in_scope, excluded;
  size_t accepted = 0, rejected = 0, passed = 0, located = 0, to_locate = 0;
  for (const boost::json::value& entry : manifest.as_array()) {
    const boost::json::object& c = entry.as_object();
    std::string name(c.at("name").as_string());
    std::string file(c.at("file").as_string());
    if (!file.ends_with(".json")) {
      excluded.push_back({name, file.ends_with(".xml") ? "XML input" : "NDJSON input"});
      continue;
    }
    std::optional<std::string> expected_text =
        ReadExpected(dir, std::string(c.at("java").as_string()));
    if (!expected_text) {
      excluded.push_back({name, "no expected outcome in expected-java/"});
      continue;
    }
    const boost::json::value* contains = c.if_contains("validateContains");
    if (c.contains("allow-comments") || (contains && *contains != "CHECK_VALID")) {
      excluded.push_back({name, "runs with an option that changes a rule we check"});
      continue;
    }
    ReferenceOutcome reference = ReadOutcome(boost::json::parse(*expected_text));
    std::vector<Issue> ours = Check(*ReadFile(dir / "cases" / file));

    // Whatever the scope, we never report an error where the reference reports none:
    // each of ours lies at or beneath one of its error locations (or is a syntax error).
    for (const Issue& issue : ours) {
      bool matched = std::any_of(reference.error_locations.begin(), reference.error_locations.end(),
                                 [&](const std::string& l) { return ReportedAt({issue}, l); });
      EXPECT_TRUE(matched || (issue.location.empty() && reference.rejects))
          << name << ": the reference reports nothing at " << ToString(issue);
    }
    if (reference.rejects && reference.checked.empty()) {
      excluded.push_back(
          {name, "rejected only for unchecked rules: " + reference.first_unchecked.substr(0, 90)});
      continue;
    }

    bool ok = reference.rejects == !ours.empty();
    reference.rejects ? ++rejected : ++accepted;
    for (const ExpectedIssue& e : reference.checked) {
      if (e.syntax) continue;
      ++to_locate;
      if (ReportedAt(ours, e.location)) {
        ++located;
      } else {
        ADD_FAILURE() << name << ": nothing reported at " << e.location << " for \"" << e.message
                      << "\"\n"
                      << Dump(ours);
      }
    }
    std::string detail = reference.rejects ? "reference rejects" : "reference accepts";
    EXPECT_TRUE(ok) << name << ": " << detail << ", we found " << ours.size() << " errors\n"
                    << Dump(ours);
    if (ok) ++passed;
    in_scope.push_back({name, detail + (ok ? ", agree" : ", DISAGREE")});
  }

  std::printf(
      "validator cases in scope: %zu (%zu accepted and %zu rejected by the reference); "
      "agreeing: %zu; in-scope reference issues reported at their location: %zu/%zu\n",
      in_scope.size(), accepted, rejected, passed, located, to_locate);
  for (const CaseResult& r : in_scope)
    std::printf("  in  %-45s %s\n", r.name.c_str(), r.detail.c_str());
  for (const CaseResult& r : excluded)
    std::printf("  out %-45s %s\n", r.name.c_str(), r.detail.c_str());
  EXPECT_GE(in_scope.size(), 40u);
  EXPECT_EQ(passed, in_scope.size());
}

// --- Synthea ---------------------------------------------------------------------------

TEST(SyntheaTest, BundlesAndBulkFilesValidate) {
  const fs::path bundles = kShared / "synthea" / "smart-generated-sample-data-R4";
  const fs::path bulk = kShared / "synthea" / "smart-bulk-ndjson" / "10-patients";
  if (!fs::is_directory(bundles) || !fs::is_directory(bulk)) {
    GTEST_SKIP() << "shared data missing: " << kShared / "synthea";
  }
  size_t documents = 0;
  for (const fs::path& file : JsonFiles(bundles)) {
    ++documents;
    std::vector<Issue> errors = Check(*ReadFile(file));
    EXPECT_TRUE(errors.empty()) << file.filename() << "\n" << Dump(errors);
  }
  for (const fs::path& file : JsonFiles(bulk, ".ndjson")) {
    std::istringstream lines(*ReadFile(file));
    for (std::string line; std::getline(lines, line);) {
      if (line.empty()) continue;
      ++documents;
      std::vector<Issue> errors = Check(line);
      EXPECT_TRUE(errors.empty()) << file.filename() << " line " << documents << "\n"
                                  << Dump(errors);
    }
  }
  EXPECT_GT(documents, 20u);
}

// --- Hostile input ---------------------------------------------------------------------

// Replaces a pseudo-randomly chosen node of `v` with `replacement`; returns false when the
// walk reached no node to replace.
bool ReplaceNode(boost::json::value& v, uint64_t& seed, const boost::json::value& replacement) {
  seed = seed * 6364136223846793005ULL + 1442695040888963407ULL;
  if (auto* object = v.if_object(); object && !object->empty()) {
    auto it = object->begin() + (seed >> 33) % object->size();
    if ((seed >> 20) % 3 == 0 || !ReplaceNode(it->value(), seed, replacement)) {
      it->value() = replacement;
    }
    return true;
  }
  if (auto* array = v.if_array(); array && !array->empty()) {
    auto& item = (*array)[(seed >> 33) % array->size()];
    if ((seed >> 20) % 3 == 0 || !ReplaceNode(item, seed, replacement)) item = replacement;
    return true;
  }
  return false;
}

// Type-confused and byte-mutated variants of every official example: validation must
// finish without crashing, and every replacement that breaks the JSON form is caught.
TEST(HostileInputTest, MutatedExamplesFailCleanly) {
  const fs::path dir = kShared / "fhir-r4-examples";
  if (!fs::is_directory(dir)) GTEST_SKIP() << "shared data missing: " << dir;
  const boost::json::value replacements[] = {nullptr,
                                             boost::json::array(),
                                             boost::json::object(),
                                             "",
                                             1.5,
                                             -7,
                                             true,
                                             "x y",
                                             boost::json::parse(R"([null])"),
                                             boost::json::parse(R"({"resourceType":"Patient"})")};
  uint64_t seed = 42;
  size_t rejected = 0, runs = 0;
  for (const fs::path& file : JsonFiles(dir)) {
    std::string text = *ReadFile(file);
    boost::json::value original = boost::json::parse(text);
    for (size_t r = 0; r < std::size(replacements); ++r) {
      boost::json::value mutated = original;
      ReplaceNode(mutated, seed, replacements[r]);
      std::vector<Issue> issues;
      Status status = Validate(mutated, &issues);
      ++runs;
      if (!status.ok()) ++rejected;
      // null, [] and {} are never valid FHIR JSON values.
      if (r < 3) {
        EXPECT_FALSE(status.ok()) << file.filename() << " with " << replacements[r];
      }
    }
    for (int i = 0; i < 20; ++i) {
      std::string bytes = text;
      seed = seed * 6364136223846793005ULL + 1442695040888963407ULL;
      bytes[(seed >> 33) % bytes.size()] = static_cast<char>(seed >> 56);
      std::vector<Issue> issues;
      (void)ParseAndValidate(bytes, &issues);
      ++runs;
    }
  }
  std::printf("hostile input: %zu runs, %zu type-confused documents rejected\n", runs, rejected);
}

// --- Timing (reported, not asserted) ---------------------------------------------------

double MicrosPerValidation(const boost::json::value& resource) {
  using Clock = std::chrono::steady_clock;
  std::vector<Issue> issues;
  size_t iterations = 0;
  auto start = Clock::now();
  auto elapsed = Clock::duration::zero();
  while (elapsed < std::chrono::milliseconds(200)) {
    for (int i = 0; i < 100; ++i) {
      issues.clear();
      (void)Validate(resource, &issues);
    }
    iterations += 100;
    elapsed = Clock::now() - start;
  }
  return std::chrono::duration<double, std::micro>(elapsed).count() / iterations;
}

TEST(ValidatorTimingTest, ReportsPatientValidationTime) {
  std::optional<std::string> example =
      ReadFile(kShared / "fhir-r4-examples" / "Patient-example.json");
  std::optional<std::string> bulk =
      ReadFile(kShared / "synthea" / "smart-bulk-ndjson" / "10-patients" / "Patient.000.ndjson");
  if (!example || !bulk) GTEST_SKIP() << "shared data missing";
  std::string synthea = bulk->substr(0, bulk->find('\n'));
  for (const auto& [label, text] :
       {std::pair<const char*, std::string>{"Patient-example.json", *example},
        {"Synthea Patient (bulk line 1)", synthea}}) {
    boost::json::value resource = boost::json::parse(text);
    std::vector<Issue> issues;
    ASSERT_TRUE(Validate(resource, &issues).ok()) << Dump(issues);
    std::printf("validate %s (%zu bytes compact): %.2f us\n", label,
                boost::json::serialize(resource).size(), MicrosPerValidation(resource));
  }
}

}  // namespace
}  // namespace crs::fhir
