#include "fhir/search_params.h"

#include <algorithm>
#include <boost/json.hpp>
#include <cctype>
#include <fstream>
#include <set>
#include <sstream>

namespace crs::fhir {
namespace {

namespace json = boost::json;

constexpr std::string_view kCanonicalBase = "http://hl7.org/fhir/SearchParameter/";

constexpr std::pair<SearchParamType, std::string_view> kTypeNames[] = {
    {SearchParamType::kNumber, "number"},       {SearchParamType::kDate, "date"},
    {SearchParamType::kString, "string"},       {SearchParamType::kToken, "token"},
    {SearchParamType::kReference, "reference"}, {SearchParamType::kComposite, "composite"},
    {SearchParamType::kQuantity, "quantity"},   {SearchParamType::kUri, "uri"},
    {SearchParamType::kSpecial, "special"},
};

bool IsAbstractBase(std::string_view name) {
  return name == "Resource" || name == "DomainResource";
}

bool IsSpace(char c) { return c == ' ' || c == '\t' || c == '\r' || c == '\n'; }

std::string_view Trim(std::string_view s) {
  while (!s.empty() && IsSpace(s.front())) s.remove_prefix(1);
  while (!s.empty() && IsSpace(s.back())) s.remove_suffix(1);
  return s;
}

// The parts of `expression` that apply to `base` (see SearchParam::base_expressions).
std::string ExpressionForBase(std::string_view expression, std::string_view base) {
  std::string out;
  for (std::string_view part : SplitTopLevelUnion(expression)) {
    std::string_view type = LeadingTypeName(part);
    if (!type.empty() && type != base && !IsAbstractBase(type)) continue;
    if (!out.empty()) out += " | ";
    out += part;
  }
  return out;
}

// Reading the generated JSON. Each helper returns Invalid naming `where`.
Status Bad(const std::string& where, const std::string& what) {
  return Status::Invalid("search parameter data: " + where + ": " + what);
}

Result<std::string> RequiredString(const json::object& obj, std::string_view key,
                                   const std::string& where) {
  const json::value* v = obj.if_contains(key);
  if (v == nullptr || !v->is_string() || v->get_string().empty()) {
    return Bad(where, "\"" + std::string(key) + "\" must be a non-empty string");
  }
  return std::string(v->get_string());
}

Result<std::string> OptionalString(const json::object& obj, std::string_view key,
                                   const std::string& where) {
  const json::value* v = obj.if_contains(key);
  if (v == nullptr) return std::string();
  if (!v->is_string()) return Bad(where, "\"" + std::string(key) + "\" must be a string");
  return std::string(v->get_string());
}

Result<std::vector<std::string>> StringArray(const json::value* v, std::string_view key,
                                             const std::string& where) {
  std::vector<std::string> out;
  if (v == nullptr) return out;
  const json::array* arr = v->if_array();
  if (arr == nullptr) return Bad(where, "\"" + std::string(key) + "\" must be an array");
  for (const json::value& element : *arr) {
    if (!element.is_string()) {
      return Bad(where, "\"" + std::string(key) + "\" must hold only strings");
    }
    out.emplace_back(element.get_string());
  }
  return out;
}

Result<std::optional<bool>> OptionalBool(const json::object& obj, std::string_view key,
                                         const std::string& where) {
  const json::value* v = obj.if_contains(key);
  if (v == nullptr) return std::optional<bool>();
  if (!v->is_bool()) return Bad(where, "\"" + std::string(key) + "\" must be a boolean");
  return std::optional<bool>(v->get_bool());
}

Result<SearchParamType> RequiredType(const json::object& obj, const std::string& where) {
  CRS_ASSIGN_OR_RETURN(std::string name, RequiredString(obj, "type", where));
  std::optional<SearchParamType> type = ParseSearchParamType(name);
  if (!type) return Bad(where, "unknown parameter type \"" + name + "\"");
  return *type;
}

Result<SearchParamComponent> ParseComponent(const json::value& v, const std::string& where) {
  const json::object* obj = v.if_object();
  if (obj == nullptr) return Bad(where, "a component must be an object");
  SearchParamComponent c;
  CRS_ASSIGN_OR_RETURN(c.definition, RequiredString(*obj, "definition", where));
  CRS_ASSIGN_OR_RETURN(c.code, RequiredString(*obj, "code", where));
  CRS_ASSIGN_OR_RETURN(c.type, RequiredType(*obj, where + " component " + c.code));
  CRS_ASSIGN_OR_RETURN(c.expression, RequiredString(*obj, "expression", where));
  return c;
}

Result<SearchParam> ParseParam(const json::value& v, size_t index,
                               const std::vector<std::string>& any_target) {
  std::string where = "params[" + std::to_string(index) + "]";
  const json::object* obj = v.if_object();
  if (obj == nullptr) return Bad(where, "not an object");
  SearchParam p;
  CRS_ASSIGN_OR_RETURN(p.id, RequiredString(*obj, "id", where));
  where += " (" + p.id + ")";
  CRS_ASSIGN_OR_RETURN(p.code, RequiredString(*obj, "code", where));
  CRS_ASSIGN_OR_RETURN(p.type, RequiredType(*obj, where));
  CRS_ASSIGN_OR_RETURN(p.url, OptionalString(*obj, "url", where));
  if (p.url.empty()) p.url = std::string(kCanonicalBase) + p.id;
  CRS_ASSIGN_OR_RETURN(p.name, OptionalString(*obj, "name", where));
  if (p.name.empty()) p.name = p.code;
  CRS_ASSIGN_OR_RETURN(p.base, StringArray(obj->if_contains("base"), "base", where));
  if (p.base.empty()) return Bad(where, "\"base\" must name at least one type");
  CRS_ASSIGN_OR_RETURN(p.expression, OptionalString(*obj, "expression", where));
  const json::value* target = obj->if_contains("target");
  if (target != nullptr && target->is_string() && target->get_string() == "*") {
    p.target = any_target;
  } else {
    CRS_ASSIGN_OR_RETURN(p.target, StringArray(target, "target", where));
  }
  CRS_ASSIGN_OR_RETURN(p.modifier, StringArray(obj->if_contains("modifier"), "modifier", where));
  CRS_ASSIGN_OR_RETURN(p.comparator,
                       StringArray(obj->if_contains("comparator"), "comparator", where));
  CRS_ASSIGN_OR_RETURN(p.multiple_or, OptionalBool(*obj, "multipleOr", where));
  CRS_ASSIGN_OR_RETURN(p.multiple_and, OptionalBool(*obj, "multipleAnd", where));
  CRS_ASSIGN_OR_RETURN(std::string usage, OptionalString(*obj, "xpathUsage", where));
  if (!usage.empty()) p.xpath_usage = std::move(usage);
  if (const json::value* implicit = obj->if_contains("implicitSystem")) {
    const json::object* systems = implicit->if_object();
    if (systems == nullptr) return Bad(where, "\"implicitSystem\" must be an object");
    for (const auto& [type, system] : *systems) {
      if (!system.is_string()) return Bad(where, "\"implicitSystem\" values must be strings");
      p.implicit_systems.emplace_back(std::string(type), std::string(system.get_string()));
    }
  }
  if (const json::value* components = obj->if_contains("component")) {
    const json::array* arr = components->if_array();
    if (arr == nullptr) return Bad(where, "\"component\" must be an array");
    for (const json::value& c : *arr) {
      CRS_ASSIGN_OR_RETURN(SearchParamComponent component, ParseComponent(c, where));
      p.component.push_back(std::move(component));
    }
  }
  if (p.type == SearchParamType::kComposite && p.component.empty()) {
    return Bad(where, "a composite parameter needs components");
  }
  for (const std::string& base : p.base) {
    p.base_expressions.emplace_back(base, ExpressionForBase(p.expression, base));
  }
  return p;
}

}  // namespace

std::string_view SearchParamTypeName(SearchParamType type) {
  for (const auto& [t, name] : kTypeNames) {
    if (t == type) return name;
  }
  return "unknown";
}

std::optional<SearchParamType> ParseSearchParamType(std::string_view name) {
  for (const auto& [t, n] : kTypeNames) {
    if (n == name) return t;
  }
  return std::nullopt;
}

bool SearchParam::IsCommon() const {
  return std::any_of(base.begin(), base.end(),
                     [](const std::string& b) { return IsAbstractBase(b); });
}

std::string_view SearchParam::ExpressionFor(std::string_view resource_type) const {
  const std::pair<std::string, std::string>* common = nullptr;
  for (const auto& entry : base_expressions) {
    if (entry.first == resource_type) return entry.second;
    if (IsAbstractBase(entry.first)) common = &entry;
  }
  return common != nullptr ? std::string_view(common->second) : std::string_view();
}

std::string_view SearchParam::ImplicitSystemFor(std::string_view resource_type) const {
  for (const auto& [type, system] : implicit_systems) {
    if (type == resource_type) return system;
  }
  return {};
}

std::vector<std::string_view> SplitTopLevelUnion(std::string_view expression) {
  std::vector<std::string_view> parts;
  int depth = 0;
  char quote = '\0';
  size_t start = 0;
  for (size_t i = 0; i < expression.size(); ++i) {
    char c = expression[i];
    if (quote != '\0') {
      if (c == '\\') {
        ++i;  // skip the escaped character, whatever it is
      } else if (c == quote) {
        quote = '\0';
      }
      continue;
    }
    switch (c) {
      case '\'':
      case '"':
      case '`':
        quote = c;
        break;
      case '(':
      case '[':
      case '{':
        ++depth;
        break;
      case ')':
      case ']':
      case '}':
        depth = std::max(0, depth - 1);  // tolerate unbalanced input
        break;
      case '|':
        if (depth == 0) {
          parts.push_back(Trim(expression.substr(start, i - start)));
          start = i + 1;
        }
        break;
      default:
        break;
    }
  }
  std::string_view last = Trim(expression.substr(std::min(start, expression.size())));
  if (!last.empty() || !parts.empty()) parts.push_back(last);
  return parts;
}

std::string_view LeadingTypeName(std::string_view part) {
  size_t i = 0;
  while (i < part.size() && (part[i] == '(' || IsSpace(part[i]))) ++i;
  if (i >= part.size() || part[i] < 'A' || part[i] > 'Z') return {};
  size_t end = i;
  while (end < part.size() &&
         (std::isalnum(static_cast<unsigned char>(part[end])) || part[end] == '_')) {
    ++end;
  }
  return part.substr(i, end - i);
}

Result<std::unique_ptr<SearchParamRegistry>> SearchParamRegistry::Parse(std::string_view text) {
  boost::system::error_code ec;
  json::value root;
  // Boost.JSON throws only on allocation failure; keep that inside this file.
  try {
    json::parse_options options;
    options.max_depth = 16;
    root = json::parse(json::string_view(text.data(), text.size()), ec, {}, options);
  } catch (const std::exception& e) {
    return Status::Internal(std::string("search parameter data: ") + e.what());
  }
  if (ec) return Status::Invalid("search parameter data is not JSON: " + ec.message());
  const json::object* top = root.if_object();
  if (top == nullptr) return Status::Invalid("search parameter data must be a JSON object");

  std::unique_ptr<SearchParamRegistry> registry(new SearchParamRegistry());
  CRS_ASSIGN_OR_RETURN(registry->fhir_version_, OptionalString(*top, "fhirVersion", "top level"));

  // Concrete resource types and whether each derives from DomainResource.
  const json::value* types_value = top->if_contains("resourceTypes");
  if (types_value == nullptr || !types_value->is_object() || types_value->get_object().empty()) {
    return Bad("top level", "\"resourceTypes\" must be a non-empty object");
  }
  std::set<std::string, std::less<>> domain_types;
  for (const auto& entry : types_value->get_object()) {
    std::string name(entry.key());
    const json::value& parent = entry.value();
    if (!parent.is_string() || !IsAbstractBase(parent.get_string()) || IsAbstractBase(name)) {
      return Bad("resourceTypes." + name, "must map a concrete type to Resource or DomainResource");
    }
    if (parent.get_string() == "DomainResource") domain_types.insert(name);
    registry->resource_types_.push_back(name);
  }
  std::sort(registry->resource_types_.begin(), registry->resource_types_.end());

  CRS_ASSIGN_OR_RETURN(std::vector<std::string> any_target,
                       StringArray(top->if_contains("anyTarget"), "anyTarget", "top level"));
  const json::value* params_value = top->if_contains("params");
  if (params_value == nullptr || !params_value->is_array()) {
    return Bad("top level", "\"params\" must be an array");
  }
  const json::array& params = params_value->get_array();
  registry->params_.reserve(params.size());
  for (size_t i = 0; i < params.size(); ++i) {
    CRS_ASSIGN_OR_RETURN(SearchParam p, ParseParam(params[i], i, any_target));
    registry->params_.push_back(std::move(p));
  }
  std::sort(registry->params_.begin(), registry->params_.end(),
            [](const SearchParam& a, const SearchParam& b) { return a.id < b.id; });

  // Index. params_ is final from here on, so pointers into it stay valid.
  for (const std::string& type : registry->resource_types_) registry->by_type_[type];
  for (const SearchParam& p : registry->params_) {
    if (!registry->by_url_.emplace(p.url, &p).second) {
      return Bad(p.id, "duplicate url " + p.url);
    }
    for (const std::string& base : p.base) {
      if (base == "Resource") {
        for (auto& [type, list] : registry->by_type_) list.push_back(&p);
      } else if (base == "DomainResource") {
        for (auto& [type, list] : registry->by_type_) {
          if (domain_types.count(type)) list.push_back(&p);
        }
      } else {
        auto it = registry->by_type_.find(base);
        if (it == registry->by_type_.end()) {
          return Bad(p.id, "base \"" + base + "\" is not a resource type");
        }
        it->second.push_back(&p);
      }
    }
  }
  for (auto& [type, list] : registry->by_type_) {
    std::sort(list.begin(), list.end(),
              [](const SearchParam* a, const SearchParam* b) { return a->code < b->code; });
    for (size_t i = 1; i < list.size(); ++i) {
      if (list[i - 1]->code == list[i]->code) {
        return Bad(type, "parameters " + list[i - 1]->id + " and " + list[i]->id +
                             " share the code \"" + list[i]->code + "\"");
      }
    }
  }
  // Composite components must name parameters we have.
  for (const SearchParam& p : registry->params_) {
    for (const SearchParamComponent& c : p.component) {
      if (!registry->by_url_.count(c.definition)) {
        return Bad(p.id, "component definition " + c.definition + " is not a known parameter");
      }
    }
  }
  return registry;
}

Result<std::unique_ptr<SearchParamRegistry>> SearchParamRegistry::LoadFromFile(
    const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return Status::NotFound("cannot read search parameter data " + path);
  std::stringstream buffer;
  buffer << in.rdbuf();
  return Parse(buffer.str());
}

const SearchParam* SearchParamRegistry::Find(std::string_view resource_type,
                                             std::string_view code) const {
  const std::vector<const SearchParam*>& list = ForType(resource_type);
  auto it = std::lower_bound(list.begin(), list.end(), code,
                             [](const SearchParam* p, std::string_view c) { return p->code < c; });
  return it != list.end() && (*it)->code == code ? *it : nullptr;
}

const SearchParam* SearchParamRegistry::FindByUrl(std::string_view url) const {
  auto it = by_url_.find(url);
  return it == by_url_.end() ? nullptr : it->second;
}

const std::vector<const SearchParam*>& SearchParamRegistry::ForType(
    std::string_view resource_type) const {
  static const std::vector<const SearchParam*> kNone;
  auto it = by_type_.find(resource_type);
  return it == by_type_.end() ? kNone : it->second;
}

bool SearchParamRegistry::IsResourceType(std::string_view name) const {
  return by_type_.find(name) != by_type_.end();
}

}  // namespace crs::fhir
