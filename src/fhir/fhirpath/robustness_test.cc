// Hostile and garbled input: nothing may crash, hang or recurse without bound.
// Every case either compiles and evaluates, or returns an error. Deterministic
// (fixed seeds), so a failure reproduces.
#include <gtest/gtest.h>

#include <pthread.h>

#include <random>

#include "fhir/fhirpath/fhirpath.h"
#include "fhir/fhirpath/parser.h"
#include "fhir/fhirpath/test_support.h"

namespace crs::fhirpath {
namespace {

namespace json = boost::json;

class RobustnessTest : public ::testing::Test {
 protected:
  void SetUp() override {
    patient_ = testing::ReadJson(
        testing::SharedPath("fhirpath-tests/input-json-fhirpathjs/patient-example.json"));
    typed_.types = &testing::R4Types();
    typed_.max_items = 20000;
    untyped_.max_items = 20000;
  }

  // Compiles and evaluates both typed and untyped; returns whether it compiled.
  bool Exercise(std::string_view expr) {
    auto e = Compile(expr);
    if (!e.ok()) {
      EXPECT_EQ(e.status().code(), Code::kInvalid);
      EXPECT_FALSE(e.status().message().empty());
      return false;
    }
    for (const EvalContext* ctx : {&typed_, &untyped_}) {
      auto r = Evaluate(*e, patient_, *ctx);
      if (!r.ok()) {
        EXPECT_EQ(r.status().code(), Code::kInvalid) << expr;
      }
    }
    return true;
  }

