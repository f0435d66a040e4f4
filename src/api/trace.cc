// Patient trace (PDS semantics, docs/trace.md): GET /fhir/Patient? with any
// of _fuzzy-match, _exact-match, _history or _max-results. Candidates come
// from the search index through the caller's access filter; nhs/trace.h
// judges and scores them; the response is a searchset Bundle with
// search.score, or a PDS error (Spine-ErrorOrWarningCode).
#include <algorithm>
#include <boost/json.hpp>
#include <cctype>
#include <charconv>
#include <cstdio>
#include <cstdlib>
#include <map>

#include "api/handler_internal.h"
#include "api/outcome.h"
#include "core/ids.h"
#include "fhir/index/date_range.h"
#include "fhir/index/normalize.h"
#include "fhir/index/phonetic.h"
#include "fhir/index/trace_keys.h"
#include "nhs/trace.h"
#include "store/store.h"

namespace crs::api {

namespace json = boost::json;

namespace {

namespace tr = nhs::trace;

constexpr std::string_view kSpineCodes = "https://fhir.nhs.uk/R4/CodeSystem/Spine-ErrorOrWarningCode";
// Most candidates one index query may yield. A non-fuzzy trace whose
// candidates reach it has too many matches; fuzzy queries are narrower.
constexpr int kExactCandidates = 500;
constexpr int kFuzzyCandidates = 200;
constexpr int kDefaultMaxResults = 1;
constexpr int kMaxMaxResults = 50;

// A PDS error: the Spine code and its display, the FHIR issue code.
struct PdsError {
  int status;
  const char* issue;
  const char* code;
  const char* display;
  std::string diagnostics;
};

PdsError InvalidSearch(std::string why) {
  return {400, "value", "INVALID_SEARCH_DATA", "Search data is invalid", std::move(why)};
}
PdsError InvalidValue(std::string why) {
  return {400, "value", "INVALID_VALUE", "Provided value is invalid", std::move(why)};
}
PdsError MissingValue(std::string why) {
  return {400, "required", "MISSING_VALUE", "Required value is missing", std::move(why)};
}

void SetPdsOutcome(const PdsError& e, std::string_view severity, http::Response* out) {
  json::object coding{{"system", kSpineCodes}, {"version", "1"}, {"code", e.code},
                      {"display", e.display}};
  json::object issue{{"severity", severity}, {"code", e.issue},
                     {"details", json::object{{"coding", json::array{coding}}}}};
  if (!e.diagnostics.empty()) issue["diagnostics"] = e.diagnostics;
  json::object oo{{"resourceType", "OperationOutcome"}, {"issue", json::array{issue}}};
  SetOutcome(e.status, json::serialize(oo), out);
}

struct TraceRequest {
  tr::TraceQuery query;
  bool fuzzy = false;
  int max_results = kDefaultMaxResults;
  std::vector<store::DateCond> birth, death;
};

std::optional<bool> Flag(const std::string& name, const std::string& v, PdsError* err) {
  if (v == "true") return true;
  if (v == "false") return false;
  *err = InvalidValue(name + " must be true or false");
  return std::nullopt;
}

// A score as JSON: at most four decimals, no exponent ("1", "0.9553").
std::string ScoreText(double score) {
  char buf[16];
  std::snprintf(buf, sizeof buf, "%.4f", score);
  std::string out(buf);
  while (out.back() == '0') out.pop_back();
  if (out.back() == '.') out.pop_back();
  return out;
}

// A date criterion: eq (default), ge or le, as PDS allows.
bool DateOf(const std::string& name, const std::string& v, store::DateCond* c, PdsError* err) {
  std::string_view rest = v;
  c->prefix = store::Prefix::kEq;
  if (rest.starts_with("ge") || rest.starts_with("le") || rest.starts_with("eq")) {
    c->prefix = rest[0] == 'g' ? store::Prefix::kGe : rest[0] == 'l' ? store::Prefix::kLe
                                                                     : store::Prefix::kEq;
    rest.remove_prefix(2);
  }
  auto range = fhir::index::ParseSearchDate(rest);
  if (!range || rest.size() > 10) {
    *err = InvalidSearch(name + " must be a date (YYYY, YYYY-MM or YYYY-MM-DD), optionally "
                                "prefixed with eq, ge or le");
    return false;
  }
  c->low_ms = range->low_ms;
  c->high_ms = range->high_ms;
  return true;
}

// `*` may follow at least two characters of a name or postcode.
bool WildcardOk(const std::string& v) {
  size_t star = v.find('*');
  return star == std::string::npos || star >= 2;
}

// Parses and checks a trace's parameters; false with `err` set when PDS
// would refuse them.
bool ParseTrace(const std::vector<std::pair<std::string, std::string>>& params, TraceRequest* t,
                PdsError* err) {
  tr::TraceQuery& q = t->query;
  std::map<std::string, int> seen;
  for (const auto& [name, value] : params) {
    if (name == "_format" || name == "_pretty") continue;
    int n = ++seen[name];
    if (value.empty()) {
      *err = MissingValue("parameter '" + name + "' has no value");
      return false;
    }
    bool repeatable = name == "given" || name == "birthdate" || name == "death-date";
    if (n > (repeatable ? 2 : 1)) {
      *err = InvalidSearch("parameter '" + name + "' is given too many times");
      return false;
    }
    std::string* text = nullptr;
    if (name == "family") {
      text = &q.family;
    } else if (name == "given") {
      q.given.push_back(value);
    } else if (name == "gender") {
      if (value != "male" && value != "female" && value != "other" && value != "unknown") {
        *err = InvalidValue("gender must be male, female, other or unknown");
        return false;
      }
      q.gender = value;
    } else if (name == "birthdate" || name == "death-date") {
      store::DateCond c;
      if (!DateOf(name, value, &c, err)) return false;
      (name == "birthdate" ? t->birth : t->death).push_back(c);
      if (name == "birthdate") q.birth_date = value;
    } else if (name == "address-postalcode") {
      text = &q.postcode;
    } else if (name == "general-practitioner") {
      text = &q.practice;
    } else if (name == "email") {
      text = &q.email;
    } else if (name == "phone") {
      text = &q.phone;
    } else if (name == "_fuzzy-match" || name == "_exact-match" || name == "_history") {
      auto b = Flag(name, value, err);
      if (!b) return false;
      (name == "_fuzzy-match" ? t->fuzzy : name == "_exact-match" ? q.exact : q.history) = *b;
    } else if (name == "_max-results") {
      int v = 0;
      auto [p, ec] = std::from_chars(value.data(), value.data() + value.size(), v);
      if (ec != std::errc() || p != value.data() + value.size() || v < 1 || v > kMaxMaxResults) {
        *err = InvalidValue("_max-results must be a whole number from 1 to 50");
        return false;
      }
      t->max_results = v;
    } else {
      *err = InvalidSearch("parameter '" + name + "' is not supported in a patient trace");
      return false;
    }
    if (text != nullptr) *text = value;
  }
  std::vector<const std::string*> wild = {&q.family, &q.postcode};
  for (const auto& g : q.given) wild.push_back(&g);
  bool any_wildcard = false;
  for (const std::string* v : wild) {
    if (!WildcardOk(*v)) {
      *err = InvalidSearch("a wildcard (*) must follow at least two characters");
      return false;
    }
    any_wildcard |= v->find('*') != std::string::npos;
  }
  if (any_wildcard && (t->fuzzy || q.exact)) {
    *err = InvalidSearch("wildcards cannot be used with _fuzzy-match or _exact-match");
    return false;
  }
  if (t->fuzzy && q.exact) {
    *err = InvalidSearch("_fuzzy-match and _exact-match cannot be combined");
    return false;
  }
  bool enough = !t->birth.empty() && (!q.family.empty() || !q.email.empty() || !q.phone.empty());
  if (t->fuzzy) {
    enough = !q.family.empty() && t->birth.size() == 1 && q.birth_date.size() == 10 &&
             t->birth.front().prefix == store::Prefix::kEq;
    if (!q.family.empty() && !t->birth.empty() && !enough) {
      *err = InvalidSearch("a fuzzy search takes one full date of birth (YYYY-MM-DD), no range");
      return false;
    }
  }
  if (!enough) {
    *err = InvalidSearch("Not enough search parameters were provided to be able to make a search: "
                         "a trace needs family and birthdate (or birthdate with email or phone)");
    return false;
  }
  return true;
}

store::Predicate Pred(std::string param, store::IndexTable table) {
  store::Predicate p;
  p.param = std::move(param);
  p.table = table;
  return p;
}

// A string predicate: the normalised text up to any wildcard, as a prefix.
store::Predicate PrefixPred(std::string param, const std::string& value) {
  store::Predicate p = Pred(std::move(param), store::IndexTable::kString);
  std::string norm = fhir::index::NormalizeString(value.substr(0, value.find('*')));
  p.any_of.push_back(store::StringCond{store::StringCond::Mode::kPrefix, norm});
  return p;
}

store::Predicate PhoneticPred(const std::vector<std::string>& names) {
  store::Predicate p = Pred("phonetic", store::IndexTable::kString);
  for (const auto& name : names) {
    for (auto& key : fhir::index::PhoneticKeys(name)) {
      p.any_of.push_back(store::StringCond{store::StringCond::Mode::kPrefix, std::move(key)});
    }
  }
  return p;
}

store::Predicate DayPred(const std::vector<std::string>& days) {
  store::Predicate p = Pred("birthdate", store::IndexTable::kDate);
  for (const auto& d : days) {
    auto range = fhir::index::ParseSearchDate(d);
    if (range) p.any_of.push_back(store::DateCond{store::Prefix::kEq, range->low_ms, range->high_ms});
  }
  return p;
}

store::Predicate TokenPred(std::string param, std::vector<std::string> codes) {
  store::Predicate p = Pred(std::move(param), store::IndexTable::kToken);
  for (auto& c : codes) {
    store::TokenCond t;
    t.code = std::move(c);
    p.any_of.emplace_back(std::in_place_type<store::TokenCond>, std::move(t));
  }
  return p;
}

// One index query's predicates (AND).
using Query = std::vector<store::Predicate>;

// A predicate on trace keys (fhir/index/trace_keys.h): any of `prefixes`.
store::Predicate KeyPred(std::string_view param, const std::vector<std::string>& prefixes) {
  store::Predicate p = Pred(std::string(param), store::IndexTable::kString);
  for (const auto& prefix : prefixes) {
    p.any_of.push_back(store::StringCond{store::StringCond::Mode::kPrefix, prefix});
  }
  return p;
}

// The day of an exact trace's single `birthdate=[eq]YYYY-MM-DD`, or "".
std::string ExactDay(const TraceRequest& t) {
  if (t.birth.size() != 1 || t.birth.front().prefix != store::Prefix::kEq) return "";
  std::string_view d = t.query.birth_date;
  if (d.starts_with("eq")) d.remove_prefix(2);
  return fhir::index::IsFullDate(d) ? std::string(d) : "";
}

// The index queries whose union holds every patient the trace could match,
// in stages: a fuzzy trace runs a later stage only when the earlier ones
// found no match. With `keys` (every Patient has its trace keys) a trace on
// one full birth date seeks the day's patients sharing a family name, a
// name's sound or a postcode district; otherwise it reads everyone born
// that day and checks each.
std::vector<std::vector<Query>> CandidateQueries(const TraceRequest& t, bool keys) {
  const tr::TraceQuery& q = t.query;
  std::vector<std::vector<Query>> out(1);
  if (!t.fuzzy) {
    std::vector<store::Predicate> all;
    std::string day = keys && !q.family.empty() ? ExactDay(t) : "";
    if (!day.empty()) {
      // The family up to any wildcard, born that day; first, so it drives.
      std::string family = q.family.substr(0, q.family.find('*'));
      all.push_back(KeyPred(fhir::index::kTraceFamily,
                            {fhir::index::TraceKey(day, fhir::index::NormalizeString(family))}));
    }
    for (const auto& c : t.birth) {
      if (!day.empty()) break;  // in the key
      all.push_back(Pred("birthdate", store::IndexTable::kDate));
      all.back().any_of.push_back(c);
    }
    for (const auto& c : t.death) {
      all.push_back(Pred("death-date", store::IndexTable::kDate));
      all.back().any_of.push_back(c);
    }
    // Gender is checked on the resource: as a token it would drive the
    // query (half of all patients) ahead of the birth date.
    if (!q.family.empty() && day.empty()) all.push_back(PrefixPred("family", q.family));
    for (const auto& g : q.given) all.push_back(PrefixPred("given", g));
    if (q.family.empty() && !q.email.empty()) {
      std::string lower = q.email;
      for (char& c : lower) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
      all.push_back(TokenPred("email", {q.email, lower}));
    } else if (q.family.empty() && !q.phone.empty()) {
      // Stored as written: try the common ways of writing a UK number.
      std::string digits;
      for (char c : q.phone) {
        if (c >= '0' && c <= '9') digits.push_back(c);
      }
      std::vector<std::string> forms = {q.phone, digits};
      if (digits.size() == 11) forms.push_back(digits.substr(0, 5) + " " + digits.substr(5));
      if (digits.size() == 11) forms.push_back(digits.substr(0, 4) + " " + digits.substr(4, 3) + " " + digits.substr(7));
      if (digits.size() == 11) forms.push_back(digits.substr(0, 3) + " " + digits.substr(3, 4) + " " + digits.substr(7));
      all.push_back(TokenPred("phone", std::move(forms)));
    }
    out[0].push_back(std::move(all));
    return out;
  }
  std::vector<std::string> days = {q.birth_date};
  if (auto swapped = tr::SwapDayMonth(q.birth_date)) days.push_back(*swapped);
  std::vector<std::string> names = q.given;
  names.push_back(q.family);
  // The postcode's district as a prefix of the normalised postcode ("ls1 ").
  std::string pc = tr::NormalizePostcode(q.postcode), district;
  if (pc.size() >= 2) {
    std::string outward = pc.size() > 4 ? pc.substr(0, pc.size() - 3) : pc;
    district = fhir::index::NormalizeString(outward) + (pc.size() > 4 ? " " : "");
  }
  // 1. Born on the day (or with day and month swapped), sharing the sound of
  //    any queried name in any position: typos, transposed names, old names.
  // 2. Born on the day, living (or having lived) in the postcode's district:
  //    a name too mistyped to share its sound.
  if (keys) {
    // Each one query over the keys of both days.
    std::vector<std::string> sounds;
    for (const auto& name : names) {
      for (auto& key : fhir::index::PhoneticKeys(name)) sounds.push_back(std::move(key));
    }
    std::sort(sounds.begin(), sounds.end());
    sounds.erase(std::unique(sounds.begin(), sounds.end()), sounds.end());
    std::vector<std::string> prefixes;
    for (const auto& day : days) {
      for (const auto& key : sounds) prefixes.push_back(fhir::index::PhoneticTraceKey(key, day));
    }
    if (!prefixes.empty()) out[0].push_back({KeyPred(fhir::index::kTracePhonetic, prefixes)});
    if (!district.empty()) {
      prefixes.clear();
      for (const auto& day : days) prefixes.push_back(fhir::index::TraceKey(day, district));
      out[0].push_back({KeyPred(fhir::index::kTracePostcode, prefixes)});
    }
  } else {
    // One query per day, each capped at kFuzzyCandidates.
    for (const auto& day : days) out[0].push_back({DayPred({day}), PhoneticPred(names)});
    if (!district.empty()) {
      store::Predicate p = Pred("address-postalcode", store::IndexTable::kString);
      p.any_of.push_back(store::StringCond{store::StringCond::Mode::kPrefix, district});
      for (const auto& day : days) out[0].push_back({DayPred({day}), p});
    }
  }
  // 3. Sounding like the family (and first given) name, born within a year
  //    either side: a wrong day, month or year of birth. (No gender: a token
  //    would drive the query over half the population.) A later stage: it
  //    reads every patient sounding like the family name born in three years.
  int year = std::atoi(q.birth_date.substr(0, 4).c_str());
  if (keys && year > 1) {
    // With keys, the phonetic keys of the three years: sound first, so each
    // year is one range of the index (a key's date may be a day, a month
    // or a year, and each lies in its year).
    auto sounding = [&](const std::string& name) {
      std::vector<std::string> prefixes;
      for (const auto& key : fhir::index::PhoneticKeys(name)) {
        for (int y = year - 1; y <= year + 1; ++y) {
          char text[8];
          std::snprintf(text, sizeof text, "%04d", y);
          prefixes.push_back(fhir::index::PhoneticTraceKey(key, text));
        }
      }
      return KeyPred(fhir::index::kTracePhonetic, prefixes);
    };
    Query near = {sounding(q.family)};
    if (!q.given.empty()) {
      // Both names' sounds are common over three years (thousands of rows
      // each at 10 million): one pass over each, not a check per row.
      near.push_back(sounding(q.given.front()));
      near.back().intersect = true;
    }
    out.push_back({std::move(near)});
    return out;
  }
  auto lo = fhir::index::ParseSearchDate(std::to_string(year - 1));
  auto hi = fhir::index::ParseSearchDate(std::to_string(year + 1));
  Query near = {PhoneticPred({q.family})};
  if (!q.given.empty()) near.push_back(PhoneticPred({q.given.front()}));
  if (lo && hi) {
    store::Predicate p = Pred("birthdate", store::IndexTable::kDate);
    p.any_of.push_back(store::DateCond{store::Prefix::kGe, lo->low_ms, lo->high_ms});
    near.push_back(std::move(p));
    p = Pred("birthdate", store::IndexTable::kDate);
    p.any_of.push_back(store::DateCond{store::Prefix::kLe, hi->low_ms, hi->high_ms});
    near.push_back(std::move(p));
  }
  out.push_back({std::move(near)});
  return out;
}

std::string Today(int64_t now_ms) { return FormatInstant(now_ms).substr(0, 10); }

}  // namespace

bool IsTraceSearch(std::string_view type,
                   const std::vector<std::pair<std::string, std::string>>& params) {
  if (type != "Patient") return false;
  for (const auto& [name, value] : params) {
    if (name == "_fuzzy-match" || name == "_exact-match" || name == "_history" ||
        name == "_max-results") {
      return true;
    }
  }
  return false;
}

void FhirApi::Trace(RequestContext& ctx,
                    const std::vector<std::pair<std::string, std::string>>& params,
                    http::Response* out) {
  TraceRequest t;
  PdsError err;
  if (!ParseTrace(params, &t, &err)) return SetPdsOutcome(err, "error", out);
  auto access = FilterOf(ctx, 's');
  // Candidates by rid, each once, scored as they arrive.
  std::map<int64_t, store::SearchMatch> candidates;
  std::vector<std::pair<double, store::SearchMatch*>> scored;
  bool overflow = false;
  std::string today = Today(clock_.NowMs());
  for (auto& stage : CandidateQueries(t, store_.TraceKeysComplete())) {
    if (t.fuzzy && !scored.empty()) break;
    for (auto& preds : stage) {
      store::SearchQuery q;
      q.type = "Patient";
      q.all_of = std::move(preds);
      q.count = t.fuzzy ? kFuzzyCandidates : kExactCandidates;
      q.access = access;
      auto result = store_.Search(q);
      if (!result.ok()) return SetError(result.status(), out);
      overflow |= result->next_after_rid != 0;
      for (auto& m : result->matches) {
        auto [it, added] = candidates.emplace(m.rid, std::move(m));
        if (!added) continue;
        json::error_code ec;
        json::value v = json::parse(it->second.body, ec);
        if (ec || !v.is_object()) continue;
        tr::TracePatient p = tr::ReadPatient(v.get_object(), today);
        p.restricted = p.restricted || (it->second.labels & store::AccessFacts::kRestricted) != 0;
        if (t.fuzzy) {
          double score = tr::ScoreFuzzy(t.query, p);
          if (score >= tr::kFuzzyThreshold) scored.emplace_back(score, &it->second);
        } else if (auto score = tr::MatchExact(t.query, p)) {
          scored.emplace_back(*score, &it->second);
        }
      }
    }
  }
  std::sort(scored.begin(), scored.end(), [](const auto& a, const auto& b) {
    return a.first != b.first ? a.first > b.first : a.second->id < b.second->id;
  });
  if (static_cast<int>(scored.size()) > t.max_results || (!t.fuzzy && overflow)) {
    // PDS answers 200 with the OperationOutcome itself, not a Bundle.
    PdsError e{200, "multiple-matches", "TOO_MANY_MATCHES", "Too Many Matches", ""};
    return SetPdsOutcome(e, "information", out);
  }
  store::SearchResult shown;
  std::string s = R"({"resourceType":"Bundle","id":")" + NewId() + R"(","meta":{"lastUpdated":")" +
                  FormatInstant(clock_.NowMs()) + R"("},"type":"searchset","total":)" +
                  std::to_string(scored.size());
  if (!scored.empty()) s += R"(,"entry":[)";
  for (size_t i = 0; i < scored.size(); ++i) {
    const store::SearchMatch& m = *scored[i].second;
    if (i > 0) s += ",";
    s += R"({"fullUrl":)";
    AppendJsonString(ctx.base + "/Patient/" + m.id, &s);
    s += R"(,"resource":)";
    AppendShown(ctx, "Patient", m.patient, m.labels, m.body, &s);  // restricted: no contact details
    s += R"(,"search":{"mode":"match","score":)" + ScoreText(scored[i].first) + "}}";
    shown.matches.push_back(m);
  }
  if (!scored.empty()) s += "]";
  s += "}";
  Saw(ctx, shown, "Patient");
  out->status = 200;
  out->SetHeader("Content-Type", std::string(kFhirJson));
  out->body = std::move(s);
}

}  // namespace crs::api
