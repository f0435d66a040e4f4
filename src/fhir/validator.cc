#include "fhir/validator.h"

#include <array>
#include <boost/json.hpp>
#include <charconv>
#include <cstdint>
#include <cstdio>
#include <string>
#include <utility>

#include "fhir/model.h"
#include "fhir/primitives.h"

namespace crs::fhir {
namespace {

namespace json = boost::json;

// Values quoted back in messages are cut to this many bytes.
constexpr size_t kMaxQuote = 60;

std::string Quote(std::string_view s) {
  if (s.size() <= kMaxQuote) return "'" + std::string(s) + "'";
  // Cut at a UTF-8 character boundary so that the message stays valid UTF-8.
  size_t cut = kMaxQuote;
  while (cut > 0 && (static_cast<unsigned char>(s[cut]) & 0xC0) == 0x80) --cut;
  return "'" + std::string(s.substr(0, cut)) + "...'";
}

const char* KindName(const json::value& v) {
  switch (v.kind()) {
    case json::kind::null:
      return "null";
    case json::kind::bool_:
      return "a boolean";
    case json::kind::int64:
    case json::kind::uint64:
    case json::kind::double_:
      return "a number";
    case json::kind::string:
      return "a string";
    case json::kind::array:
      return "an array";
    case json::kind::object:
      return "an object";
  }
  return "a value";
}

std::string_view View(const json::string& s) { return {s.data(), s.size()}; }

// Which children of one object have been seen, for required elements and for choice
// elements given in more than one variant.
class SeenSet {
 public:
  // Returns the variant first seen for choice element `view`, or nullptr; records it.
  const ChildView* MarkChoice(const ChildView& view) {
    for (size_t i = 0; i < choice_count_; ++i) {
      if (choices_[i]->index == view.index) return choices_[i];
    }
    if (choice_count_ < choices_.size()) choices_[choice_count_++] = &view;
    return nullptr;
  }
  void Mark(uint16_t index) {
    if (index < kMaxTracked) bits_[index / 64] |= uint64_t{1} << (index % 64);
  }
  bool Has(uint16_t index) const {
    return index >= kMaxTracked || (bits_[index / 64] >> (index % 64) & 1) != 0;
  }

 private:
  static constexpr uint16_t kMaxTracked = 256;  // model_test checks no structure is wider
  std::array<uint64_t, kMaxTracked / 64> bits_{};
  std::array<const ChildView*, 8> choices_{};
  size_t choice_count_ = 0;
};

// One validation run (one per call; not shared between threads). Keeps the FHIRPath
// location of the node being checked in `path_`, appending and truncating segments as it
// descends, so that a clean resource costs no allocation beyond the path buffer.
class Validator {
 public:
  Validator(const ValidateOptions& options, std::vector<Issue>* issues)
      : model_(Model::R4()), options_(options), issues_(issues), first_issue_(issues->size()) {
    path_.reserve(256);
  }

  void Resource(const json::value& value, int depth);
  // The index in issues_ of the first error found by this run, or npos.
  size_t FirstError() const;

 private:
  void Object(const json::object& object, const Structure& structure, bool is_resource, int depth);
  void Property(const json::object& parent, std::string_view key, const json::value& value,
                const ChildView& child, int depth);
  void PrimitiveExtensions(const json::object& parent, std::string_view name,
                           const json::value& value, const ChildView& child, int depth);
  void Single(const json::value& value, const ChildView& child, int depth);
  void Primitive(const json::value& value, const ChildView& child);
  void RequiredChildren(const Structure& structure, const SeenSet& seen);

  void Report(Severity severity, IssueType code, std::string message) {
    if (issues_->size() - first_issue_ >= options_.max_issues) return;
    issues_->push_back(Issue{severity, code, std::move(message), path_});
  }
  void Error(IssueType code, std::string message) {
    Report(Severity::kError, code, std::move(message));
  }
  bool Full() const { return issues_->size() - first_issue_ >= options_.max_issues; }

  size_t PushName(std::string_view name) {
    size_t mark = path_.size();
    if (!path_.empty()) path_ += '.';
    path_ += name;
    return mark;
  }
  // The FHIRPath for a child: "name", or "value.ofType(Quantity)" for a choice element.
  size_t PushChild(const ChildView& child) {
    size_t mark = PushName(child.name);
    if (child.def->choice) {
      path_ += ".ofType(";
      path_ += child.type;
      path_ += ')';
    }
    return mark;
  }
  size_t PushIndex(size_t index) {
    size_t mark = path_.size();
    char buf[24];
    auto [end, ec] = std::to_chars(buf, buf + sizeof(buf), index);
    path_ += '[';
    path_.append(buf, end);
    path_ += ']';
    return mark;
  }
  void Pop(size_t mark) { path_.resize(mark); }