  json::value patient_;
  EvalContext typed_;
  EvalContext untyped_;
};

std::string Repeat(std::string_view s, int n) {
  std::string out;
  for (int i = 0; i < n; ++i) out += s;
  return out;
}

TEST_F(RobustnessTest, DeepNestingIsRefusedNotOverflowed) {
  const int n = 5000;  // deep, yet inside the length limit
  for (const std::string& expr : {
           Repeat("(", n) + "1" + Repeat(")", n),
           Repeat("-", n) + "1",
           "1" + Repeat(" + 1", n),
           "name" + Repeat(".given", n),
           Repeat("iif(true, ", n) + "1" + Repeat(")", n),
           Repeat("{}.where(", n) + "true" + Repeat(")", n),
           "name" + Repeat("[0]", n),
           Repeat("1 | ", n) + "1",
           Repeat("true and ", n) + "true",
       }) {
    auto e = Compile(expr);
    ASSERT_FALSE(e.ok());
    EXPECT_NE(e.status().message().find("nested too deeply"), std::string::npos)
        << e.status().message().substr(0, 200);
  }
  // Just inside the limit still works.
  int ok = kMaxExpressionDepth / 2;
  EXPECT_TRUE(Exercise(Repeat("(", ok) + "1" + Repeat(")", ok)));
  EXPECT_TRUE(Exercise("1" + Repeat(" + 1", ok)));
  EXPECT_TRUE(Exercise("name" + Repeat(".given", ok)));
}

// The deepest expressions accepted evaluate within a 256 KiB stack (worker threads
// often get less than the main thread's 8 MiB).
TEST_F(RobustnessTest, DeepestExpressionsFitSmallStacks) {
#if defined(__SANITIZE_ADDRESS__)
  const size_t kStack = 8 * 1024 * 1024;  // sanitizer frames are several times larger
#else
  const size_t kStack = 256 * 1024;
#endif
  // Each form at (nearly) the deepest nesting the parser accepts.
  int d = kMaxExpressionDepth - 3;
  std::vector<std::string> exprs = {
      Repeat("name.where(", d / 2) + "true" + Repeat(")", d / 2),
      Repeat("iif(true, ", d) + "1" + Repeat(")", d),
      Repeat("{}.select(", d / 2) + "1" + Repeat(")", d / 2),
      Repeat("(1 + ", d / 2) + "1" + Repeat(")", d / 2),
      Repeat("-(", d / 2) + "1" + Repeat(")", d / 2),
      Repeat("2.power(", d / 2) + "0" + Repeat(")", d / 2),
      Repeat("(1).aggregate(", d / 2) + "$total" + Repeat(")", d / 2),
      Repeat("exists(", d) + "true" + Repeat(")", d),
      "1" + Repeat(" + 1", d),
      "name" + Repeat(".given", d),
  };
  for (const std::string& expr : exprs) {
    auto e = Compile(expr);
    ASSERT_TRUE(e.ok()) << e.status().ToString() << " in " << expr.substr(0, 40);
    struct Job {
      const Expression* e;
      const json::value* doc;
      const EvalContext* ctx;
      bool ok = false;
      std::string error;
    } job{&*e, &patient_, &typed_, false, {}};
    pthread_attr_t attr;
    pthread_attr_init(&attr);
    pthread_attr_setstacksize(&attr, kStack);
    pthread_t thread;
    ASSERT_EQ(pthread_create(&thread, &attr, [](void* p) -> void* {
      auto* j = static_cast<Job*>(p);
      auto r = Evaluate(*j->e, *j->doc, *j->ctx);
      j->ok = r.ok();
      if (!r.ok()) j->error = r.status().ToString();
      return nullptr;
    }, &job), 0);
    pthread_join(thread, nullptr);
    pthread_attr_destroy(&attr);
    EXPECT_TRUE(job.ok) << expr.substr(0, 60) << ": " << job.error;
  }
}

TEST_F(RobustnessTest, OversizedInputIsRefused) {
  std::string huge(kMaxExpressionLength + 1, 'a');
  EXPECT_FALSE(Compile(huge).ok());
  std::string long_string = "'" + std::string(50000, 'x') + "'.length()";
  EXPECT_TRUE(Exercise(long_string));
}

TEST_F(RobustnessTest, RunawayComputationsStop) {
  for (const char* expr : {
           "'x'.repeat($this + $this)",
           "'x'.repeat($this & $this & $this)",
           "Patient.repeat(children())",
           "Patient.descendants().descendants().descendants()",
           "(1|2|3|4|5|6|7|8|9|10).select((1|2|3|4|5|6|7|8|9|10).select((1|2|3|4|5|6|7|8|9|10)"
           ".select((1|2|3|4|5|6|7|8|9|10).select(1))))",
           "('aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa!').matches('(a+)+$')",
           "('aaaa').replace('', 'aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa').replace('', "
           "'aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa').replace('', 'aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa')",
           "(1 | 2).aggregate($total & $total & 'x', 'y')",
       }) {
    Exercise(expr);
  }
}

TEST_F(RobustnessTest, RandomTokenSequences) {
  static const char* const kTokens[] = {
      "Patient", "name", "given", "family", "telecom", "value", "extension", "birthDate", "(",
      ")", "[", "]", "{", "}", ".", ",", "+", "-", "*", "/", "&", "|", "=", "!=", "~", "!~",
      "<", ">", "<=", ">=", "and", "or", "xor", "implies", "is", "as", "in", "contains", "div",
      "mod", "true", "false", "1", "2.5", "0", "'a'", "'Peter'", "@2015-02-04", "@T14:00",
      "@2015T", "4 'mg'", "3 days", "$this", "$index", "$total", "%resource", "%context",
      "%ucum", "where(", "select(", "exists(", "all(", "repeat(", "ofType(", "iif(", "first()",
      "last()", "count()", "empty()", "not()", "children()", "descendants()", "resolve()",
      "toString()", "toInteger()", "substring(", "matches(", "replace(", "aggregate(", "sort(",
      "type()", "extension(", "lowBoundary()", "String", "Quantity", "HumanName", "FHIR",
      "System", "`given`", "``", "%``", "%''", "is(``)", "`", "'", "@", "$", "%"};
  std::mt19937 rng(20240229);
  std::uniform_int_distribution<size_t> pick(0, std::size(kTokens) - 1);
  std::uniform_int_distribution<int> length(1, 25);
  int compiled = 0;
  const int kCases = 20000;
  for (int i = 0; i < kCases; ++i) {
    std::string expr;
    for (int n = length(rng); n > 0; --n) {
      expr += kTokens[pick(rng)];
      expr += ' ';
    }
    compiled += Exercise(expr);
  }
  std::cout << "random token sequences: " << compiled << " of " << kCases << " compiled\n";
  EXPECT_GT(compiled, 100);
}

// Well-formed random expressions from a small grammar: most compile, so this
// drives the evaluator through odd combinations of types and functions.
class Generator {
 public:
  explicit Generator(uint32_t seed) : rng_(seed) {}

