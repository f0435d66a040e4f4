// Reading a Patient for a trace, the non-fuzzy match and the fuzzy score
// (docs/trace.md); the single rules are in trace_rules.cc.
#include "nhs/trace.h"

#include <algorithm>
#include <boost/json.hpp>

#include "fhir/index/normalize.h"

namespace crs::nhs::trace {
namespace {

namespace json = boost::json;

// Weights of the fuzzy score's components (docs/trace.md).
constexpr double kWeightFamily = 0.30;
constexpr double kWeightGiven = 0.25;
constexpr double kWeightBirthDate = 0.30;
constexpr double kWeightGender = 0.05;
constexpr double kWeightPostcode = 0.10;
constexpr double kWeightPractice = 0.05;
constexpr double kWeightEmail = 0.05;
constexpr double kWeightPhone = 0.05;
// Factors for matching on what is no longer current, and on transposed names.
constexpr double kHistoricName = 0.95;
constexpr double kHistoricContact = 0.9;
constexpr double kTransposed = 0.9;
constexpr double kLaterGiven = 0.9;  // the query's given name is a middle name

constexpr std::string_view kConfidentiality = "http://terminology.hl7.org/CodeSystem/v3-Confidentiality";

std::string_view Str(const json::object& o, std::string_view key) {
  const json::value* v = o.if_contains(key);
  return v != nullptr && v->is_string() ? std::string_view(v->get_string()) : std::string_view();
}

bool Historic(const json::object& o, std::string_view today) {
  if (Str(o, "use") == "old") return true;
  const json::value* period = o.if_contains("period");
  if (period == nullptr || !period->is_object()) return false;
  std::string_view end = Str(period->get_object(), "end");
  return !end.empty() && end.substr(0, 10) < today;
}

template <typename F>
void ForEachObject(const json::object& o, std::string_view key, F f) {
  const json::value* v = o.if_contains(key);
  if (v == nullptr || !v->is_array()) return;
  for (const json::value& item : v->get_array()) {
    if (item.is_object()) f(item.get_object());
  }
}

std::string Lower(std::string_view s) {
  std::string out(s);
  for (char& c : out) {
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
  }
  return out;
}

// Digits only, with +44 read as the leading 0.
std::string PhoneDigits(std::string_view s) {
  std::string out;
  for (char c : s) {
    if (c >= '0' && c <= '9') out.push_back(c);
  }
  if (out.size() == 12 && out.starts_with("44")) out = "0" + out.substr(2);
  return out;
}

bool SameTelecom(std::string_view system, std::string_view query, const TraceTelecom& t) {
  if (t.system != system) return false;
  return system == "phone" ? PhoneDigits(query) == PhoneDigits(t.value)
                           : Lower(query) == Lower(t.value);
}

// Non-fuzzy name equality: as written with `exact`; else folded, with `*`.
bool NameEquals(const TraceQuery& q, std::string_view query, std::string_view stored) {
  if (q.exact) return query == stored;
  std::string nq = fhir::index::NormalizeString(query), ns = fhir::index::NormalizeString(stored);
  return nq.find('*') != std::string::npos ? WildcardMatch(nq, ns) : nq == ns;
}

bool PostcodeEquals(const TraceQuery& q, std::string_view stored) {
  if (q.exact) return q.postcode == stored;
  std::string nq = NormalizePostcode(q.postcode), ns = NormalizePostcode(stored);
  return nq.find('*') != std::string::npos ? WildcardMatch(nq, ns) : nq == ns;
}

// Outcome of one non-fuzzy criterion: failed, met by current data, or met
// only by historic data.
enum class Met { kNo, kCurrent, kHistoric };

template <typename Items, typename Pred>
Met AnyOf(const Items& items, bool history, Pred pred) {
  Met best = Met::kNo;
  for (const auto& item : items) {
    if (item.historic && !history) continue;
    if (!pred(item)) continue;
    if (!item.historic) return Met::kCurrent;
    best = Met::kHistoric;
  }
  return best;
}

// The best of family and given over the patient's names, weighted; also
// tries the query's family and given names the other way round.
double NamesScore(const TraceQuery& q, const TracePatient& p, double weight_given) {
  double best = 0;
  const std::string* qgiven = q.given.empty() ? nullptr : &q.given.front();
  for (const TraceName& n : p.names) {
    double given = 0;
    if (qgiven != nullptr) {
      for (size_t i = 0; i < n.given.size(); ++i) {
        given = std::max(given, GivenSimilarity(*qgiven, n.given[i]) * (i == 0 ? 1 : kLaterGiven));
      }
    }
    double direct = kWeightFamily * NameSimilarity(q.family, n.family) + weight_given * given;
    double swapped = 0;
    if (!n.given.empty()) {
      swapped = kTransposed * (kWeightFamily * NameSimilarity(q.family, n.given.front()) +
                               (qgiven ? weight_given * NameSimilarity(*qgiven, n.family) : 0));
    }
    best = std::max(best, std::max(direct, swapped) * (n.historic ? kHistoricName : 1));
  }
  return best;
}

}  // namespace

TracePatient ReadPatient(const json::object& patient, std::string_view today) {
  TracePatient p;
  p.id = Str(patient, "id");
  p.gender = Str(patient, "gender");
  p.birth_date = Str(patient, "birthDate");
  if (const json::value* meta = patient.if_contains("meta"); meta && meta->is_object()) {
    ForEachObject(meta->get_object(), "security", [&](const json::object& c) {
      if (Str(c, "code") == "R" && Str(c, "system") == kConfidentiality) p.restricted = true;
    });
  }
  ForEachObject(patient, "name", [&](const json::object& o) {
    TraceName n;
    n.family = Str(o, "family");
    if (const json::value* g = o.if_contains("given"); g && g->is_array()) {
      for (const json::value& v : g->get_array()) {
        if (v.is_string()) n.given.emplace_back(v.get_string());
      }
    }
    n.historic = Historic(o, today);
    p.names.push_back(std::move(n));
  });
  ForEachObject(patient, "address", [&](const json::object& o) {
    if (Str(o, "postalCode").empty()) return;
    p.addresses.push_back(TraceAddress{std::string(Str(o, "postalCode")), Historic(o, today)});
  });
  ForEachObject(patient, "telecom", [&](const json::object& o) {
    if (Str(o, "value").empty()) return;
    p.telecoms.push_back(TraceTelecom{std::string(Str(o, "system")), std::string(Str(o, "value")),
                                      Historic(o, today)});
  });
  ForEachObject(patient, "generalPractitioner", [&](const json::object& o) {
    if (const json::value* id = o.if_contains("identifier"); id && id->is_object()) {
      std::string_view v = Str(id->get_object(), "value");
      if (!v.empty()) p.practices.emplace_back(v);
    }
    std::string_view ref = Str(o, "reference");
    if (size_t slash = ref.rfind('/'); slash != std::string_view::npos) {
      p.practices.emplace_back(ref.substr(slash + 1));
    }
  });
  return p;
}

std::optional<double> MatchExact(const TraceQuery& q, const TracePatient& p) {
  if (!q.gender.empty() && q.gender != p.gender) return std::nullopt;
  // Restricted records are found by name, never by contact details alone.
  if (p.restricted && q.family.empty() && q.given.empty()) return std::nullopt;
  std::vector<Met> met;
  if (!q.family.empty() || !q.given.empty()) {
    met.push_back(AnyOf(p.names, q.history, [&](const TraceName& n) {
      if (!q.family.empty() && !NameEquals(q, q.family, n.family)) return false;
      for (const std::string& g : q.given) {
        bool any = std::any_of(n.given.begin(), n.given.end(),
                               [&](const std::string& s) { return NameEquals(q, g, s); });
        if (!any) return false;
      }
      return true;
    }));
  }
  if (!p.restricted) {
    if (!q.postcode.empty()) {
      met.push_back(AnyOf(p.addresses, q.history,
                          [&](const TraceAddress& a) { return PostcodeEquals(q, a.postcode); }));
    }
    if (!q.practice.empty()) {
      bool any = std::any_of(p.practices.begin(), p.practices.end(),
                             [&](const std::string& s) { return Lower(s) == Lower(q.practice); });
      met.push_back(any ? Met::kCurrent : Met::kNo);
    }
    for (auto [system, value] : {std::pair<std::string_view, const std::string*>{"email", &q.email},
                                 {"phone", &q.phone}}) {
      if (value->empty()) continue;
      met.push_back(AnyOf(p.telecoms, q.history,
                          [&](const TraceTelecom& t) { return SameTelecom(system, *value, t); }));
    }
  }
  if (std::find(met.begin(), met.end(), Met::kNo) != met.end()) return std::nullopt;
  return std::find(met.begin(), met.end(), Met::kHistoric) != met.end() ? 0.9 : 1.0;
}

double ScoreFuzzy(const TraceQuery& q, const TracePatient& p) {
  double sum = 0, weights = 0;
  auto add = [&](double weight, double similarity) {
    sum += weight * similarity;
    weights += weight;
  };
  double weight_given = q.given.empty() ? 0 : kWeightGiven;
  sum += NamesScore(q, p, weight_given);
  weights += kWeightFamily + weight_given;
  if (!q.birth_date.empty()) add(kWeightBirthDate, BirthDateSimilarity(q.birth_date, p.birth_date));
  if (!q.gender.empty()) {
    bool known = p.gender == "male" || p.gender == "female";
    bool queried = q.gender == "male" || q.gender == "female";
    add(kWeightGender, !known || !queried ? (q.gender == p.gender ? 1 : 0.5)
                                          : (q.gender == p.gender ? 1 : 0));
  }
  if (!p.restricted) {
    if (!q.postcode.empty()) {
      double best = 0;
      for (const TraceAddress& a : p.addresses) {
        best = std::max(best, PostcodeSimilarity(q.postcode, a.postcode) *
                                  (a.historic ? kHistoricContact : 1));
      }
      add(kWeightPostcode, best);
    }
    if (!q.practice.empty()) {
      bool any = std::any_of(p.practices.begin(), p.practices.end(),
                             [&](const std::string& s) { return Lower(s) == Lower(q.practice); });
      add(kWeightPractice, any ? 1 : 0);
    }
    for (auto [system, value, weight] :
         {std::tuple<std::string_view, const std::string*, double>{"email", &q.email, kWeightEmail},
          {"phone", &q.phone, kWeightPhone}}) {
      if (value->empty()) continue;
      double best = 0;
      for (const TraceTelecom& t : p.telecoms) {
        if (SameTelecom(system, *value, t)) best = std::max(best, t.historic ? kHistoricContact : 1);
      }
      add(weight, best);
    }
  }
  return weights > 0 ? sum / weights : 0;
}

}  // namespace crs::nhs::trace
