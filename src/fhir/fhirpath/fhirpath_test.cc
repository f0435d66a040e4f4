// Engine behaviour beyond the official suite: the API, typed and untyped
// navigation, resolve(), callbacks, variables, errors, and thread safety.
#include "fhir/fhirpath/fhirpath.h"

#include <gtest/gtest.h>

#include <atomic>
#include <deque>
#include <thread>

#include "fhir/fhirpath/test_support.h"

namespace crs::fhirpath {
namespace {

namespace json = boost::json;

const char* kObservation = R"({
  "resourceType": "Observation", "id": "obs1", "status": "final",
  "contained": [{"resourceType": "Patient", "id": "p1", "gender": "female"}],
  "code": {"coding": [{"system": "http://loinc.org", "code": "29463-7"}]},
  "subject": {"reference": "Patient/123"},
  "performer": [{"reference": "#p1"}, {"reference": "http://example.org/fhir/Practitioner/9/_history/2"},
                {"reference": "urn:uuid:0a2b"}],
  "effectiveDateTime": "2016-03-28T09:30:00+01:00",
  "valueQuantity": {"value": 185, "unit": "lbs", "system": "http://unitsofmeasure.org", "code": "[lb_av]"},
  "component": [{"code": {"text": "a"}, "valueString": "x"}, {"code": {"text": "b"}, "valueInteger": 3}]
})";

const char* kPatient = R"({
  "resourceType": "Patient", "id": "pat",
  "birthDate": "1974-12-25",
  "_birthDate": {"extension": [{"url": "http://hl7.org/fhir/StructureDefinition/patient-birthTime",
                                "valueDateTime": "1974-12-25T14:35:45-05:00"}]},
  "name": [{"family": "Chalmers", "given": ["Peter", null, "James"],
            "_given": [null, {"extension": [{"url": "u", "valueString": "five"}]}]}],
  "telecom": [{"system": "phone", "value": "1"}, {"system": "email", "value": "a@b"}],
  "deceasedBoolean": false,
  "multipleBirthInteger": 2
})";

class FhirPathTest : public ::testing::Test {
 protected:
  Result<Collection> Run(std::string_view expr, const json::value& root, bool typed = true) {
    auto e = Compile(expr);
    if (!e.ok()) return e.status();
    ctx_.types = typed ? &testing::R4Types() : nullptr;
    return Evaluate(*e, root, ctx_);
  }

  // The results as System values ("'x'", "3", "@2015"), complex nodes as their type
  // and JSON; or "error: ...".
  std::vector<std::string> Text(std::string_view expr, const char* json_text, bool typed = true) {
    documents_.push_back(json::parse(json_text));
    auto r = Run(expr, documents_.back(), typed);
    if (!r.ok()) return {"error: " + r.status().message()};
    std::vector<std::string> out;
    for (const Item& item : *r) {
      std::optional<Item> v = ToSystemValue(item);
      out.push_back(v ? v->DebugString() : item.DebugString());
    }
    return out;
  }

  // The FHIR types of the results ("" for System values).
  std::vector<std::string> Types(std::string_view expr, const char* json_text) {
    documents_.push_back(json::parse(json_text));
    auto r = Run(expr, documents_.back(), true);
    if (!r.ok()) return {"error: " + r.status().message()};
    std::vector<std::string> out;
    for (const Item& item : *r) out.emplace_back(item.fhir_type());
    return out;
  }

  std::vector<std::string> Both(std::string_view expr, const char* json_text) {
    auto typed = Text(expr, json_text, true);
    auto untyped = Text(expr, json_text, false);
    EXPECT_EQ(typed, untyped) << expr;
    return typed;
  }

  EvalContext ctx_;
  std::deque<json::value> documents_;
};

using Strings = std::vector<std::string>;

TEST_F(FhirPathTest, NavigatesWithoutCopying) {
  json::value doc = json::parse(kPatient);
  auto r = Run("Patient.name.family", doc);
  ASSERT_TRUE(r.ok());
  ASSERT_EQ(r->size(), 1u);
  const Item& family = (*r)[0];
  ASSERT_TRUE(family.is_node());
  EXPECT_EQ(family.node(), &doc.at("name").at(0).at("family"));
  EXPECT_EQ(family.fhir_type(), "string");
}