  std::string Expr(int depth) {
    if (depth <= 0 || Roll(4) == 0) return Term(depth);
    static const char* const kOps[] = {"+", "-", "*", "/", "div", "mod", "&", "|", "=", "!=",
                                       "~", "!~", "<", ">", "<=", ">=", "and", "or", "xor",
                                       "implies", "in", "contains"};
    switch (Roll(5)) {
      case 0: return "(" + Expr(depth - 1) + ")";
      case 1: return Expr(depth - 1) + " is " + Type();
      case 2: return "(" + Expr(depth - 1) + " as " + Type() + ")";
      case 3: return Expr(depth - 1) + "." + Call(depth - 1);
      default: return Expr(depth - 1) + " " + kOps[Roll(std::size(kOps))] + " " + Expr(depth - 1);
    }
  }

 private:
  size_t Roll(size_t n) { return rng_() % n; }

  std::string Type() {
    static const char* const kTypes[] = {"String", "Integer", "Decimal", "Boolean", "Date",
                                         "Quantity", "HumanName", "string", "code", "Patient",
                                         "FHIR.date", "System.DateTime"};
    return kTypes[Roll(std::size(kTypes))];
  }

  std::string Term(int depth) {
    static const char* const kTerms[] = {
        "name", "name.given", "telecom", "birthDate", "gender", "active", "deceased",
        "Patient.name.family", "contact.name", "identifier.period.start", "{}", "1", "-2",
        "3.14", "true", "'Peter'", "''", "@2015-02-04", "@2015-02-04T14:34:28Z", "@T10:30",
        "4 'mg'", "2 weeks", "$this", "$index", "%resource", "%ucum", "text.div",
        "extension", "birthDate.extension.value", "managingOrganization"};
    if (depth > 0 && Roll(3) == 0) return Call(depth - 1);
    return kTerms[Roll(std::size(kTerms))];
  }

  std::string Call(int depth) {
    static const char* const kNullary[] = {
        "empty()", "exists()", "count()", "first()", "last()", "tail()", "distinct()",
        "isDistinct()", "single()", "not()", "allTrue()", "anyFalse()", "children()",
        "descendants()", "toString()", "toInteger()", "toDecimal()", "toBoolean()", "toDate()",
        "toDateTime()", "toTime()", "toQuantity()", "convertsToDecimal()", "upper()", "lower()",
        "length()", "toChars()", "trim()", "abs()", "ceiling()", "floor()", "exp()", "ln()",
        "sqrt()", "truncate()", "round()", "type()", "hasValue()", "getValue()", "resolve()",
        "lowBoundary()", "highBoundary()", "precision()", "now()", "today()", "sort()"};
    static const char* const kUnary[] = {
        "where", "select", "exists", "all", "repeat", "skip", "take", "intersect", "exclude",
        "union", "combine", "subsetOf", "supersetOf", "indexOf", "substring", "startsWith",
        "endsWith", "contains", "matches", "split", "join", "log", "power", "round", "extension",
        "aggregate", "sort", "trace", "memberOf", "toQuantity"};
    if (depth <= 0 || Roll(2) == 0) return kNullary[Roll(std::size(kNullary))];
    if (Roll(8) == 0) return "iif(" + Expr(depth) + ", " + Expr(depth) + ", " + Expr(depth) + ")";
    if (Roll(8) == 0) return "replace(" + Expr(depth) + ", " + Expr(depth) + ")";
    return std::string(kUnary[Roll(std::size(kUnary))]) + "(" + Expr(depth) + ")";
  }

