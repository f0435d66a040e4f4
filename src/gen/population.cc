#include "gen/population.h"

#include <algorithm>
#include <cstdio>
#include <string>
#include <vector>

#include "gen/dates.h"
#include "gen/json_out.h"
#include "gen/names.h"
#include "gen/places.h"
#include "gen/random.h"
#include "gen/observations.h"
#include "gen/summaries.h"
#include "nhs/nhs_number.h"

namespace crs::gen {
namespace {

constexpr std::string_view kOdsSystem = "https://fhir.nhs.uk/Id/ods-organization-code";
constexpr std::uint64_t kPatientsPerPractice = 8800;
// Random streams: events (one or two patients) use stream = event number;
// practices and summaries use their own disjoint streams.
constexpr std::uint64_t kPracticeStream = 1ULL << 62;
constexpr std::uint64_t kSummaryStream = 1ULL << 61;
constexpr std::uint64_t kObservationStream = 1ULL << 62;

// Share (per mille) of each five-year age band 0-4, 5-9, ..., 85-89, 90+:
// the approximate shape of the ONS mid-2022 estimates for England.
const WeightedIndex& AgeBands() {
  static const WeightedIndex bands(std::vector<std::uint32_t>{
      54, 59, 61, 58, 61, 66, 69, 67, 64, 61, 68, 67, 59, 50, 48, 39, 25, 15, 9});
  return bands;
}

// Rates, per million.
constexpr std::uint32_t kTwinEvents = 8000;          // an event is a twin pair
constexpr std::uint32_t kSameNameEvents = 1500;      // unrelated same name + birthday
constexpr std::uint32_t kRestricted = 10000;         // meta.security R
constexpr std::uint32_t kMarriedName = 400000;       // women 20+: old maiden name
constexpr std::uint32_t kChangedNameMen = 20000;     // men 18+: deed poll
constexpr std::uint32_t kMovedHouse = 350000;        // adults: a previous address
constexpr std::uint32_t kOtherLanguage = 70000;      // communication language

struct Language {
  const char* code;
  const char* display;
  std::uint32_t weight;
};
constexpr Language kLanguages[] = {
    {"pl", "Polish", 20}, {"ur", "Urdu", 12},     {"pa", "Punjabi", 10},  {"bn", "Bengali", 8},
    {"gu", "Gujarati", 7}, {"ro", "Romanian", 8}, {"ar", "Arabic", 6},    {"pt", "Portuguese", 6},
    {"es", "Spanish", 5}, {"so", "Somali", 4},    {"lt", "Lithuanian", 4}, {"ta", "Tamil", 3},
    {"zh", "Chinese", 3}, {"tr", "Turkish", 3},   {"fr", "French", 3},    {"cy", "Welsh", 6},
};

struct Practice {
  std::string ods;
  std::string name;
  std::size_t area = 0;
  std::size_t district = 0;
  std::string line;
  std::string postcode;
  std::string phone;
};

struct Address {
  std::string flat;  // "Flat 3" or empty
  std::string line;  // "12 Church Road"
  std::string city;
  std::string postcode;
  int start = 0;
  int end = -1;  // -1: current
};

struct Person {
  Sex sex = Sex::kFemale;
  bool unknown_gender = false;
  std::string given;
  std::string middle;
  std::string family;
  std::string old_family;  // empty: no old name
  int name_change = 0;
  bool doctor = false;
  int birth_days = 0;
  int age = 0;
  int death_days = -1;
  std::size_t practice = 0;
  Address home;
  bool has_old_home = false;
  Address old_home;
  std::string mobile, landline, email;
  const Language* language = nullptr;
  bool restricted = false;
  int multiple_birth = 0;
};

int Today() {
  static const int today = DaysFromCivil(2025, 1, 1);  // kPopulationDate
  return today;
}

int DayBetween(Rng& rng, int first, int last) {
  if (last <= first) return first;
  return first + static_cast<int>(rng.Below(static_cast<std::uint32_t>(last - first)));
}

std::vector<Practice> MakePractices(std::uint64_t count, std::uint64_t seed) {
  static constexpr const char* kKinds[] = {"Surgery", "Medical Centre", "Health Centre",
                                           "Medical Practice", "Family Practice"};
  static constexpr char kOdsLetters[] = "ABCDEFGHJKLMNPY";
  std::vector<Practice> practices;
  practices.reserve(count);
  const auto& areas = PostcodeAreas();
  for (std::uint64_t i = 0; i < count; ++i) {
    Rng rng(seed, kPracticeStream + i);
    Practice p;
    p.area = static_cast<std::size_t>(&PickArea(rng) - areas.data());
    const PostcodeArea& area = areas[p.area];
    p.district = rng.Below(static_cast<std::uint32_t>(area.districts.size()));
    // Letter + five digits like real practice codes ("A81001"); the digits
    // are a bijection of i, so codes are distinct (count <= 90,000).
    char ods[8];
    std::snprintf(ods, sizeof ods, "%c%05llu", kOdsLetters[rng.Below(15)],
                  static_cast<unsigned long long>(10000 + (i * 7919 + seed) % 90000));
    p.ods = ods;
    std::string street = RandomStreet(rng);
    p.line = std::to_string(rng.Between(1, 150)) + " " + street;
    std::size_t space = street.rfind(' ');
    p.name = (rng.Below(3) == 0 ? area.post_town + " " : street.substr(0, space) + " ") +
             kKinds[rng.Below(std::size(kKinds))];
    p.postcode = RandomPostcode(rng, area.districts[p.district]);
    p.phone = RandomLandline(rng, area);
    practices.push_back(std::move(p));
  }
  return practices;
}

void EmitPractice(const Practice& p, std::string& b, const ResourceSink& sink) {
  const PostcodeArea& area = PostcodeAreas()[p.area];
  b.clear();
  b += "{\"resourceType\":\"Organization\",";
  AppendField(b, "id", p.ods);
  b += ",\"identifier\":[{";
  AppendField(b, "system", kOdsSystem);
  b += ',';
  AppendField(b, "value", p.ods);
  b += "}],\"active\":true,\"type\":[{\"coding\":[{\"system\":\"https://fhir.nhs.uk/CodeSystem/"
       "organisation-role\",\"code\":\"76\",\"display\":\"GP PRACTICE\"}]}],";
  AppendField(b, "name", p.name);
  b += ",\"telecom\":[{\"system\":\"phone\",";
  AppendField(b, "value", p.phone);
  b += ",\"use\":\"work\"}],\"address\":[{\"use\":\"work\",\"line\":[";
  AppendJsonString(b, p.line);
  b += "],";
  AppendField(b, "city", area.post_town);
  b += ',';
  AppendField(b, "postalCode", p.postcode);
  b += ",\"country\":\"GB\"}]}";
  sink(b);
}

Address MakeAddress(Rng& rng, const PostcodeArea& area, std::size_t district) {
  Address a;
  if (rng.Chance(100000)) a.flat = "Flat " + std::to_string(rng.Between(1, 24));
  a.line = std::to_string(rng.Between(1, 250)) + " " + RandomStreet(rng);
  a.city = area.post_town;
  a.postcode = RandomPostcode(rng, area.districts[district]);
  return a;
}

std::string EmailPart(std::string_view name) {
  std::string s;
  for (char c : name) {
    if (c >= 'A' && c <= 'Z') s += static_cast<char>(c - 'A' + 'a');
    if ((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9')) s += c;
  }
  return s;
}

void AssignNames(Rng& rng, Person& p) {
  int birth_year = CivilFromDays(p.birth_days).year;
  const NameList& firsts = FirstNamesFor(p.sex, birth_year);
  p.given = firsts.Pick(rng);
  p.middle.clear();
  if (rng.Chance(450000)) {
    p.middle = firsts.Pick(rng);
    if (p.middle == p.given) p.middle.clear();
  }
  p.family = Surnames().Pick(rng);
  p.old_family.clear();
  if (p.sex == Sex::kFemale && p.age >= 20 && rng.Chance(kMarriedName)) {
    p.old_family = Surnames().Pick(rng);
    p.name_change = DayBetween(rng, p.birth_days + 20 * 365, Today() - 1);
  } else if (p.sex == Sex::kMale && p.age >= 18 && rng.Chance(kChangedNameMen)) {
    p.old_family = Surnames().Pick(rng);
    p.name_change = DayBetween(rng, p.birth_days + 18 * 365, Today() - 1);
  }
  if (p.old_family == p.family) p.old_family.clear();
}

void AssignContacts(Rng& rng, Person& p) {
  p.mobile.clear();
  p.email.clear();
  if (p.age >= 14 && rng.Chance(800000)) p.mobile = RandomMobile(rng);
  if (p.age >= 16 && rng.Chance(550000)) {
    p.email = EmailPart(p.given) + "." + EmailPart(p.family);
    if (rng.Chance(500000)) p.email += std::to_string(rng.Between(1, 99));
    p.email += rng.Chance(700000) ? "@example.com" : "@example.org";
  }
}

Person MakePerson(Rng& rng, const std::vector<Practice>& practices) {
  Person p;
  int band = static_cast<int>(AgeBands().Pick(rng));
  p.age = band < 18 ? band * 5 + rng.Between(0, 4) : 90 + rng.Between(0, 5) + rng.Between(0, 5);
  // Born between 2 January of (2024 - age) and 1 January of the next year:
  // exactly `age` on kPopulationDate.
  p.birth_days = DaysFromCivil(2024 - p.age, 1, 2) + static_cast<int>(rng.Below(365));
  std::uint32_t g = rng.Below(1000000);
  p.sex = g < 490000 ? Sex::kMale : Sex::kFemale;
  p.unknown_gender = g >= 999500;
  AssignNames(rng, p);
  p.doctor = p.age >= 26 && rng.Chance(8000);
  std::uint32_t death = p.age >= 90 ? 150000 : p.age >= 80 ? 80000 : p.age >= 70 ? 30000 : 0;
  if (death != 0 && rng.Chance(death)) {
    p.death_days = std::max(p.birth_days + 1, Today() - 1 - static_cast<int>(rng.Below(5 * 365)));
  }

  p.practice = rng.Below(static_cast<std::uint32_t>(practices.size()));
  const Practice& gp = practices[p.practice];
  const PostcodeArea& area = PostcodeAreas()[gp.area];
  // Patients live near their practice: mostly its own postcode district.
  std::size_t district = gp.district;
  if (!rng.Chance(850000)) district = rng.Below(static_cast<std::uint32_t>(area.districts.size()));
  p.home = MakeAddress(rng, area, district);
  p.home.start = DayBetween(rng, std::max(p.birth_days, Today() - 20 * 365), Today() - 1);
  p.has_old_home = p.age >= 18 && p.home.start > p.birth_days + 18 * 365 && rng.Chance(kMovedHouse);
  if (p.has_old_home) {
    const PostcodeArea& old_area = rng.Chance(700000) ? area : PickArea(rng);
    p.old_home = MakeAddress(rng, old_area,
                             rng.Below(static_cast<std::uint32_t>(old_area.districts.size())));
    p.old_home.end = p.home.start;
    p.old_home.start = DayBetween(rng, std::max(p.birth_days, p.home.start - 15 * 365), p.home.start - 1);
  }
  AssignContacts(rng, p);
  p.landline.clear();
  if (rng.Chance(300000)) p.landline = RandomLandline(rng, area);
  if (rng.Chance(kOtherLanguage)) {
    static const WeightedIndex languages = [] {
      std::vector<std::uint32_t> w;
      for (const auto& l : kLanguages) w.push_back(l.weight);
      return WeightedIndex(w);
    }();
    p.language = &kLanguages[languages.Pick(rng)];
  }
  p.restricted = rng.Chance(kRestricted);
  return p;
}

const char* Prefix(const Person& p) {
  if (p.age < 18 || p.unknown_gender) return nullptr;
  if (p.doctor) return "Dr";
  if (p.sex == Sex::kMale) return "Mr";
  if (!p.old_family.empty()) return "Mrs";
  return p.age < 30 ? "Miss" : "Ms";
}

void AppendName(std::string& b, std::string_view use, const Person& p, std::string_view family,
                const char* prefix) {
  b += "{\"use\":\"";
  b += use;
  b += "\",";
  AppendField(b, "family", family);
  b += ",\"given\":[";
  AppendJsonString(b, p.given);
  if (!p.middle.empty()) {
    b += ',';
    AppendJsonString(b, p.middle);
  }
  b += ']';
  if (prefix != nullptr) {
    b += ",\"prefix\":[\"";
    b += prefix;
    b += "\"]";
  }
  if (!p.old_family.empty()) {
    b += use == "old" ? ",\"period\":{\"end\":\"" : ",\"period\":{\"start\":\"";
    b += FormatDate(p.name_change);
    b += "\"}";
  }
  b += '}';
}

void AppendAddress(std::string& b, std::string_view use, const Address& a) {
  b += "{\"use\":\"";
  b += use;
  b += "\",\"type\":\"both\",\"line\":[";
  if (!a.flat.empty()) {
    AppendJsonString(b, a.flat);
    b += ',';
  }
  AppendJsonString(b, a.line);
  b += "],";
  AppendField(b, "city", a.city);
  b += ',';
  AppendField(b, "postalCode", a.postcode);
  b += ",\"period\":{\"start\":\"";
  b += FormatDate(a.start);
  if (a.end >= 0) {
    b += "\",\"end\":\"";
    b += FormatDate(a.end);
  }
  b += "\"}}";
}

void AppendTelecom(std::string& b, const Person& p) {
  if (p.mobile.empty() && p.landline.empty() && p.email.empty()) return;
  b += ",\"telecom\":[";
  bool first = true;
  auto add = [&](std::string_view system, std::string_view value, std::string_view use) {
    if (value.empty()) return;
    if (!first) b += ',';
    first = false;
    b += "{\"system\":\"";
    b += system;
    b += "\",";
    AppendField(b, "value", value);
    b += ",\"use\":\"";
    b += use;
    b += "\"}";
  };
  add("phone", p.mobile, "mobile");
  add("phone", p.landline, "home");
  add("email", p.email, "home");
  b += ']';
}

void EmitPatient(const Person& p, const std::string& nhs, const Practice& gp, std::string& b,
                 const ResourceSink& sink) {
  b.clear();
  b += "{\"resourceType\":\"Patient\",\"id\":\"";
  b += nhs;
  b += '"';
  if (p.restricted) {
    b += ",\"meta\":{\"security\":[{\"system\":\"http://terminology.hl7.org/CodeSystem/"
         "v3-Confidentiality\",\"code\":\"R\",\"display\":\"restricted\"}]}";
  }
  b += ",\"identifier\":[{\"system\":\"";
  b += nhs::kNhsNumberSystem;
  b += "\",\"value\":\"";
  b += nhs;
  b += "\"}],\"name\":[";
  AppendName(b, "official", p, p.family, Prefix(p));
  if (!p.old_family.empty()) {
    b += ',';
    AppendName(b, "old", p, p.old_family, nullptr);
  }
  b += ']';
  AppendTelecom(b, p);
  b += ",\"gender\":\"";
  b += p.unknown_gender ? "unknown" : p.sex == Sex::kMale ? "male" : "female";
  b += "\",\"birthDate\":\"";
  b += FormatDate(p.birth_days);
  b += '"';
  if (p.death_days >= 0) {
    b += ",\"deceasedDateTime\":\"";
    b += FormatDate(p.death_days);
    b += '"';
  }
  b += ",\"address\":[";
  AppendAddress(b, "home", p.home);
  if (p.has_old_home) {
    b += ',';
    AppendAddress(b, "old", p.old_home);
  }
  b += ']';
  if (p.multiple_birth > 0) {
    b += ",\"multipleBirthInteger\":";
    b += std::to_string(p.multiple_birth);
  }
  if (p.language != nullptr) {
    b += ",\"communication\":[{\"language\":{\"coding\":[{\"system\":\"urn:ietf:bcp:47\",\"code\":\"";
    b += p.language->code;
    b += "\",\"display\":\"";
    b += p.language->display;
    b += "\"}]},\"preferred\":true}]";
  }
  b += ",\"generalPractitioner\":[{\"reference\":\"Organization/";
  b += gp.ods;
  b += "\",\"identifier\":{";
  AppendField(b, "system", kOdsSystem);
  b += ',';
  AppendField(b, "value", gp.ods);
  b += "}}]}";
  sink(b);
}

// The second of a twin pair: same surname, address and birth date, own
// given names and contacts. Neither twin keeps an old (maiden) name, so the
// two really do share a surname.
Person MakeTwin(Rng& rng, Person& first) {
  first.old_family.clear();
  Person twin = first;
  if (!rng.Chance(666000)) twin.sex = first.sex == Sex::kMale ? Sex::kFemale : Sex::kMale;
  twin.unknown_gender = false;
  const NameList& firsts = FirstNamesFor(twin.sex, CivilFromDays(twin.birth_days).year);
  for (int tries = 0; tries < 8 && (twin.given == first.given || tries == 0); ++tries) {
    twin.given = firsts.Pick(rng);
  }
  twin.middle.clear();
  if (rng.Chance(450000)) twin.middle = firsts.Pick(rng);
  if (twin.middle == twin.given) twin.middle.clear();
  twin.doctor = false;
  AssignContacts(rng, twin);
  if (rng.Chance(500000)) twin.landline.clear();
  twin.restricted = rng.Chance(kRestricted);
  first.multiple_birth = 1;
  twin.multiple_birth = 2;
  return twin;
}

// An unrelated person who happens to share `first`'s first name, surname,
// sex and birth date (different address, practice and NHS number).
Person MakeNamesake(Rng& rng, const Person& first, const std::vector<Practice>& practices) {
  Person p = MakePerson(rng, practices);
  p.sex = first.sex;
  p.unknown_gender = first.unknown_gender;
  p.birth_days = first.birth_days;
  p.age = first.age;
  AssignNames(rng, p);
  p.given = first.given;
  p.family = first.family;
  if (p.old_family == p.family) p.old_family.clear();
  if (p.death_days >= 0 && (p.age < 70 || p.death_days <= p.birth_days)) p.death_days = -1;
  if (p.has_old_home && p.old_home.start < p.birth_days) p.old_home.start = p.birth_days;
  if (p.home.start < p.birth_days) p.home.start = p.birth_days;
  AssignContacts(rng, p);
  return p;
}

}  // namespace

Result<std::string> PatientNhsNumber(std::uint64_t serial) {
  CRS_ASSIGN_OR_RETURN(std::uint64_t in_test_range,
                       nhs::ValidNhsNumbersInRange(nhs::kTestNhsNumberRange));
  if (serial < in_test_range) return nhs::NhsNumberFromSerial(serial);
  return nhs::NhsNumberFromSerial(serial - in_test_range, kOverflowNhsNumberRange);
}

Result<std::uint64_t> MaxPatients() {
  CRS_ASSIGN_OR_RETURN(std::uint64_t a, nhs::ValidNhsNumbersInRange(nhs::kTestNhsNumberRange));
  CRS_ASSIGN_OR_RETURN(std::uint64_t b, nhs::ValidNhsNumbersInRange(kOverflowNhsNumberRange));
  return a + b;
}

std::uint64_t PracticeCount(std::uint64_t patients) {
  return std::clamp<std::uint64_t>((patients + kPatientsPerPractice - 1) / kPatientsPerPractice,
                                   1, 90000);
}

Status Generate(const GenOptions& options, const ResourceSink& sink) {
  CRS_ASSIGN_OR_RETURN(std::uint64_t capacity, MaxPatients());
  if (options.patients > capacity) {
    return Status::Invalid("--patients is larger than the synthetic NHS number ranges hold (" +
                           std::to_string(capacity) + " numbers)");
  }
  std::vector<Practice> practices = MakePractices(PracticeCount(options.patients), options.seed);
  std::string buffer;
  buffer.reserve(4096);
  std::string summary_buffer;
  summary_buffer.reserve(1024);
  for (const Practice& p : practices) EmitPractice(p, buffer, sink);

  std::uint64_t serial = 0;
  auto emit = [&](const Person& person) -> Status {
    CRS_ASSIGN_OR_RETURN(std::string nhs, PatientNhsNumber(serial));
    EmitPatient(person, nhs, practices[person.practice], buffer, sink);
    if (options.summaries || options.records) {
      SummarySubject subject{nhs, person.sex, person.age, person.birth_days,
                             person.death_days >= 0 ? person.death_days : Today()};
      if (options.records) {
        Rng rng(options.seed, kSummaryStream + serial);
        EmitSummaries(rng, subject, summary_buffer, sink);
      }
      if (options.summaries) {
        // The same stream: the document holds the items --records emits.
        Rng rng(options.seed, kSummaryStream + serial);
        const Practice& practice = practices[person.practice];
        EmitSummaryDocument(rng, subject, {practice.ods, practice.name}, summary_buffer, sink);
      }
    }
    if (options.observations > 0) {
      SummarySubject subject{nhs, person.sex, person.age, person.birth_days,
                             person.death_days >= 0 ? person.death_days : Today()};
      Rng rng(options.seed, kObservationStream + serial);
      EmitObservations(rng, subject, options.observations, summary_buffer, sink);
    }
    ++serial;
    return Status::Ok();
  };
  for (std::uint64_t event = 0; serial < options.patients; ++event) {
    Rng rng(options.seed, event);
    Person first = MakePerson(rng, practices);
    bool room = options.patients - serial >= 2;
    std::uint32_t kind = rng.Below(1000000);
    if (room && kind < kTwinEvents) {
      Person twin = MakeTwin(rng, first);
      CRS_RETURN_IF_ERROR(emit(first));
      CRS_RETURN_IF_ERROR(emit(twin));
    } else if (room && kind < kTwinEvents + kSameNameEvents) {
      Person namesake = MakeNamesake(rng, first, practices);
      CRS_RETURN_IF_ERROR(emit(first));
      CRS_RETURN_IF_ERROR(emit(namesake));
    } else {
      CRS_RETURN_IF_ERROR(emit(first));
    }
  }
  return Status::Ok();
}

}  // namespace crs::gen
