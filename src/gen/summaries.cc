#include "gen/summaries.h"

#include <algorithm>
#include <cstdint>
#include <initializer_list>
#include <vector>

#include "gen/dates.h"
#include "gen/json_out.h"

namespace crs::gen {
namespace {

constexpr std::string_view kSnomed = "http://snomed.info/sct";
constexpr std::string_view kLocalCodeSystem = "urn:opencrs:gen:local-code";

// SNOMED CT codes of long-term conditions (disorder concepts), with a rough
// prevalence among people at or above `min_age`, multiplied by `old_factor`
// from age 65 and by `female_factor` for women. Rates are approximations of
// QOF registers, not exact figures.
struct ConditionSpec {
  const char* code;
  const char* display;
  int min_age;
  std::uint32_t per_million;
  std::uint32_t old_factor;
  std::uint32_t female_factor;
  int meds[3];  // indices into kMedications, -1 = none
};

// Medications as CodeableConcept.text only (dm+d product names and a usual
// dose); dm+d codes are not given because they could not be checked here.
struct MedicationSpec {
  const char* name;
  const char* dosage;
};

constexpr MedicationSpec kMedications[] = {
    {"Ramipril 5mg capsules", "One capsule once a day"},                          // 0
    {"Amlodipine 5mg tablets", "One tablet once a day"},                          // 1
    {"Metformin 500mg tablets", "One tablet twice a day with food"},              // 2
    {"Insulin glargine 100units/ml solution for injection 3ml pre-filled pens",
     "Inject as directed once a day"},                                            // 3
    {"Salbutamol 100micrograms/dose inhaler CFC free", "Two puffs when required"},  // 4
    {"Beclometasone 100micrograms/dose inhaler CFC free", "Two puffs twice a day"},  // 5
    {"Tiotropium 2.5micrograms/dose solution for inhalation cartridge with device",
     "Two puffs once a day"},                                                     // 6
    {"Apixaban 5mg tablets", "One tablet twice a day"},                           // 7
    {"Bisoprolol 2.5mg tablets", "One tablet once a day"},                        // 8
    {"Atorvastatin 20mg tablets", "One tablet at night"},                         // 9
    {"Clopidogrel 75mg tablets", "One tablet once a day"},                        // 10
    {"Furosemide 40mg tablets", "One tablet in the morning"},                     // 11
    {"Sertraline 50mg tablets", "One tablet once a day"},                         // 12
    {"Levothyroxine sodium 50microgram tablets", "One tablet in the morning"},    // 13
    {"Paracetamol 500mg tablets", "Two tablets up to four times a day when required"},  // 14
    {"Levetiracetam 500mg tablets", "One tablet twice a day"},                    // 15
    {"Donepezil 10mg tablets", "One tablet at night"},                            // 16
    {"Alendronic acid 70mg tablets", "One tablet once a week"},                   // 17
    {"Aspirin 75mg dispersible tablets", "One tablet once a day"},                // 18
    {"Lansoprazole 15mg gastro-resistant capsules", "One capsule once a day"},    // 19
};

constexpr ConditionSpec kConditions[] = {
    {"38341003", "Hypertensive disorder, systemic arterial (disorder)", 30, 150000, 2, 1, {0, 1, -1}},
    {"44054006", "Diabetes mellitus type 2 (disorder)", 30, 70000, 2, 1, {2, 9, -1}},
    {"46635009", "Diabetes mellitus type 1 (disorder)", 5, 5000, 1, 1, {3, -1, -1}},
    {"195967001", "Asthma (disorder)", 3, 65000, 1, 1, {4, 5, -1}},
    {"13645005", "Chronic obstructive lung disease (disorder)", 40, 20000, 2, 1, {4, 6, -1}},
    {"49436004", "Atrial fibrillation (disorder)", 50, 25000, 3, 1, {7, 8, -1}},
    {"53741008", "Coronary arteriosclerosis (disorder)", 45, 30000, 2, 1, {9, 18, 8}},
    {"84114007", "Heart failure (disorder)", 55, 10000, 3, 1, {11, 8, 0}},
    {"35489007", "Depressive disorder (disorder)", 16, 90000, 1, 1, {12, -1, -1}},
    {"197480006", "Anxiety disorder (disorder)", 16, 60000, 1, 1, {-1, -1, -1}},
    {"40930008", "Hypothyroidism (disorder)", 20, 20000, 2, 3, {13, -1, -1}},
    {"396275006", "Osteoarthritis (disorder)", 45, 80000, 2, 1, {14, -1, -1}},
    {"709044004", "Chronic kidney disease (disorder)", 50, 30000, 2, 1, {-1, -1, -1}},
    {"84757009", "Epilepsy (disorder)", 2, 8000, 1, 1, {15, -1, -1}},
    {"52448006", "Dementia (disorder)", 65, 40000, 2, 1, {16, -1, -1}},
    {"230690007", "Cerebrovascular accident (disorder)", 50, 15000, 2, 1, {10, 9, -1}},
    {"64859006", "Osteoporosis (disorder)", 50, 10000, 2, 3, {17, -1, -1}},
};

struct AllergySpec {
  const char* code;  // empty: text only (code not checked)
  const char* display;
  const char* category;
  std::uint32_t per_million;
};

constexpr AllergySpec kAllergies[] = {
    {"91936005", "Allergy to penicillin (finding)", "medication", 80000},
    {"91935009", "Allergy to peanut (finding)", "food", 15000},
    {"300916003", "Latex allergy (finding)", "environment", 5000},
    {"91930004", "Allergy to eggs (finding)", "food", 5000},
    {"", "Allergy to codeine", "medication", 10000},
    {"", "Allergy to ibuprofen", "medication", 10000},
    {"", "Allergy to trimethoprim", "medication", 8000},
    {"", "Allergy to house dust mite", "environment", 10000},
};

void Begin(std::string& b, std::string_view type, std::string_view nhs, char kind, int n) {
  b.clear();
  b += "{\"resourceType\":\"";
  b += type;
  b += "\",\"id\":\"";
  b += nhs;
  b += '-';
  b += kind;
  b += std::to_string(n);
  b += '"';
}

void AppendStatus(std::string& b, std::string_view key, std::string_view system, std::string_view code) {
  b += ",\"";
  b += key;
  b += "\":{\"coding\":[{\"system\":\"http://terminology.hl7.org/CodeSystem/";
  b += system;
  b += "\",\"code\":\"";
  b += code;
  b += "\"}]}";
}

// A CodeableConcept of one coding, with the display as its text.
void Concept(std::string& b, std::string_view system, std::string_view code,
             std::string_view display) {
  b += "{\"coding\":[{";
  AppendField(b, "system", system);
  b += ',';
  AppendField(b, "code", code);
  b += ',';
  AppendField(b, "display", display);
  b += "}],";
  AppendField(b, "text", display);
  b += '}';
}

void SnomedConcept(std::string& b, std::string_view code, std::string_view display) {
  Concept(b, kSnomed, code, display);
}

// A concept known only by its text (medicines, some allergies: see
// docs/gen.md) gets a coding in OpenCRS's synthetic local code system, whose
// code is the text in lower case with runs of other characters as '-', so
// that the item is coded (a summary upload requires it) without claiming a
// dm+d or SNOMED CT code that could not be checked.
void LocalConcept(std::string& b, std::string_view text) {
  std::string code;
  for (char c : text) {
    bool alnum = (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9');
    if (c >= 'A' && c <= 'Z') {
      c = static_cast<char>(c - 'A' + 'a');
      alnum = true;
    }
    if (alnum) {
      code += c;
    } else if (!code.empty() && code.back() != '-') {
      code += '-';
    }
  }
  while (!code.empty() && code.back() == '-') code.pop_back();
  Concept(b, kLocalCodeSystem, code, text);
}

void Subject(std::string& b, std::string_view key, std::string_view nhs) {
  b += ",\"";
  b += key;
  b += "\":{\"reference\":\"Patient/";
  b += nhs;
  b += "\"}";
}

int RandomDayBetween(Rng& rng, int first, int last) {
  if (last <= first) return first;
  return first + static_cast<int>(rng.Below(static_cast<std::uint32_t>(last - first)));
}

void EmitAllergies(Rng& rng, const SummarySubject& s, std::string& b, const ResourceSink& sink) {
  int n = 0;
  for (const auto& a : kAllergies) {
    if (!rng.Chance(a.per_million)) continue;
    Begin(b, "AllergyIntolerance", s.nhs_number, 'a', ++n);
    AppendStatus(b, "clinicalStatus", "allergyintolerance-clinical", "active");
    AppendStatus(b, "verificationStatus", "allergyintolerance-verification", "confirmed");
    b += ",\"type\":\"allergy\",\"category\":[\"";
    b += a.category;
    b += "\"],\"criticality\":\"";
    b += rng.Chance(150000) ? "high" : "low";
    b += "\",\"code\":";
    if (*a.code != '\0') {
      SnomedConcept(b, a.code, a.display);
    } else {
      LocalConcept(b, a.display);
    }
    Subject(b, "patient", s.nhs_number);
    b += ",\"recordedDate\":\"";
    b += FormatDate(RandomDayBetween(rng, s.birth_days, s.today_days));
    b += "\"}";
    sink(b);
  }
  if (n == 0 && rng.Chance(600000)) {
    Begin(b, "AllergyIntolerance", s.nhs_number, 'a', 1);
    AppendStatus(b, "clinicalStatus", "allergyintolerance-clinical", "active");
    AppendStatus(b, "verificationStatus", "allergyintolerance-verification", "confirmed");
    b += ",\"code\":";
    SnomedConcept(b, "716186003", "No known allergy (situation)");
    Subject(b, "patient", s.nhs_number);
    b += ",\"recordedDate\":\"";
    b += FormatDate(RandomDayBetween(rng, s.birth_days, s.today_days));
    b += "\"}";
    sink(b);
  }
}

}  // namespace

void EmitSummaries(Rng& rng, const SummarySubject& s, std::string& b, const ResourceSink& sink) {
  EmitAllergies(rng, s, b, sink);
  bool med_given[std::size(kMedications)] = {};
  int conditions = 0, medications = 0;
  for (const auto& c : kConditions) {
    if (s.age < c.min_age) continue;
    std::uint64_t p = c.per_million;
    if (s.age >= 65) p *= c.old_factor;
    if (s.sex == Sex::kFemale) p *= c.female_factor;
    if (!rng.Chance(static_cast<std::uint32_t>(std::min<std::uint64_t>(p, 900000)))) continue;
    int onset = RandomDayBetween(rng, s.birth_days + c.min_age * 365, s.today_days);
    std::string onset_date = FormatDate(onset);
    Begin(b, "Condition", s.nhs_number, 'c', ++conditions);
    AppendStatus(b, "clinicalStatus", "condition-clinical", "active");
    AppendStatus(b, "verificationStatus", "condition-ver-status", "confirmed");
    b += ",\"category\":[{\"coding\":[{\"system\":\"http://terminology.hl7.org/CodeSystem/"
         "condition-category\",\"code\":\"problem-list-item\"}]}],\"code\":";
    SnomedConcept(b, c.code, c.display);
    Subject(b, "subject", s.nhs_number);
    b += ",\"onsetDateTime\":\"" + onset_date + "\",\"recordedDate\":\"" + onset_date + "\"}";
    sink(b);
    for (int m : c.meds) {
      // Not everyone with a condition takes every usual medicine.
      if (m < 0 || med_given[m] || !rng.Chance(700000)) continue;
      med_given[m] = true;
      Begin(b, "MedicationStatement", s.nhs_number, 'm', ++medications);
      b += ",\"status\":\"active\",\"medicationCodeableConcept\":";
      LocalConcept(b, kMedications[m].name);
      Subject(b, "subject", s.nhs_number);
      b += ",\"effectiveDateTime\":\"" +
           FormatDate(RandomDayBetween(rng, onset, s.today_days)) + "\"";
      b += ",\"dateAsserted\":\"" + std::string(kPopulationDate) + "\",\"dosage\":[{";
      AppendField(b, "text", kMedications[m].dosage);
      b += "}]}";
      sink(b);
    }
  }
  if (s.age >= 18 && !med_given[19] && rng.Chance(40000)) {
    Begin(b, "MedicationStatement", s.nhs_number, 'm', ++medications);
    b += ",\"status\":\"active\",\"medicationCodeableConcept\":";
    LocalConcept(b, kMedications[19].name);
    Subject(b, "subject", s.nhs_number);
    b += ",\"dateAsserted\":\"" + std::string(kPopulationDate) + "\",\"dosage\":[{";
    AppendField(b, "text", kMedications[19].dosage);
    b += "}]}";
    sink(b);
  }
}

namespace {

constexpr std::string_view kDocumentTime = "2025-01-01T09:00:00+00:00";

// A deterministic, well-formed UUID (version 4 layout) for entry `n` of
// patient `nhs`: the 10 digits and a two-digit ordinal are the last group.
std::string EntryUuid(std::string_view nhs, int n) {
  std::string u = "urn:uuid:00000000-0000-4000-8000-";
  u += nhs;
  u += static_cast<char>('0' + n / 10 % 10);
  u += static_cast<char>('0' + n % 10);
  return u;
}

// The value of the first `"key":"` in `json` (generated JSON: no escapes in
// the resource types and ids looked up here).
std::string_view FirstString(std::string_view json, std::string_view key) {
  std::string pattern = "\"" + std::string(key) + "\":\"";
  size_t at = json.find(pattern);
  if (at == std::string_view::npos) return {};
  at += pattern.size();
  return json.substr(at, json.find('"', at) - at);
}

void EmitConsent(std::string& b, std::string_view nhs, std::string_view suffix,
                 std::string_view policy, std::string_view type, const ResourceSink& sink) {
  b.clear();
  b += "{\"resourceType\":\"Consent\",\"id\":\"";
  b += nhs;
  b += suffix;
  b += "\",\"status\":\"active\",\"scope\":{\"coding\":[{\"system\":\"http://terminology.hl7.org/"
       "CodeSystem/consentscope\",\"code\":\"patient-privacy\"}]},\"category\":[{\"coding\":[{"
       "\"system\":\"http://loinc.org\",\"code\":\"59284-0\"}]}],\"patient\":{\"reference\":"
       "\"Patient/";
  b += nhs;
  b += "\"},\"dateTime\":\"";
  b += kDocumentTime;
  b += "\",\"policyRule\":{\"coding\":[{\"code\":\"";
  b += policy;
  b += "\"}]},\"provision\":{\"type\":\"";
  b += type;
  b += "\"}}";
  sink(b);
}

struct DocumentItem {
  std::string type;
  std::string id;
  std::string json;
};

void AppendSection(std::string& b, bool& first, std::string_view code, std::string_view title,
                   const std::vector<DocumentItem>& items,
                   std::initializer_list<std::string_view> types) {
  bool any = false;
  for (const auto& item : items) {
    bool wanted = false;
    for (std::string_view t : types) wanted = wanted || item.type == t;
    if (!wanted) continue;
    if (!any) {
      if (!first) b += ',';
      first = false;
      b += "{";
      AppendField(b, "title", title);
      // Section codes as the NHS SCR API writes them (no system).
      b += ",\"code\":{\"coding\":[{\"code\":\"";
      b += code;
      b += "\"}]},\"entry\":[";
      any = true;
    } else {
      b += ',';
    }
    b += "{\"reference\":\"" + item.type + "/" + item.id + "\"}";
  }
  if (any) b += "]}";
}

}  // namespace

void EmitSummaryDocument(Rng& rng, const SummarySubject& s, const SummaryAuthor& author,
                         std::string& b, const ResourceSink& sink) {
  std::vector<DocumentItem> items;
  EmitSummaries(rng, s, b, [&](std::string_view r) {
    items.push_back({std::string(FirstString(r, "resourceType")), std::string(FirstString(r, "id")),
                     std::string(r)});
  });
  // Drawn after the items, so that the items equal EmitSummaries' own.
  std::uint32_t decision = rng.Below(1000000);
  if (decision < 15000) {
    EmitConsent(b, s.nhs_number, "-consent-scr", "urn:opencrs:consent:scr", "deny", sink);
    return;
  }
  if (decision < 15000 + 98500) {
    EmitConsent(b, s.nhs_number, "-consent-add", "urn:opencrs:consent:scr-additional", "permit",
                sink);
  }
  std::string_view nhs = s.nhs_number;
  b.clear();
  b += "{\"resourceType\":\"Bundle\",\"id\":\"";
  b += nhs;
  b += "-scr\",\"identifier\":{\"system\":\"urn:ietf:rfc:3986\",\"value\":\"";
  b += EntryUuid(nhs, 0);
  b += "\"},\"type\":\"document\",\"timestamp\":\"";
  b += kDocumentTime;
  b += "\",\"entry\":[{\"fullUrl\":\"" + EntryUuid(nhs, 1) +
       "\",\"resource\":{\"resourceType\":\"Composition\",\"id\":\"";
  b += nhs;
  b += "-comp\",\"status\":\"final\",\"type\":{\"coding\":[{\"system\":\"http://snomed.info/sct\","
       "\"code\":\"196981000000101\",\"display\":\"General Practice Summary\"}]},"
       "\"subject\":{\"reference\":\"Patient/";
  b += nhs;
  b += "\"},\"date\":\"";
  b += kDocumentTime;
  b += "\",\"author\":[{\"reference\":\"Organization/";
  b += author.ods;
  b += "\"}],\"title\":\"General Practice Summary\"";
  if (!items.empty()) {
    b += ",\"section\":[";
    bool first = true;
    AppendSection(b, first, "AllergiesHeader", "Allergies and Adverse Reactions", items,
                  {"AllergyIntolerance"});
    AppendSection(b, first, "RepeatMedsHeader", "Current Repeat Medications", items,
                  {"MedicationStatement", "MedicationRequest"});
    AppendSection(b, first, "ProblemsHeader", "Problems and Issues", items, {"Condition"});
    b += ']';
  }
  b += "}},{\"fullUrl\":\"" + EntryUuid(nhs, 2) +
       "\",\"resource\":{\"resourceType\":\"Patient\",\"id\":\"";
  b += nhs;
  b += "\",\"identifier\":[{\"system\":\"https://fhir.nhs.uk/Id/nhs-number\",\"value\":\"";
  b += nhs;
  b += "\"}]}},{\"fullUrl\":\"" + EntryUuid(nhs, 3) +
       "\",\"resource\":{\"resourceType\":\"Organization\",\"id\":\"";
  b += author.ods;
  b += "\",\"identifier\":[{\"system\":\"https://fhir.nhs.uk/Id/ods-organization-code\",\"value\":\"";
  b += author.ods;
  b += "\"}],";
  AppendField(b, "name", author.name);
  b += "}}";
  int n = 4;
  for (const auto& item : items) {
    b += ",{\"fullUrl\":\"" + EntryUuid(nhs, n++) + "\",\"resource\":";
    b += item.json;
    b += '}';
  }
  b += "]}";
  sink(b);
}

}  // namespace crs::gen