TEST_F(FhirPathTest, ChoiceElements) {
  EXPECT_EQ(Both("Observation.value.unit", kObservation), Strings{"'lbs'"});
  EXPECT_EQ(Types("Observation.value | Observation.value.unit", kObservation),
            (Strings{"Quantity", "string"}));
  EXPECT_EQ(Text("Observation.value.type().name", kObservation), Strings{"'Quantity'"});
  EXPECT_EQ(Text("Observation.effective is dateTime", kObservation), Strings{"true"});
  EXPECT_EQ(Both("Observation.component.value", kObservation), (Strings{"'x'", "3"}));
  EXPECT_EQ(Types("Observation.component.value", kObservation), (Strings{"string", "integer"}));
  // JSON spells the choice valueQuantity; FHIRPath calls the element value.
  EXPECT_EQ(Text("Observation.valueQuantity", kObservation), Strings{});
  ctx_.strict = true;
  EXPECT_EQ(Text("Observation.valueQuantity", kObservation),
            Strings{"error: FHIRPath evaluation error: unknown element 'valueQuantity' on Observation"});
}

TEST_F(FhirPathTest, TypeOperators) {
  EXPECT_EQ(Both("(Observation.value as Quantity).value", kObservation), Strings{"185"});
  EXPECT_EQ(Both("Observation.value.ofType(Quantity).code", kObservation), Strings{"'[lb_av]'"});
  EXPECT_EQ(Text("Observation.value is Quantity", kObservation), Strings{"true"});
  EXPECT_EQ(Text("Observation.value is Period", kObservation), Strings{"false"});
  EXPECT_EQ(Text("Observation.subject.ofType(Reference).reference", kObservation),
            Strings{"'Patient/123'"});
  // `as` filters collections, as R4 search parameters and invariants expect; strict
  // mode insists on a single item.
  EXPECT_EQ(Both("(Observation.component.value as string)", kObservation), Strings{"'x'"});
  EXPECT_EQ(Both("Observation.component.value.as(string)", kObservation), Strings{"'x'"});
  ctx_.strict = true;
  EXPECT_EQ(Text("Observation.component.value.as(string)", kObservation).at(0).substr(0, 6), "error:");
  ctx_.strict = false;
  EXPECT_EQ(Text("Observation.value.as(Quantityy)", kObservation).at(0),
            "error: FHIRPath evaluation error: unknown type Quantityy");
}

TEST_F(FhirPathTest, PrimitiveExtensions) {
  EXPECT_EQ(Both("Patient.birthDate.extension('http://hl7.org/fhir/StructureDefinition/patient-birthTime')"
                 ".value.toString()",
                 kPatient),
            Strings{"'1974-12-25T14:35:45-05:00'"});
  // A null given with an extension is an item without a value.
  EXPECT_EQ(Both("Patient.name.given.count()", kPatient), Strings{"3"});
  EXPECT_EQ(Both("Patient.name.given.select($this.hasValue())", kPatient),
            (Strings{"true", "false", "true"}));
  EXPECT_EQ(Both("Patient.name.given[1].extension.value", kPatient), Strings{"'five'"});
  EXPECT_EQ(Types("Patient.name.given[1].extension", kPatient), Strings{"Extension"});
}

TEST_F(FhirPathTest, PrimitivesConvertByFhirType) {
  EXPECT_EQ(Text("Patient.birthDate < @2000-01-01", kPatient), Strings{"true"});
  EXPECT_EQ(Text("Patient.birthDate = @1974-12-25", kPatient), Strings{"true"});
  // Untyped strings read as dates when compared with one.
  EXPECT_EQ(Text("Patient.birthDate < @2000-01-01", kPatient, false), Strings{"true"});
  EXPECT_EQ(Both("Observation.effective > @2016-03-28T08:00:00Z", kObservation), Strings{"true"});
  EXPECT_EQ(Both("Patient.deceased.exists() and Patient.deceased != false", kPatient),
            Strings{"false"});
  EXPECT_EQ(Both("Patient.multipleBirth + 1", kPatient), Strings{"3"});
}

TEST_F(FhirPathTest, ResolveWithoutCallbackGivesTypedStubs) {
  EXPECT_EQ(Both("Observation.subject.where(resolve() is Patient).reference", kObservation),
            Strings{"'Patient/123'"});
  EXPECT_EQ(Both("Observation.subject.resolve().id", kObservation), Strings{});
  // Contained resources resolve to their content.
  EXPECT_EQ(Both("Observation.performer[0].resolve().gender", kObservation), Strings{"'female'"});
  // Absolute and versioned references still carry their type.
  EXPECT_EQ(Both("Observation.performer[1].resolve() is Practitioner", kObservation),
            Strings{"true"});
  EXPECT_EQ(Both("Observation.performer[2].resolve()", kObservation), Strings{});
}

