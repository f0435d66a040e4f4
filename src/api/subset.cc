#include "api/subset.h"

#include <algorithm>
#include <boost/json.hpp>

#include "fhir/model.h"

namespace crs::api {

namespace json = boost::json;

namespace {

// The JSON key's element name: "_birthDate" (a primitive's extensions)
// follows "birthDate".
std::string_view ElementKey(std::string_view key) {
  return key.starts_with("_") ? key.substr(1) : key;
}

// Keeps, in `obj` described by `structure`, the keys `keep` accepts; inline
// structures (BackboneElements) that are kept are filtered the same way
// when `recurse`, since their children carry their own isSummary flags.
template <typename Keep>
void Filter(json::object& obj, const fhir::Structure* structure, const Keep& keep, bool recurse) {
  std::vector<std::string> drop;
  for (auto& [key, value] : obj) {
    std::string_view name = ElementKey(key);
    if (name == "resourceType") continue;
    const fhir::ChildView* child = structure ? structure->Find(name) : nullptr;
    if (!keep(name, child)) {
      drop.emplace_back(key);
      continue;
    }
    if (!recurse || child == nullptr || child->next == nullptr ||
        child->next->kind() != fhir::Structure::Kind::kInline) {
      continue;
    }
    auto filter_one = [&](json::value& v) {
      if (v.is_object()) Filter(v.as_object(), child->next, keep, recurse);
    };
    if (value.is_array()) {
      for (auto& item : value.as_array()) filter_one(item);
    } else {
      filter_one(value);
    }
  }
  for (const auto& key : drop) obj.erase(key);
}

bool Mandatory(const fhir::ChildView* child) {
  return child != nullptr && child->def != nullptr && child->def->min >= 1;
}

void TagSubsetted(json::object& resource) {
  json::value& meta = resource["meta"];
  if (!meta.is_object()) meta = json::object();
  json::value& tags = meta.as_object()["tag"];
  if (!tags.is_array()) tags = json::array();
  for (const auto& t : tags.as_array()) {
    if (t.is_object() && t.as_object().if_contains("code") && t.at("code") == "SUBSETTED" &&
        t.as_object().if_contains("system") && t.at("system").as_string() == kSubsettedSystem) {
      return;
    }
  }
  tags.as_array().push_back(json::object{{"system", kSubsettedSystem}, {"code", "SUBSETTED"}});
}

}  // namespace

Result<Subsetting> ParseSubsetting(const std::vector<std::pair<std::string, std::string>>& params) {
  Subsetting s;
  for (const auto& [k, v] : params) {
    if (k == "_summary") {
      if (v == "true") {
        s.summary = Subsetting::Summary::kTrue;
      } else if (v == "text") {
        s.summary = Subsetting::Summary::kText;
      } else if (v == "data") {
        s.summary = Subsetting::Summary::kData;
      } else if (v == "false") {
        s.summary = Subsetting::Summary::kFalse;
      } else if (v != "count") {
        return Status::Invalid("_summary must be true, text, data, count or false");
      }
    } else if (k == "_elements") {
      size_t start = 0;
      while (start <= v.size()) {
        size_t comma = v.find(',', start);
        std::string name = v.substr(start, comma == std::string::npos ? comma : comma - start);
        start = comma == std::string::npos ? v.size() + 1 : comma + 1;
        if (!name.empty()) s.elements.push_back(std::move(name));
      }
      if (s.elements.empty()) return Status::Invalid("_elements names no element");
    }
  }
  return s;
}

std::string SubsetResource(std::string_view type, const std::string& body, const Subsetting& s,
                           bool apply_elements) {
  bool elements = apply_elements && !s.elements.empty();
  if (s.summary == Subsetting::Summary::kFalse && !elements) return body;
  json::error_code ec;
  json::value doc = json::parse(body, ec);
  if (ec || !doc.is_object()) return body;
  json::object& obj = doc.as_object();
  const fhir::Structure* structure = fhir::Model::R4().FindStructure(type);
  using S = Subsetting::Summary;
  switch (s.summary) {
    case S::kTrue:
      Filter(
          obj, structure,
          [](std::string_view, const fhir::ChildView* c) {
            return c != nullptr && c->def != nullptr && (c->def->summary || c->def->min >= 1);
          },
          /*recurse=*/true);
      break;
    case S::kText:
      Filter(
          obj, structure,
          [](std::string_view name, const fhir::ChildView* c) {
            return name == "id" || name == "meta" || name == "text" || Mandatory(c);
          },
          /*recurse=*/false);
      break;
    case S::kData:
      obj.erase("text");
      break;
    case S::kFalse:
      break;
  }
  if (elements) {
    std::string prefix = std::string(type) + ".";
    Filter(
        obj, structure,
        [&](std::string_view name, const fhir::ChildView* c) {
          if (name == "id" || name == "meta" || Mandatory(c)) return true;
          for (const auto& e : s.elements) {
            std::string_view want = e;
            if (want.starts_with(prefix)) want.remove_prefix(prefix.size());
            if (want == name || (c != nullptr && want == c->name)) return true;
          }
          return false;
        },
        /*recurse=*/false);
  }
  TagSubsetted(obj);
  return json::serialize(doc);
}

}  // namespace crs::api
