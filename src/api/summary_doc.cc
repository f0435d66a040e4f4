#include "api/summary_doc.h"
#include "fhir/json_util.h"

#include <boost/json.hpp>
#include <ctime>
#include <map>
#include <set>

#include "access/facts.h"
#include "fhir/index/date_range.h"
#include "nhs/nhs_number.h"
#include "core/time.h"

namespace crs::api {

namespace json = boost::json;
using fhir::StringField;

namespace {


// Composition sections of the core summary (NHS SCR section codes); any
// other section is additional information unless it shows only core items.
bool CoreSection(std::string_view code) {
  return code == "Title" || code == "AllergiesHeader" || code == "AcuteMedsHeader" ||
         code == "RepeatMedsHeader" || code == "DiscRepeatMedsHeader";
}

std::string SectionCode(const json::object& section) {
  const json::value* code = section.if_contains("code");
  if (!code || !code->is_object()) return "";
  const json::value* codings = code->get_object().if_contains("coding");
  if (!codings || !codings->is_array() || codings->get_array().empty()) return "";
  const json::value& c = codings->get_array()[0];
  return c.is_object() ? std::string(StringField(c.get_object(), "code")) : "";
}

// Whether a CodeableConcept carries at least one coded value.
bool Coded(const json::value* cc) {
  if (!cc || !cc->is_object()) return false;
  const json::value* codings = cc->get_object().if_contains("coding");
  if (!codings || !codings->is_array()) return false;
  for (const auto& c : codings->get_array()) {
    if (c.is_object() && !StringField(c.get_object(), "code").empty()) return true;
  }
  return false;
}

// The element that codes a clinical item, or "" when the type has none we check.
Status CheckCoded(const json::object& r, std::string_view type, size_t index) {
  bool ok = true;
  if (type == "AllergyIntolerance" || type == "Condition" || type == "Procedure" ||
      type == "Observation") {
    ok = Coded(r.if_contains("code"));
  } else if (type == "Immunization") {
    ok = Coded(r.if_contains("vaccineCode"));
  } else if (type == "MedicationStatement" || type == "MedicationRequest") {
    ok = Coded(r.if_contains("medicationCodeableConcept")) || r.contains("medicationReference");
  } else if (type == "Medication") {
    ok = Coded(r.if_contains("code"));
  }
  if (ok) return Status::Ok();
  return Status::Invalid("entry " + std::to_string(index) + " (" + std::string(type) +
                         ") has no code: every clinical item of a summary must be coded")
      .WithDetail("MISSING_VALUE");
}

// Acute medication (docs/summary.md): a MedicationRequest whose
// courseOfTherapyType is "acute", or a MedicationStatement/Request the
// practice lists under AcuteMedsHeader. Calls `fn(entry, date_ms)` for each
// with a date (the end of its authoredOn / effective / dateAsserted, the
// latest given); acute items without any date are not reported.
template <typename Fn>
void ForEachDatedAcute(const json::object& bundle, Fn fn) {
  const json::value* entries = bundle.if_contains("entry");
  if (!entries || !entries->is_array() || entries->get_array().empty()) return;
  std::set<std::string> listed;
  const json::value* comp = entries->get_array()[0].is_object()
                                ? entries->get_array()[0].get_object().if_contains("resource")
                                : nullptr;
  const json::value* sections = comp && comp->is_object() ? comp->get_object().if_contains("section")
                                                          : nullptr;
  if (sections && sections->is_array()) {
    for (const auto& sec : sections->get_array()) {
      if (!sec.is_object() || SectionCode(sec.get_object()) != "AcuteMedsHeader") continue;
      const json::value* se = sec.get_object().if_contains("entry");
      if (!se || !se->is_array()) continue;
      for (const auto& ref : se->get_array()) {
        if (ref.is_object()) listed.insert(std::string(StringField(ref.get_object(), "reference")));
      }
    }
  }
  for (const auto& e : entries->get_array()) {
    const json::object* eo = e.if_object();
    const json::value* r = eo ? eo->if_contains("resource") : nullptr;
    if (!r || !r->is_object()) continue;
    const json::object& ro = r->get_object();
    std::string_view type = StringField(ro, "resourceType");
    if (type != "MedicationStatement" && type != "MedicationRequest") continue;
    bool acute = listed.count(std::string(StringField(*eo, "fullUrl"))) > 0 ||
                 listed.count(std::string(type) + "/" + std::string(StringField(ro, "id"))) > 0;
    if (const json::value* course = ro.if_contains("courseOfTherapyType"); course && course->is_object()) {
      if (const json::value* codings = course->get_object().if_contains("coding");
          codings && codings->is_array()) {
        for (const auto& c : codings->get_array()) {
          if (c.is_object() && StringField(c.get_object(), "code") == "acute") acute = true;
        }
      }
    }
    if (!acute) continue;
    std::optional<int64_t> latest;
    auto consider = [&](std::string_view text) {
      if (text.empty()) return;
      if (auto range = fhir::index::ParseSearchDate(text)) {
        int64_t end = range->high_ms - 1;
        if (!latest || end > *latest) latest = end;
      }
    };
    consider(StringField(ro, "authoredOn"));
    consider(StringField(ro, "effectiveDateTime"));
    consider(StringField(ro, "dateAsserted"));
    if (const json::value* period = ro.if_contains("effectivePeriod"); period && period->is_object()) {
      consider(StringField(period->get_object(), "end"));
      consider(StringField(period->get_object(), "start"));
    }
    if (latest) fn(*eo, *latest);
  }
}

// The same moment a year earlier (UTC, calendar year).
int64_t YearBefore(int64_t ms) {
  time_t secs = static_cast<time_t>(ms / 1000);
  std::tm t{};
  gmtime_r(&secs, &t);
  return fhir::index::EpochMillis(t.tm_year + 1900 - 1, t.tm_mon + 1, t.tm_mday, t.tm_hour,
                                  t.tm_min, t.tm_sec, static_cast<int>(ms % 1000));
}

constexpr std::string_view kAcuteMarker = "urn:opencrs:acute-medication-oldest";

// Every "reference" string in `v`.
void References(const json::value& v, std::vector<std::string>* out) {
  if (const json::object* o = v.if_object()) {
    for (const auto& [k, child] : *o) {
      if (k == "reference" && child.is_string()) {
        out->emplace_back(child.get_string());
      } else {
        References(child, out);
      }
    }
  } else if (const json::array* a = v.if_array()) {
    for (const auto& child : *a) References(child, out);
  }
}

bool PointsTo(const json::value& v, const std::set<std::string>& targets) {
  const json::object* o = v.if_object();
  if (!o) return false;
  std::string_view ref = StringField(*o, "reference");
  return !ref.empty() && targets.count(std::string(ref)) > 0;
}

// Removes references to `dropped` (array elements, or the element holding
// one) and rewrites references to the subject as Patient/<nhs>.
void Scrub(json::value& v, const std::set<std::string>& dropped,
           const std::set<std::string>& subject, const std::string& nhs) {
  if (json::object* o = v.if_object()) {
    if (const json::value* ref = o->if_contains("reference");
        ref && ref->is_string() && subject.count(std::string(ref->get_string()))) {
      (*o)["reference"] = "Patient/" + nhs;
    }
    std::vector<std::string> erase;
    for (auto& [k, child] : *o) {
      if (PointsTo(child, dropped)) {
        erase.emplace_back(k);
      } else {
        Scrub(child, dropped, subject, nhs);
      }
    }
    for (const auto& k : erase) o->erase(k);
  } else if (json::array* a = v.if_array()) {
    json::array kept;
    for (auto& child : *a) {
      if (PointsTo(child, dropped)) continue;
      Scrub(child, dropped, subject, nhs);
      kept.push_back(std::move(child));
    }
    *a = std::move(kept);
  }
}

std::string NhsOfPatient(const json::object& patient) {
  const json::value* ids = patient.if_contains("identifier");
  if (!ids || !ids->is_array()) return "";
  for (const auto& i : ids->get_array()) {
    if (i.is_object() && StringField(i.get_object(), "system") == access::kNhsNumberSystem) {
      return std::string(StringField(i.get_object(), "value"));
    }
  }
  return "";
}

// --- narrative ------------------------------------------------------------

void Escape(std::string_view s, std::string* out) {
  for (char c : s) {
    switch (c) {
      case '<': *out += "&lt;"; break;
      case '>': *out += "&gt;"; break;
      case '&': *out += "&amp;"; break;
      case '"': *out += "&quot;"; break;
      default: *out += c;
    }
  }
}

std::string TextOf(const json::value* cc) {
  if (!cc || !cc->is_object()) return "";
  const json::object& o = cc->get_object();
  if (auto t = StringField(o, "text"); !t.empty()) return std::string(t);
  if (const json::value* codings = o.if_contains("coding"); codings && codings->is_array()) {
    for (const auto& c : codings->get_array()) {
      if (!c.is_object()) continue;
      if (auto d = StringField(c.get_object(), "display"); !d.empty()) return std::string(d);
    }
    for (const auto& c : codings->get_array()) {
      if (c.is_object() && !StringField(c.get_object(), "code").empty()) {
        return "code " + std::string(StringField(c.get_object(), "code"));
      }
    }
  }
  return "";
}

bool NoKnownAllergy(const json::object& allergy) {
  const json::value* code = allergy.if_contains("code");
  if (!code || !code->is_object()) return false;
  const json::value* codings = code->get_object().if_contains("coding");
  if (!codings || !codings->is_array()) return false;
  for (const auto& c : codings->get_array()) {
    if (!c.is_object()) continue;
    std::string_view v = StringField(c.get_object(), "code");
    // No known allergy; no known drug allergy; no known food/environmental allergy.
    if (v == "716186003" || v == "409137002" || v == "429625007" || v == "428607008") return true;
  }
  return false;
}

std::string ItemLine(const json::object& r, std::string_view type) {
  std::string text;
  if (type == "MedicationStatement" || type == "MedicationRequest") {
    text = TextOf(r.if_contains("medicationCodeableConcept"));
    if (text.empty()) text = "medication";
    if (const json::value* d = r.if_contains(type == "MedicationStatement" ? "dosage"
                                                                            : "dosageInstruction");
        d && d->is_array() && !d->get_array().empty() && d->get_array()[0].is_object()) {
      if (auto t = StringField(d->get_array()[0].get_object(), "text"); !t.empty()) {
        text += " — " + std::string(t);
      }
    }
  } else if (type == "Immunization") {
    text = TextOf(r.if_contains("vaccineCode"));
  } else {
    text = TextOf(r.if_contains("code"));
  }
  return text.empty() ? std::string(type) : text;
}

// The inner XHTML of a section's div (without the enclosing div).
std::string_view InnerDiv(const json::object& section) {
  const json::value* text = section.if_contains("text");
  if (!text || !text->is_object()) return "";
  std::string_view div = StringField(text->get_object(), "div");
  size_t open = div.find('>');
  size_t close = div.rfind("</div>");
  if (open == std::string_view::npos || close == std::string_view::npos || close <= open) return "";
  return div.substr(open + 1, close - open - 1);
}

}  // namespace

std::string SummaryId(std::string_view nhs) { return "scr-" + std::string(nhs); }

EntryPart EntryPartOf(std::string_view type) {
  if (type == "AllergyIntolerance" || type == "MedicationStatement" ||
      type == "MedicationRequest" || type == "Medication") {
    return EntryPart::kCore;
  }
  if (type == "Patient" || type == "Practitioner" || type == "PractitionerRole" ||
      type == "Organization" || type == "Device" || type == "RelatedPerson" ||
      type == "Location" || type == "Composition") {
    return EntryPart::kSupport;
  }
  return EntryPart::kAdditional;
}

Result<std::string> SummarySubject(const json::value& upload) {
  const json::object* bundle = upload.if_object();
  if (!bundle || StringField(*bundle, "resourceType") != "Bundle" || StringField(*bundle, "type") != "document") {
    return Status::Invalid("a summary is uploaded as a FHIR document Bundle").WithDetail("INVALID_VALUE");
  }
  const json::value* entries = bundle->if_contains("entry");
  const json::value* first = entries && entries->is_array() && !entries->get_array().empty()
                                 ? &entries->get_array()[0] : nullptr;
  const json::value* comp = first && first->is_object() ? first->get_object().if_contains("resource")
                                                        : nullptr;
  if (!comp || !comp->is_object() || StringField(comp->get_object(), "resourceType") != "Composition") {
    return Status::Invalid("Composition missing from payload (it must be the document's first entry)")
        .WithDetail("MISSING_VALUE");
  }
  const json::value* subject = comp->get_object().if_contains("subject");
  if (!subject || !subject->is_object()) {
    return Status::Invalid("the Composition has no subject").WithDetail("MISSING_VALUE");
  }
  std::string ref(StringField(subject->get_object(), "reference"));
  std::string nhs;
  for (const auto& e : entries->get_array()) {
    if (!e.is_object()) continue;
    const json::value* r = e.get_object().if_contains("resource");
    if (!r || !r->is_object() || StringField(r->get_object(), "resourceType") != "Patient") continue;
    if (StringField(e.get_object(), "fullUrl") == ref ||
        "Patient/" + std::string(StringField(r->get_object(), "id")) == ref) {
      nhs = NhsOfPatient(r->get_object());
    }
  }
  if (nhs.empty() && ref.starts_with("Patient/")) nhs = ref.substr(8);
  if (nhs.empty()) {
    if (const json::value* id = subject->get_object().if_contains("identifier");
        id && id->is_object() && StringField(id->get_object(), "system") == access::kNhsNumberSystem) {
      nhs = std::string(StringField(id->get_object(), "value"));
    }
  }
  if (nhs.empty()) {
    return Status::Invalid("the Composition's subject names no NHS number").WithDetail("MISSING_VALUE");
  }
  if (!nhs::IsValidNhsNumber(nhs)) {
    return Status::Invalid("the subject's NHS number is not valid").WithDetail("INVALID_NHS_NUMBER");
  }
  return nhs;
}

Result<BuiltSummary> BuildSummary(const json::value& upload, const SummaryRules& rules) {
  BuiltSummary out;
  CRS_ASSIGN_OR_RETURN(out.nhs, SummarySubject(upload));
  const json::object& bundle = upload.get_object();
  const json::array& entries = bundle.at("entry").get_array();
  // What each reference may name: an entry's fullUrl or its Type/id.
  std::map<std::string, size_t> keys;
  for (size_t i = 0; i < entries.size(); ++i) {
    const json::object* e = entries[i].if_object();
    const json::value* r = e ? e->if_contains("resource") : nullptr;
    if (!r || !r->is_object()) {
      return Status::Invalid("entry " + std::to_string(i) + " has no resource");
    }
    if (auto full = StringField(*e, "fullUrl"); !full.empty()) keys.emplace(std::string(full), i);
    std::string type(StringField(r->get_object(), "resourceType"));
    std::string id(StringField(r->get_object(), "id"));
    if (!id.empty()) keys.emplace(type + "/" + id, i);
  }
  std::vector<bool> drop(entries.size(), false);
  // Acute medication more than 12 months old is not part of the summary.
  if (rules.now_ms > 0) {
    int64_t cutoff = YearBefore(rules.now_ms);
    ForEachDatedAcute(bundle, [&](const json::object& e, int64_t date_ms) {
      if (date_ms >= cutoff) return;
      const json::object& r = e.at("resource").get_object();
      auto it = keys.find(std::string(StringField(r, "resourceType")) + "/" +
                          std::string(StringField(r, "id")));
      if (it == keys.end()) it = keys.find(std::string(StringField(e, "fullUrl")));
      if (it != keys.end() && !drop[it->second]) {
        drop[it->second] = true;
        ++out.acute_expired_dropped;
      }
    });
  }
  std::set<std::string> subject_keys;
  for (size_t i = 0; i < entries.size(); ++i) {
    const json::object& r = entries[i].at("resource").get_object();
    std::string type(StringField(r, "resourceType"));
    std::vector<std::string> refs;
    References(entries[i].at("resource"), &refs);
    for (const auto& ref : refs) {
      if (ref.starts_with("#") || keys.count(ref)) continue;
      return Status::Invalid("entry " + std::to_string(i) + " (" + type +
                             ") has a reference that does not resolve within the document")
          .WithDetail("INVALID_VALUE");
    }
    CRS_RETURN_IF_ERROR(CheckCoded(r, type, i));
    if (i == 0) continue;
    if (drop[i]) continue;  // expired acute medication
    if (type == "Patient") {
      std::string nhs = NhsOfPatient(r);
      if (!nhs.empty() && nhs != out.nhs) {
        return Status::Invalid("the document names more than one patient").WithDetail("INVALID_VALUE");
      }
      drop[i] = true;  // replaced by the canonical Patient entry below
      if (auto full = StringField(entries[i].get_object(), "fullUrl"); !full.empty()) {
        subject_keys.insert(std::string(full));
      }
      subject_keys.insert("Patient/" + std::string(StringField(r, "id")));
      continue;
    }
    EntryPart part = EntryPartOf(type);
    if (part != EntryPart::kSupport && rules.sensitive->Mentions(entries[i].at("resource"))) {
      drop[i] = true;
      ++out.sensitive_dropped;
    } else if (part == EntryPart::kAdditional && !rules.additional) {
      drop[i] = true;
      ++out.additional_dropped;
    } else if (part != EntryPart::kSupport) {
      ++out.kept;
    }
  }
  // References already in the canonical form Patient/<nhs> stay as they
  // are: neither rewritten nor removed with the uploaded Patient entry.
  const std::string canonical = "Patient/" + out.nhs;
  subject_keys.erase(canonical);
  std::set<std::string> dropped;
  for (const auto& [key, i] : keys) {
    if (drop[i] && !subject_keys.count(key) && key != canonical) dropped.insert(key);
  }
  // The Composition: its sections lose what was left out.
  json::value comp = entries[0].at("resource");
  json::object& c = comp.get_object();
  // The NHS SCR API's examples carry no Composition.title (required in R4):
  // the document type names it.
  if (StringField(c, "title").empty()) {
    std::string title = TextOf(c.if_contains("type"));
    c["title"] = title.empty() || title.starts_with("code ") ? "General Practice Summary" : title;
  }
  if (json::value* sections = c.if_contains("section"); sections && sections->is_array()) {
    json::array kept;
    for (auto& s : sections->get_array()) {
      if (!s.is_object()) continue;
      json::object& so = s.get_object();
      std::string code = SectionCode(so);
      bool core = CoreSection(code);
      bool sensitive = rules.sensitive->Mentions(s);
      bool lost_items = false;
      bool all_core = true;
      if (const json::value* se = so.if_contains("entry"); se && se->is_array()) {
        for (const auto& ref : se->get_array()) {
          if (PointsTo(ref, dropped)) lost_items = true;
          auto it = ref.is_object() ? keys.find(std::string(StringField(ref.get_object(), "reference")))
                                    : keys.end();
          if (it != keys.end()) {
            std::string_view t = StringField(entries[it->second].at("resource").get_object(), "resourceType");
            if (EntryPartOf(t) == EntryPart::kAdditional) all_core = false;
          }
        }
        if (!se->get_array().empty() && all_core) core = true;
      }
      if (!core && !rules.additional) {
        ++out.additional_dropped;
        continue;
      }
      if (sensitive) {
        ++out.sensitive_dropped;
        continue;
      }
      // A narrative written around items that were left out could still
      // name them: it goes too (the generated narrative stands instead).
      if (lost_items) {
        so.erase("text");
        // Nothing left to show: the section goes (R4 allows neither an
        // empty entry list nor a section without text, entries or sections).
        size_t left = 0;
        if (const json::value* se = so.if_contains("entry"); se && se->is_array()) {
          for (const auto& ref : se->get_array()) left += PointsTo(ref, dropped) ? 0 : 1;
        }
        if (left == 0 && !so.contains("section")) continue;
      }
      kept.push_back(std::move(s));
    }
    if (kept.empty()) {
      c.erase("section");
    } else {
      *sections = std::move(kept);
    }
  }
  json::array stored;
  json::object comp_entry;
  comp_entry["fullUrl"] = entries[0].get_object().contains("fullUrl")
                              ? entries[0].at("fullUrl") : json::value("Composition/" + std::string(StringField(c, "id")));
  comp_entry["resource"] = std::move(comp);
  stored.push_back(std::move(comp_entry));
  json::object patient;
  patient["resourceType"] = "Patient";
  patient["id"] = out.nhs;
  patient["identifier"] = json::array{json::object{{"system", access::kNhsNumberSystem},
                                                   {"value", out.nhs}}};
  stored.push_back(json::object{{"fullUrl", "Patient/" + out.nhs}, {"resource", std::move(patient)}});
  for (size_t i = 1; i < entries.size(); ++i) {
    if (drop[i]) continue;
    stored.push_back(entries[i]);
  }
  json::value doc = json::object{{"resourceType", "Bundle"}, {"type", "document"}};
  json::object& d = doc.get_object();
  if (const json::value* ident = bundle.if_contains("identifier")) d["identifier"] = *ident;
  if (const json::value* ts = bundle.if_contains("timestamp")) d["timestamp"] = *ts;
  d["entry"] = std::move(stored);
  json::value& stored_entries = d["entry"];
  for (auto& e : stored_entries.get_array()) Scrub(e.get_object()["resource"], dropped, subject_keys, out.nhs);
  json::object& stored_comp = stored_entries.get_array()[0].get_object()["resource"].get_object();
  stored_comp["subject"] = json::object{
      {"reference", "Patient/" + out.nhs},
      {"identifier", json::object{{"system", access::kNhsNumberSystem}, {"value", out.nhs}}}};
  // The view hides acute items as they pass 12 months (ExpiredAcuteItems);
  // the oldest one's date lets it skip that work until then.
  std::optional<int64_t> oldest;
  ForEachDatedAcute(d, [&](const json::object&, int64_t date_ms) {
    if (!oldest || date_ms < *oldest) oldest = date_ms;
  });
  if (oldest) {
    json::value* ext = stored_comp.if_contains("extension");
    if (!ext || !ext->is_array()) ext = &(stored_comp["extension"] = json::array());
    ext->get_array().push_back(
        json::object{{"url", kAcuteMarker}, {"valueDateTime", FormatInstant(*oldest)}});
  }
  stored_comp["text"] = json::object{
      {"status", "generated"},
      {"div", SummaryNarrative(d, [](const json::object&) { return true; })}};
  out.document = std::move(doc);
  return out;
}

std::string SummaryNarrative(const json::object& bundle,
                             const std::function<bool(const json::object&)>& shown) {
  std::vector<std::string> allergies, medications, additional;
  bool no_known_allergy = false;
  const json::object* comp = nullptr;
  std::string nhs;
  if (const json::value* entries = bundle.if_contains("entry"); entries && entries->is_array()) {
    for (const auto& e : entries->get_array()) {
      const json::value* r = e.is_object() ? e.get_object().if_contains("resource") : nullptr;
      if (!r || !r->is_object()) continue;
      const json::object& o = r->get_object();
      std::string_view type = StringField(o, "resourceType");
      if (type == "Composition") {
        comp = &o;
        continue;
      }
      if (type == "Patient") nhs = StringField(o, "id");
      if (EntryPartOf(type) == EntryPart::kSupport || type == "Medication" || !shown(o)) continue;
      if (type == "AllergyIntolerance") {
        if (NoKnownAllergy(o)) {
          no_known_allergy = true;
        } else {
          allergies.push_back(ItemLine(o, type));
        }
      } else if (EntryPartOf(type) == EntryPart::kCore) {
        medications.push_back(ItemLine(o, type));
      } else {
        additional.push_back(std::string(type) + ": " + ItemLine(o, type));
      }
    }
  }
  std::string s = "<div xmlns=\"http://www.w3.org/1999/xhtml\"><h2>Summary Care Record</h2>";
  if (!nhs.empty()) {
    s += "<p>NHS number: ";
    Escape(nhs, &s);
    s += "</p>";
  }
  auto list = [&](const std::vector<std::string>& items) {
    s += "<ul>";
    for (const auto& i : items) {
      s += "<li>";
      Escape(i, &s);
      s += "</li>";
    }
    s += "</ul>";
  };
  // The NHS CUI allergy heading: recorded allergies, a recorded "no known
  // allergies", or nothing recorded at all.
  std::string_view allergy_narrative;
  std::vector<std::pair<std::string, std::string_view>> sections;
  if (comp) {
    if (const json::value* ss = comp->if_contains("section"); ss && ss->is_array()) {
      for (const auto& sec : ss->get_array()) {
        if (!sec.is_object()) continue;
        std::string code = SectionCode(sec.get_object());
        std::string_view inner = InnerDiv(sec.get_object());
        if (inner.empty() || code == "Title") continue;
        if (code == "AllergiesHeader") {
          allergy_narrative = inner;
        } else {
          sections.emplace_back(std::string(StringField(sec.get_object(), "title")), inner);
        }
      }
    }
  }
  if (!allergies.empty()) {
    s += "<h3>Known allergies</h3>";
    list(allergies);
  } else if (no_known_allergy) {
    s += "<h3>No known allergies</h3>";
  } else if (!allergy_narrative.empty()) {
    s += "<h3>Allergies and adverse reactions (as recorded by the practice)</h3>";
  } else {
    s += "<h3>Allergies not recorded</h3>";
  }
  if (!allergy_narrative.empty()) {
    s += "<div>";
    s += allergy_narrative;
    s += "</div>";
  }
  bool medication_narrative = false;
  for (const auto& [title, inner] : sections) {
    medication_narrative = medication_narrative || title.find("Medication") != std::string::npos;
  }
  if (!medications.empty()) {
    s += "<h3>Medications</h3>";
    list(medications);
  } else if (!medication_narrative) {
    s += "<h3>Medications</h3><p>No medications recorded.</p>";
  }
  if (!additional.empty()) {
    s += "<h3>Additional information</h3>";
    list(additional);
  }
  for (const auto& [title, inner] : sections) {
    s += "<h3>";
    Escape(title, &s);
    s += "</h3><div>";
    s += inner;
    s += "</div>";
  }
  s += "</div>";
  return s;
}

}  // namespace crs::api

namespace crs::api {

std::set<std::string> ExpiredAcuteItems(const json::object& bundle, int64_t now_ms) {
  std::set<std::string> out;
  int64_t cutoff = YearBefore(now_ms);
  ForEachDatedAcute(bundle, [&](const json::object& e, int64_t date_ms) {
    if (date_ms >= cutoff) return;
    const json::object& r = e.at("resource").get_object();
    out.insert(std::string(StringField(r, "resourceType")) + "/" + std::string(StringField(r, "id")));
  });
  return out;
}

bool MayHoldExpiredAcute(std::string_view body, int64_t now_ms) {
  size_t at = body.find(kAcuteMarker);
  if (at == std::string_view::npos) return false;
  constexpr std::string_view kValue = "\"valueDateTime\":\"";
  size_t v = body.find(kValue, at);
  if (v == std::string_view::npos || v - at > 64) return true;  // unexpected shape: look closer
  v += kValue.size();
  size_t end = body.find('"', v);
  auto oldest = ParseFhirDateTime(body.substr(v, end == std::string_view::npos ? 0 : end - v));
  return !oldest || *oldest < YearBefore(now_ms);
}

}  // namespace crs::api