TEST_F(FhirPathTest, ResolveCallbackAndBundles) {
  json::value target = json::parse(R"({"resourceType":"Patient","id":"123","gender":"male"})");
  ctx_.resolve = [&](std::string_view ref) -> const json::value* {
    return ref == "Patient/123" ? &target : nullptr;
  };
  EXPECT_EQ(Text("Observation.subject.resolve().gender", kObservation), Strings{"'male'"});
  ctx_.resolve = nullptr;

  json::value bundle = json::parse(R"({"resourceType":"Bundle","type":"collection","entry":[
      {"fullUrl":"urn:uuid:0a2b","resource":{"resourceType":"Practitioner","id":"x","active":true}},
      {"fullUrl":"http://s/Patient/123","resource":{"resourceType":"Patient","id":"123","active":false}}]})");
  json::value obs = json::parse(kObservation);
  ctx_.root_resource = &bundle;
  auto r = Run("Observation.performer[2].resolve().active | Observation.subject.resolve().active", obs);
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  ASSERT_EQ(r->size(), 2u);
  EXPECT_EQ(ToSystemValue((*r)[0])->DebugString(), "true");
  EXPECT_EQ(ToSystemValue((*r)[1])->DebugString(), "false");
}

TEST_F(FhirPathTest, VariablesAndCallbacks) {
  ctx_.variables["limit"] = Collection{Item::Integer(2)};
  EXPECT_EQ(Text("Patient.telecom.count() = %limit", kPatient), Strings{"true"});
  EXPECT_EQ(Text("%resource.id | %context.id | %rootResource.id", kPatient), Strings{"'pat'"});
  EXPECT_EQ(Text("%`vs-administrative-gender`", kPatient),
            Strings{"'http://hl7.org/fhir/ValueSet/administrative-gender'"});
  EXPECT_EQ(Text("%nope", kPatient), Strings{"error: FHIRPath evaluation error: undefined variable %nope"});

  EXPECT_EQ(Text("Patient.telecom.system.memberOf('http://vs')", kPatient).at(0).substr(0, 6), "error:");
  EXPECT_EQ(Text("Patient.telecom.system.first().memberOf('http://vs')", kPatient), Strings{});
  ctx_.member_of = [](const Item& coded, std::string_view vs) -> std::optional<bool> {
    return vs == "http://vs" && ToSystemValue(coded)->string() == "phone";
  };
  EXPECT_EQ(Text("Patient.telecom.system.first().memberOf('http://vs')", kPatient), Strings{"true"});

  std::vector<std::string> traced;
  ctx_.trace = [&](std::string_view name, const Collection& items) {
    traced.push_back(std::string(name) + ":" + std::to_string(items.size()));
  };
  EXPECT_EQ(Text("Patient.telecom.trace('t', system).count()", kPatient), Strings{"2"});
  EXPECT_EQ(traced, Strings{"t:2"});

  ctx_.now = *DateTimeValue::ParseDateTime("2024-02-29T23:59:59.500Z");
  EXPECT_EQ(Text("now() | today() | timeOfDay()", kPatient),
            (Strings{"@2024-02-29T23:59:59.500Z", "@2024-02-29", "@T23:59:59.500"}));
  EXPECT_EQ(Text("today() - 1 year", kPatient), Strings{"@2023-02-28"});
}

TEST_F(FhirPathTest, NumbersAndQuantities) {
  const char* none = "{}";
  EXPECT_EQ(Text("1.0 = 1.00 and 1.2 * 1.8 = 2.16 and 0.1 + 0.2 = 0.3", none), Strings{"true"});
  EXPECT_EQ(Text("10 / 4", none), Strings{"2.5"});
  EXPECT_EQ(Text("7 div 2 | 7 mod 2 | -7 div 2", none), (Strings{"3", "1", "-3"}));
  EXPECT_EQ(Text("1.5 'kg' > 1499 'g'", none), Strings{"true"});
  EXPECT_EQ(Text("Observation.value > 80 'kg'", kObservation), Strings{"true"});
  EXPECT_EQ(Text("Observation.value < 84 'kg'", kObservation), Strings{"true"});
  EXPECT_EQ(Text("(3 'mg' + 2 'g').toString()", none), Strings{"'2003 'mg''"});
  EXPECT_EQ(Text("1 'cm' = 1 's'", none), Strings{});
  EXPECT_EQ(Text("9223372036854775807 + 1", none), Strings{});
}