  std::mt19937 rng_;
};

TEST_F(RobustnessTest, RandomWellFormedExpressions) {
  Generator gen(1234);
  int compiled = 0;
  const int kCases = 20000;
  for (int i = 0; i < kCases; ++i) compiled += Exercise(gen.Expr(4));
  std::cout << "random well-formed expressions: " << compiled << " of " << kCases
            << " compiled\n";
  EXPECT_GT(compiled, kCases * 9 / 10);
}

TEST_F(RobustnessTest, MutatedSuiteExpressions) {
  json::value suite = testing::ReadJson(
      testing::SharedPath("fhirpath-tests/fhir-r4.fhirpathjs-converted.json"));
  std::vector<std::string> expressions;
  std::function<void(const json::value&)> collect = [&](const json::value& v) {
    if (v.is_array()) {
      for (const auto& x : v.get_array()) collect(x);
    } else if (v.is_object()) {
      if (const auto* e = v.get_object().if_contains("expression")) {
        expressions.emplace_back(e->get_string());
      } else {
        for (const auto& kv : v.get_object()) collect(kv.value());
      }
    }
  };
  collect(suite);
  ASSERT_GT(expressions.size(), 900u);
  static const std::string kAlphabet = "()[]{}.,'`@$%+-*/&|=~!<>0123456789 aZ_\\\"\n\x01\xff\xc3";
  std::mt19937 rng(42);
  int compiled = 0, total = 0;
  for (const std::string& original : expressions) {
    for (int m = 0; m < 12; ++m) {
      std::string e = original;
      int edits = 1 + static_cast<int>(rng() % 3);
      for (int k = 0; k < edits && !e.empty(); ++k) {
        size_t pos = rng() % e.size();
        switch (rng() % 4) {
          case 0: e.erase(pos, 1); break;
          case 1: e.insert(pos, 1, kAlphabet[rng() % kAlphabet.size()]); break;
          case 2: e[pos] = kAlphabet[rng() % kAlphabet.size()]; break;
          default: e.resize(pos); break;
        }
      }
      ++total;
      compiled += Exercise(e);
    }
  }
  std::cout << "mutated suite expressions: " << compiled << " of " << total << " compiled\n";
}

TEST_F(RobustnessTest, RandomBytes) {
  std::mt19937 rng(7);
  for (int i = 0; i < 5000; ++i) {
    std::string e(rng() % 40, '\0');
    for (char& c : e) c = static_cast<char>(rng() & 0xFF);
    Exercise(e);
  }
}

TEST_F(RobustnessTest, HostileDocuments) {
  // Deep JSON (as deep as Boost.JSON parses by default allows, and deeper via
  // construction), wrong JSON kinds where the model expects others.
  json::value deep = json::object{{"resourceType", "Patient"}};
  json::value* cur = &deep;
  for (int i = 0; i < 5000; ++i) {
    cur->as_object()["contained"] = json::array{json::object{{"resourceType", "Patient"}}};
    cur = &cur->as_object()["contained"].as_array()[0];
  }
  auto e = Compile("descendants().count() > 0 and (contained = contained) and contained ~ contained");
  ASSERT_TRUE(e.ok());
  auto r = Evaluate(*e, deep, typed_);
  EXPECT_TRUE(r.ok() || r.status().code() == Code::kInvalid);

  json::value odd = json::parse(R"({"resourceType":"Patient","name":"not an array",
      "birthDate":12,"active":"yes","telecom":[null,1,"x",{"value":[]}],"_gender":[1,2],
      "deceasedBoolean":{"x":1},"multipleBirthInteger":1e300})");
  for (const char* x : {"name.given", "birthDate < today()", "active.not()", "telecom.value",
                        "gender.extension", "deceased = false", "multipleBirth + 1",
                        "descendants()", "children().toString()", "birthDate.lowBoundary()"}) {
    auto c = Compile(x);
    ASSERT_TRUE(c.ok()) << x;
    for (const EvalContext* ctx : {&typed_, &untyped_}) {
      auto res = Evaluate(*c, odd, *ctx);
      if (!res.ok()) {
        EXPECT_EQ(res.status().code(), Code::kInvalid);
      }
    }
  }
}

}  // namespace
}  // namespace crs::fhirpath