  const Model& model_;
  const ValidateOptions& options_;
  std::vector<Issue>* issues_;
  size_t first_issue_;
  std::string path_;
};

size_t Validator::FirstError() const {
  for (size_t i = first_issue_; i < issues_->size(); ++i) {
    Severity s = (*issues_)[i].severity;
    if (s == Severity::kError || s == Severity::kFatal) return i;
  }
  return std::string::npos;
}

void Validator::Resource(const json::value& value, int depth) {
  if (depth > options_.max_depth) {
    Error(IssueType::kStructure, "Content is nested too deeply");
    return;
  }
  const json::object* object = value.if_object();
  if (object == nullptr) {
    Error(IssueType::kStructure,
          std::string("A resource must be a JSON object, not ") + KindName(value));
    return;
  }
  const json::value* type_value = object->if_contains("resourceType");
  if (type_value == nullptr) {
    Error(IssueType::kStructure, "The JSON object has no resourceType property");
    return;
  }
  const json::string* type = type_value->if_string();
  if (type == nullptr) {
    Error(IssueType::kStructure, "resourceType must be a JSON string");
    return;
  }
  const Structure* structure = model_.FindStructure(View(*type));
  if (structure == nullptr || structure->kind() != Structure::Kind::kResource) {
    Error(IssueType::kInvalid, "Unknown resource type " + Quote(View(*type)));
    return;
  }
  if (structure->is_abstract()) {
    Error(IssueType::kInvalid, "Resource type " + Quote(View(*type)) + " is abstract");
    return;
  }
  size_t mark = path_.size();
  if (path_.empty()) path_ = View(*type);
  if (const json::value* id = object->if_contains("id"); id != nullptr && id->is_string()) {
    std::string_view text = View(id->get_string());
    if (!text.empty() && !IsValidId(text)) {
      size_t id_mark = PushName("id");
      Error(IssueType::kValue, CheckId(text).message());
      Pop(id_mark);
    }
  }
  Object(*object, *structure, /*is_resource=*/true, depth);
  Pop(mark);
}

void Validator::Object(const json::object& object, const Structure& structure, bool is_resource,
                       int depth) {
  if (depth > options_.max_depth) {
    Error(IssueType::kStructure, "Content is nested too deeply");
    return;
  }
  if (object.empty()) {
    Error(IssueType::kInvalid, "Object must have some content");
    return;
  }
  SeenSet seen;
  for (const json::key_value_pair& member : object) {
    if (Full()) return;
    std::string_view key(member.key().data(), member.key().size());
    if (is_resource && key == "resourceType") continue;
    bool extension = key.starts_with('_');
    std::string_view name = extension ? key.substr(1) : key;
    const ChildView* child = structure.Find(name);
    if (child == nullptr) {
      Error(IssueType::kStructure, "Unrecognized property " + Quote(key));
      continue;
    }
    if (child->def->choice) {
      const ChildView* first = seen.MarkChoice(*child);
      if (first != nullptr && first != child) {
        Error(IssueType::kStructure, "Only one variant of " + child->def->path +
                                         " may be present (found " + std::string(first->type) +
                                         " and " + std::string(child->type) + ")");
      }
    }
    seen.Mark(child->index);
    size_t mark = PushChild(*child);
    if (extension) {
      PrimitiveExtensions(object, name, member.value(), *child, depth);
    } else {
      Property(object, key, member.value(), *child, depth);
    }
    Pop(mark);
  }
  RequiredChildren(structure, seen);
}

void Validator::RequiredChildren(const Structure& structure, const SeenSet& seen) {
  for (uint16_t index : structure.required()) {
    if (seen.Has(index)) continue;
    const ElementDef& def = *structure.elements()[index];
    Error(IssueType::kRequired,
          def.path + ": minimum required = " + std::to_string(def.min) + ", but only found 0");
  }
}

void Validator::Property(const json::object& parent, std::string_view key, const json::value& value,
                         const ChildView& child, int depth) {
  if (!child.def->many) {
    if (value.is_array()) {
      Error(IssueType::kStructure,
            "The property " + Quote(key) + " must be a single value, not a JSON array");
      return;
    }
    Single(value, child, depth);
    return;
  }
  const json::array* array = value.if_array();
  if (array == nullptr) {
    Error(IssueType::kStructure,
          "The property " + Quote(key) + " must be a JSON array, not " + KindName(value));
    Single(value, child, depth);
    return;
  }
  if (array->empty()) {
    Error(IssueType::kInvalid,
          "Array cannot be empty - the property should not be present if it has no values");
    return;
  }
  const json::array* extensions = nullptr;  // the aligned `_key` array, looked up on demand
  bool looked_up = false;
  for (size_t i = 0; i < array->size() && !Full(); ++i) {
    const json::value& item = (*array)[i];
    size_t mark = PushIndex(i);
    if (item.is_null()) {
      // Allowed only as a placeholder aligned with a `_key` array of extensions;
      // PrimitiveExtensions() checks the alignment when that array exists.
      if (!looked_up) {
        looked_up = true;
        if (const json::value* ext = parent.if_contains("_" + std::string(key))) {
          extensions = ext->if_array();
        }
      }
      if (extensions == nullptr) {
        Error(IssueType::kInvalid, "Null values are not allowed in FHIR JSON");
      }
    } else {
      Single(item, child, depth);
    }
    Pop(mark);
  }
}

void Validator::PrimitiveExtensions(const json::object& parent, std::string_view name,
                                    const json::value& value, const ChildView& child, int depth) {
  if (child.next->kind() != Structure::Kind::kPrimitiveType) {
    Error(IssueType::kStructure,
          "'_" + std::string(name) + "' is only allowed for primitive elements");
    return;
  }
  if (child.def->system_typed) {
    Error(IssueType::kStructure, "Extensions are not allowed on " + child.def->path);
    return;
  }
  const json::value* sibling = parent.if_contains(name);
  if (!child.def->many) {
    if (!value.is_object()) {
      Error(IssueType::kStructure,
            "'_" + std::string(name) + "' must be a JSON object, not " + KindName(value));
      return;
    }
    Object(value.get_object(), *child.next, /*is_resource=*/false, depth + 1);
    return;
  }
  const json::array* array = value.if_array();
  if (array == nullptr) {
    Error(IssueType::kStructure,
          "'_" + std::string(name) + "' must be a JSON array, not " + KindName(value));
    return;
  }
  if (array->empty()) {
    Error(IssueType::kInvalid,
          "Array cannot be empty - the property should not be present if it has no values");
    return;
  }
  const json::array* values = sibling != nullptr ? sibling->if_array() : nullptr;
  if (values != nullptr && values->size() != array->size()) {
    Error(IssueType::kStructure, "The arrays '" + std::string(name) + "' and '_" +
                                     std::string(name) + "' must have the same length");
  }
  for (size_t i = 0; i < array->size() && !Full(); ++i) {
    const json::value& item = (*array)[i];
    size_t mark = PushIndex(i);
    bool has_value = values != nullptr && i < values->size() && !(*values)[i].is_null();
    if (item.is_null()) {
      if (!has_value) {
        Error(IssueType::kInvalid,
              "Index " + std::to_string(i) + " has neither a value nor extensions (both null)");
      }
    } else if (item.is_object()) {
      Object(item.get_object(), *child.next, /*is_resource=*/false, depth + 1);
    } else {
      Error(IssueType::kStructure, std::string("Primitive extensions must be a JSON object or "
                                               "null, not ") +
                                       KindName(item));
    }
    Pop(mark);
  }
}

void Validator::Single(const json::value& value, const ChildView& child, int depth) {
  if (value.is_null()) {
    Error(IssueType::kInvalid, "Null values are not allowed in FHIR JSON");
    return;
  }
  switch (child.next->kind()) {
    case Structure::Kind::kPrimitiveType:
      Primitive(value, child);
      return;
    case Structure::Kind::kResource:
      Resource(value, depth + 1);
      return;
    case Structure::Kind::kComplexType:
    case Structure::Kind::kInline:
      break;
  }
  const json::object* object = value.if_object();
  if (object == nullptr) {
    Error(IssueType::kStructure, "Expected a JSON object for type " + std::string(child.type) +
                                     ", found " + KindName(value));
    return;
  }
  Object(*object, *child.next, /*is_resource=*/false, depth + 1);
}

void Validator::Primitive(const json::value& value, const ChildView& child) {
  std::optional<PrimitiveType> type = child.next->primitive_type();
  if (!type) {
    Error(IssueType::kStructure, "Unsupported primitive type " + std::string(child.type));
    return;
  }
  const std::string_view type_name = child.type;
  switch (JsonFormOf(*type)) {
    case JsonForm::kBoolean:
      if (!value.is_bool()) {
        Error(IssueType::kStructure,
              std::string("A boolean must be JSON true or false, not ") + KindName(value));
      }
      return;
    case JsonForm::kDecimal:
      if (!value.is_number()) {
        Error(IssueType::kStructure,
              std::string("A decimal must be a JSON number, not ") + KindName(value));
      }
      return;
    case JsonForm::kInteger:
      if (value.is_int64()) {
        if (!IsInIntegerRange(*type, value.get_int64())) {
          Error(IssueType::kValue, "The value " + std::to_string(value.get_int64()) +
                                       " is out of range for " + std::string(type_name));
        }
      } else if (value.is_uint64()) {
        Error(IssueType::kValue, "The value " + std::to_string(value.get_uint64()) +
                                     " is out of range for " + std::string(type_name));
      } else if (value.is_double()) {
        Error(IssueType::kValue, "An " + std::string(type_name) + " must be a whole JSON number");
      } else {
        Error(IssueType::kStructure,
              "An " + std::string(type_name) + " must be a JSON number, not " + KindName(value));
      }
      return;
    case JsonForm::kString:
      break;
  }
  const json::string* string = value.if_string();
  if (string == nullptr) {
    Error(IssueType::kStructure,
          "A " + std::string(type_name) + " must be a JSON string, not " + KindName(value));
    return;
  }
  std::string_view text = View(*string);
  if (text.empty()) {
    Error(IssueType::kInvalid, "Empty strings are not allowed in FHIR JSON");
    return;
  }
  if (text.size() > kMaxStringBytes && *type != PrimitiveType::kBase64Binary &&
      *type != PrimitiveType::kXhtml) {
    Error(IssueType::kTooLong, "The value is longer than the permitted maximum of 1 MiB");
    return;
  }
  // base64Binary's own grammar allows every whitespace (\s); the rest are strings.
  if (size_t at = FindForbiddenControl(text);
      at != std::string_view::npos && *type != PrimitiveType::kBase64Binary) {
    char code[8];
    std::snprintf(code, sizeof code, "U+%04X", static_cast<unsigned char>(text[at]));
    Error(IssueType::kValue, "A " + std::string(type_name) + " must not contain control character " +
                                 code + " (at byte " + std::to_string(at) +
                                 "); FHIR strings allow only tab, carriage return and line feed "
                                 "below U+0020");
    return;
  }
  if (!IsValidStringForm(*type, text)) {
    Error(IssueType::kValue, "Not a valid " + std::string(type_name) + ": " + Quote(text));
  }
}

}  // namespace

Status CheckId(std::string_view id) {
  if (id.empty()) return Status::Invalid("Invalid Resource id: empty");
  if (id.size() > 64) {
    return Status::Invalid("Invalid Resource id: Too long (" + std::to_string(id.size()) +
                           " chars)");
  }
  if (!IsValidId(id))
    return Status::Invalid("Invalid Resource id: Invalid Characters " + Quote(id));
  return Status::Ok();
}

Status Validate(const boost::json::value& resource, std::vector<Issue>* issues,
                const ValidateOptions& options) {
  std::vector<Issue> local;
  ValidateOptions effective = options;
  if (effective.max_issues == 0) effective.max_issues = 1;  // the verdict needs one
  if (issues == nullptr) {
    issues = &local;
    effective.max_issues = 1;  // only the verdict is wanted
  }
  Validator validator(effective, issues);
  validator.Resource(resource, 0);
  size_t first = validator.FirstError();
  if (first == std::string::npos) return Status::Ok();
  return Status::Invalid(ToString((*issues)[first]));
}

Result<boost::json::value> ParseJson(std::string_view text, std::vector<Issue>* issues,
                                     const ParseOptions& options) {
  auto fail = [issues](IssueType code, std::string message) -> Status {
    if (issues != nullptr) issues->push_back(Issue{Severity::kError, code, message, ""});
    return Status::Invalid(std::move(message));
  };
  if (text.size() > options.max_bytes) {
    return fail(IssueType::kTooLong,
                "The JSON document is larger than " + std::to_string(options.max_bytes) + " bytes");
  }
  json::parse_options parse_options;
  parse_options.max_depth = options.max_depth;
  json::stream_parser parser({}, parse_options);
  boost::system::error_code ec;
  size_t consumed = parser.write(text.data(), text.size(), ec);
  if (!ec) parser.finish(ec);
  if (ec) {
    // Report where parsing stopped, 1-based, counting bytes for columns.
    size_t line = 1, column = 1;
    for (size_t i = 0; i < consumed && i < text.size(); ++i) {
      if (text[i] == '\n') {
        ++line;
        column = 1;
      } else {
        ++column;
      }
    }
    return fail(IssueType::kStructure, "Error parsing JSON at line " + std::to_string(line) +
                                           ", column " + std::to_string(column) + ": " +
                                           ec.message());
  }
  return parser.release();
}

Result<boost::json::value> ParseAndValidate(std::string_view text, std::vector<Issue>* issues,
                                            const ValidateOptions& options) {
  Result<boost::json::value> parsed = ParseJson(text, issues);
  if (!parsed.ok()) return parsed.status();
  Status status = Validate(*parsed, issues, options);
  if (!status.ok()) return status;
  return parsed;
}

}  // namespace crs::fhir