TEST_F(FhirPathTest, CompileErrorsAreClear) {
  auto expect_error = [](std::string_view expr, std::string_view fragment) {
    auto e = Compile(expr);
    ASSERT_FALSE(e.ok()) << expr;
    EXPECT_EQ(e.status().code(), Code::kInvalid);
    EXPECT_NE(e.status().message().find(fragment), std::string::npos) << e.status().message();
  };
  expect_error("Patient.name.", "offset 13");
  expect_error("Patient.name.frobnicate()", "unknown function 'frobnicate'");
  expect_error("Patient.name.where()", "wrong number of arguments to where()");
  expect_error("'unterminated", "unterminated string");
  expect_error("@2015-13-01", "invalid date/time literal");
  expect_error("1 +", "unexpected 'end of expression'");
  expect_error("(1", "expected ')'");
  expect_error("Patient.is(1)", "expected a type name");
  expect_error("99999999999999999999", "out of range");
}

TEST_F(FhirPathTest, EvaluationErrors) {
  EXPECT_EQ(Text("Patient.telecom.system + 1", kPatient).at(0),
            "error: FHIRPath evaluation error: + expects a single item, got 2");
  EXPECT_EQ(Text("Patient.telecom.single()", kPatient).at(0),
            "error: FHIRPath evaluation error: single() expects a single item, got 2");
  EXPECT_EQ(Text("'a' < 1", kPatient).at(0),
            "error: FHIRPath evaluation error: cannot compare 'a' with 1");
  EXPECT_EQ(Text("Patient.name.matches('(')", kPatient).at(0).substr(0, 6), "error:");
}

TEST_F(FhirPathTest, EmptyExpressionAndCollectionInput) {
  Expression empty;
  json::value doc = json::parse(kPatient);
  auto r = Evaluate(empty, doc, ctx_);
  ASSERT_TRUE(r.ok());
  EXPECT_TRUE(r->empty());

  // Invariants evaluate on an element inside the resource.
  auto e = Compile("family.exists() and given.count() >= 1");
  ASSERT_TRUE(e.ok());
  Collection names{Item::Node(&doc.at("name").at(0), nullptr, "HumanName", "HumanName")};
  ctx_.resource = &doc;
  ctx_.types = &testing::R4Types();
  auto inv = Evaluate(*e, names, ctx_);
  ASSERT_TRUE(inv.ok());
  ASSERT_EQ(inv->size(), 1u);
  EXPECT_TRUE((*inv)[0].boolean());
}

TEST_F(FhirPathTest, ItemBudgetStopsRunawayEvaluation) {
  ctx_.max_items = 50;
  auto r = Text("Observation.descendants().descendants().descendants()", kObservation);
  EXPECT_NE(r.at(0).find("items produced"), std::string::npos) << r.at(0);
}

TEST_F(FhirPathTest, ConformsToCoreProfiles) {
  EXPECT_EQ(Text("conformsTo('http://hl7.org/fhir/StructureDefinition/DomainResource')", kPatient),
            Strings{"true"});
  EXPECT_EQ(Text("conformsTo('http://hl7.org/fhir/StructureDefinition/Observation')", kPatient),
            Strings{"false"});
  ctx_.conforms_to = [](const Item&, std::string_view url) -> std::optional<bool> {
    if (url == "http://example.org/profile") return true;
    return std::nullopt;
  };
  EXPECT_EQ(Text("conformsTo('http://example.org/profile')", kPatient), Strings{"true"});
}

TEST_F(FhirPathTest, SharedExpressionAcrossThreads) {
  auto e = Compile("Observation.value.where(value > 100).code | Observation.code.coding.code");
  ASSERT_TRUE(e.ok());
  json::value doc = json::parse(kObservation);
  EvalContext ctx;
  ctx.types = &testing::R4Types();
  std::vector<std::thread> threads;
  std::atomic<int> good{0};
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&] {
      for (int i = 0; i < 2000; ++i) {
        auto r = Evaluate(*e, doc, ctx);
        if (r.ok() && r->size() == 2) ++good;
      }
    });
  }
  for (auto& t : threads) t.join();
  EXPECT_EQ(good.load(), 8000);
}

}  // namespace
}  // namespace crs::fhirpath
