#include "gen/observations.h"

#include <algorithm>
#include <cstdio>

#include "gen/dates.h"
#include "gen/json_out.h"

namespace crs::gen {
namespace {

constexpr int kYears = 5;  // measurements of the last five years

enum class Kind { kWeight, kHeight, kBloodPressure, kHeartRate, kTemperature, kBmi };

// How often each kind is recorded, per 100 measurements.
constexpr struct {
  Kind kind;
  std::uint32_t weight;
} kMix[] = {{Kind::kBloodPressure, 35}, {Kind::kWeight, 25}, {Kind::kHeartRate, 15},
            {Kind::kBmi, 10},           {Kind::kHeight, 8},  {Kind::kTemperature, 7}};

// A value with `decimals` decimals, as JSON number text.
std::string Number(double v, int decimals) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.*f", decimals, v);
  return buf;
}

void AppendCode(std::string& b, const char* loinc, const char* display) {
  b += "{\"coding\":[{\"system\":\"http://loinc.org\",\"code\":\"";
  b += loinc;
  b += "\",\"display\":\"";
  b += display;
  b += "\"}],\"text\":\"";
  b += display;
  b += "\"}";
}

void AppendQuantity(std::string& b, const std::string& value, const char* unit) {
  b += "{\"value\":";
  b += value;
  b += ",\"unit\":";
  AppendJsonString(b, unit);
  b += ",\"system\":\"http://unitsofmeasure.org\",\"code\":";
  AppendJsonString(b, unit);
  b += '}';
}

// Typical adult values, scaled down for children (by age in years).
double Weight(Rng& rng, const SummarySubject& s) {
  if (s.age < 16) return 3.5 + s.age * 3.6 + rng.Between(-20, 20) / 10.0;
  int base = s.sex == Sex::kFemale ? 70 : 84;
  return base + rng.Between(-180, 250) / 10.0;
}

double Height(Rng& rng, const SummarySubject& s) {
  if (s.age < 16) return 52 + s.age * 7.0 + rng.Between(-40, 40) / 10.0;
  int base = s.sex == Sex::kFemale ? 162 : 176;
  return base + rng.Between(-120, 120) / 10.0;
}

}  // namespace

void EmitObservations(Rng& rng, const SummarySubject& subject, int count, std::string& buffer,
                      const ResourceSink& sink) {
  static const WeightedIndex mix([] {
    std::vector<std::uint32_t> w;
    for (const auto& m : kMix) w.push_back(m.weight);
    return w;
  }());
  int first_day = std::max(subject.birth_days, subject.today_days - kYears * 365);
  int span = std::max(1, subject.today_days - first_day);
  for (int n = 1; n <= count; ++n) {
    Kind kind = kMix[mix.Pick(rng)].kind;
    int day = first_day + static_cast<int>(rng.Below(static_cast<std::uint32_t>(span)));
    int minute = rng.Between(8 * 60, 18 * 60 - 1);  // surgery hours
    char time[16];
    std::snprintf(time, sizeof time, "T%02d:%02d:00Z", minute / 60, minute % 60);
    std::string& b = buffer;
    b.clear();
    b += "{\"resourceType\":\"Observation\",\"id\":\"";
    b += subject.nhs_number;
    b += "-o";
    b += std::to_string(n);
    b += "\",\"status\":\"final\",\"category\":[{\"coding\":[{\"system\":"
         "\"http://terminology.hl7.org/CodeSystem/observation-category\",\"code\":\"vital-signs\","
         "\"display\":\"Vital Signs\"}]}],\"code\":";
    switch (kind) {
      case Kind::kWeight: AppendCode(b, "29463-7", "Body weight"); break;
      case Kind::kHeight: AppendCode(b, "8302-2", "Body height"); break;
      case Kind::kBloodPressure: AppendCode(b, "85354-9", "Blood pressure panel"); break;
      case Kind::kHeartRate: AppendCode(b, "8867-4", "Heart rate"); break;
      case Kind::kTemperature: AppendCode(b, "8310-5", "Body temperature"); break;
      case Kind::kBmi: AppendCode(b, "39156-5", "Body mass index"); break;
    }
    b += ",\"subject\":{\"reference\":\"Patient/";
    b += subject.nhs_number;
    b += "\"},\"effectiveDateTime\":\"";
    b += FormatDate(day);
    b += time;
    b += '"';
    switch (kind) {
      case Kind::kWeight:
        b += ",\"valueQuantity\":";
        AppendQuantity(b, Number(Weight(rng, subject), 1), "kg");
        break;
      case Kind::kHeight:
        b += ",\"valueQuantity\":";
        AppendQuantity(b, Number(Height(rng, subject), 1), "cm");
        break;
      case Kind::kHeartRate:
        b += ",\"valueQuantity\":";
        AppendQuantity(b, std::to_string(rng.Between(52, 104)), "/min");
        break;
      case Kind::kTemperature:
        b += ",\"valueQuantity\":";
        AppendQuantity(b, Number(36.0 + rng.Between(0, 22) / 10.0, 1), "Cel");
        break;
      case Kind::kBmi: {
        double h = Height(rng, subject) / 100.0;
        b += ",\"valueQuantity\":";
        AppendQuantity(b, Number(Weight(rng, subject) / (h * h), 1), "kg/m2");
        break;
      }
      case Kind::kBloodPressure: {
        int systolic = rng.Between(100, 150) + (subject.age > 60 ? rng.Between(0, 25) : 0);
        int diastolic = rng.Between(60, 95);
        b += ",\"component\":[{\"code\":";
        AppendCode(b, "8480-6", "Systolic blood pressure");
        b += ",\"valueQuantity\":";
        AppendQuantity(b, std::to_string(systolic), "mm[Hg]");
        b += "},{\"code\":";
        AppendCode(b, "8462-4", "Diastolic blood pressure");
        b += ",\"valueQuantity\":";
        AppendQuantity(b, std::to_string(diastolic), "mm[Hg]");
        b += "}]";
        break;
      }
    }
    b += '}';
    sink(b);
  }
}

}  // namespace crs::gen
