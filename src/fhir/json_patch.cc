#include "fhir/json_patch.h"

#include <boost/json.hpp>
#include <cmath>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace crs::fhir {
namespace {

namespace json = boost::json;

enum class OpKind { kAdd, kRemove, kReplace, kMove, kCopy, kTest };

// A parsed JSON Pointer: unescaped reference tokens plus the original text
// for messages.
struct Pointer {
  std::string text;
  std::vector<std::string> tokens;
};

struct Operation {
  size_t index = 0;
  OpKind kind = OpKind::kAdd;
  std::string_view name;
  Pointer path;
  Pointer from;                        // move and copy only
  const json::value* value = nullptr;  // add, replace and test; points into the patch
};

std::optional<OpKind> ParseOpName(std::string_view name) {
  if (name == "add") return OpKind::kAdd;
  if (name == "remove") return OpKind::kRemove;
  if (name == "replace") return OpKind::kReplace;
  if (name == "move") return OpKind::kMove;
  if (name == "copy") return OpKind::kCopy;
  if (name == "test") return OpKind::kTest;
  return std::nullopt;
}

// RFC 6901 section 3/4: "" is the whole document, otherwise '/'-separated
// tokens in which '~1' means '/' and '~0' means '~' (decoded in that order, so
// "~01" is "~1").
std::optional<Pointer> ParsePointer(std::string_view text) {
  Pointer pointer;
  pointer.text = std::string(text);
  if (text.empty()) return pointer;
  if (text.front() != '/') return std::nullopt;
  std::string token;
  for (size_t i = 1; i <= text.size(); ++i) {
    if (i == text.size() || text[i] == '/') {
      pointer.tokens.push_back(std::move(token));
      token.clear();
      continue;
    }
    if (text[i] != '~') {
      token.push_back(text[i]);
      continue;
    }
    if (i + 1 >= text.size() || (text[i + 1] != '0' && text[i + 1] != '1')) return std::nullopt;
    token.push_back(text[i + 1] == '0' ? '~' : '/');
    ++i;
  }
  return pointer;
}

// The pointer text of the first `count` tokens of `pointer`, for messages.
std::string Prefix(const Pointer& pointer, size_t count) {
  std::string out;
  for (size_t i = 0; i < count && i < pointer.tokens.size(); ++i) {
    out.push_back('/');
    for (char c : pointer.tokens[i]) {
      if (c == '~') {
        out += "~0";
      } else if (c == '/') {
        out += "~1";
      } else {
        out.push_back(c);
      }
    }
  }
  return out;
}

std::string Describe(const Operation& op) {
  return "patch operation " + std::to_string(op.index) + " (" + std::string(op.name) + " " +
         op.path.text + ")";
}

Status Unprocessable(const Operation& op, const std::string& why) {
  return Status::Unprocessable(Describe(op) + ": " + why);
}

Result<Pointer> RequirePointer(const json::object& obj, std::string_view member, size_t index) {
  const json::value* v = obj.if_contains(member);
  std::string where = "patch operation " + std::to_string(index);
  if (v == nullptr) return Status::Invalid(where + ": missing \"" + std::string(member) + "\"");
  if (!v->is_string()) {
    return Status::Invalid(where + ": \"" + std::string(member) + "\" must be a string");
  }
  std::optional<Pointer> pointer = ParsePointer(v->get_string());
  if (!pointer) {
    return Status::Invalid(where + ": \"" + std::string(member) +
                           "\" is not a JSON Pointer (it must be empty or start with '/', "
                           "and '~' must be followed by 0 or 1)");
  }
  return std::move(*pointer);
}

Result<Operation> ParseOperation(const json::value& element, size_t index) {
  std::string where = "patch operation " + std::to_string(index);
  const json::object* obj = element.if_object();
  if (obj == nullptr) return Status::Invalid(where + " is not a JSON object");
  const json::value* op_name = obj->if_contains("op");
  if (op_name == nullptr) return Status::Invalid(where + ": missing \"op\"");
  if (!op_name->is_string()) return Status::Invalid(where + ": \"op\" must be a string");
  std::optional<OpKind> kind = ParseOpName(op_name->get_string());
  if (!kind) {
    return Status::Invalid(where +
                           ": unknown op (expected add, remove, replace, move, copy "
                           "or test)");
  }
  Operation op;
  op.index = index;
  op.kind = *kind;
  op.name = op_name->get_string();
  CRS_ASSIGN_OR_RETURN(op.path, RequirePointer(*obj, "path", index));
  if (op.kind == OpKind::kMove || op.kind == OpKind::kCopy) {
    CRS_ASSIGN_OR_RETURN(op.from, RequirePointer(*obj, "from", index));
  }
  if (op.kind == OpKind::kAdd || op.kind == OpKind::kReplace || op.kind == OpKind::kTest) {
    op.value = obj->if_contains("value");
    if (op.value == nullptr) return Status::Invalid(where + ": missing \"value\"");
  }
  return op;
}

// RFC 6901 section 4: an array index is "0" or digits without a leading zero.
// Anything longer than 18 digits cannot index a real array (and would
// overflow), so it is reported as out of range rather than parsed.
enum class IndexParse { kOk, kNotAnIndex, kTooLarge };

IndexParse ParseIndex(std::string_view token, size_t* out) {
  if (token.empty() || (token.size() > 1 && token.front() == '0')) return IndexParse::kNotAnIndex;
  for (char c : token) {
    if (c < '0' || c > '9') return IndexParse::kNotAnIndex;
  }
  if (token.size() > 18) return IndexParse::kTooLarge;
  size_t n = 0;
  for (char c : token) n = n * 10 + static_cast<size_t>(c - '0');
  *out = n;
  return IndexParse::kOk;
}

// Resolves `token` as an index of an existing element of `array` ("-" never
// names one).
Result<size_t> ExistingIndex(const json::array& array, const std::string& token,
                             const std::string& where) {
  if (token == "-") {
    return Status::Unprocessable(where + " uses \"-\", which names no existing array element");
  }
  size_t index = 0;
  switch (ParseIndex(token, &index)) {
    case IndexParse::kNotAnIndex:
      return Status::Unprocessable(where + " is not a valid array index");
    case IndexParse::kTooLarge:
      return Status::Unprocessable(where + " is out of range");
    case IndexParse::kOk:
      break;
  }
  if (index >= array.size()) return Status::Unprocessable(where + " is out of range");
  return index;
}

// Returns the value named by the first `depth` tokens of `pointer`.
Result<json::value*> Locate(json::value& root, const Pointer& pointer, size_t depth) {
  json::value* current = &root;
  for (size_t i = 0; i < depth; ++i) {
    const std::string& token = pointer.tokens[i];
    if (json::object* obj = current->if_object()) {
      json::value* child = obj->if_contains(token);
      if (child == nullptr) {
        return Status::Unprocessable("path " + Prefix(pointer, i + 1) + " does not exist");
      }
      current = child;
    } else if (json::array* arr = current->if_array()) {
      CRS_ASSIGN_OR_RETURN(size_t index,
                           ExistingIndex(*arr, token, "path " + Prefix(pointer, i + 1)));
      current = &(*arr)[index];
    } else {
      return Status::Unprocessable(
          "path " + Prefix(pointer, i + 1) + " goes through " +
          (i == 0 ? std::string("the document root") : Prefix(pointer, i)) +
          ", which is neither an object nor an array");
    }
  }
  return current;
}

Status WithContext(const Operation& op, const Status& status) {
  return Status(status.code(), Describe(op) + ": " + status.message());
}

Status Add(json::value& root, const Operation& op, const Pointer& target, json::value value) {
  if (target.tokens.empty()) {
    root = std::move(value);
    return Status::Ok();
  }
  auto parent = Locate(root, target, target.tokens.size() - 1);
  if (!parent.ok()) return WithContext(op, parent.status());
  const std::string& last = target.tokens.back();
  if (json::object* obj = (*parent)->if_object()) {
    (*obj)[last] = std::move(value);
    return Status::Ok();
  }
  json::array* arr = (*parent)->if_array();
  if (arr == nullptr) {
    return Unprocessable(op, "the parent of " + target.text + " is neither an object nor an array");
  }
  if (last == "-") {
    arr->push_back(std::move(value));
    return Status::Ok();
  }
  size_t index = 0;
  IndexParse parsed = ParseIndex(last, &index);
  if (parsed == IndexParse::kNotAnIndex) {
    return Unprocessable(op, target.text + " is not a valid array index");
  }
  if (parsed == IndexParse::kTooLarge || index > arr->size()) {
    return Unprocessable(op, target.text + " is out of range");
  }
  arr->insert(arr->begin() + static_cast<std::ptrdiff_t>(index), std::move(value));
  return Status::Ok();
}

// Removes the value at `target` and returns it.
Result<json::value> Remove(json::value& root, const Operation& op, const Pointer& target) {
  if (target.tokens.empty()) return Unprocessable(op, "cannot remove the whole document");
  auto parent = Locate(root, target, target.tokens.size() - 1);
  if (!parent.ok()) return WithContext(op, parent.status());
  const std::string& last = target.tokens.back();
  if (json::object* obj = (*parent)->if_object()) {
    auto it = obj->find(last);
    if (it == obj->end()) return Unprocessable(op, "path " + target.text + " does not exist");
    json::value removed = std::move(it->value());
    // stable_erase keeps the remaining members in their order (erase would
    // move the last member into the gap).
    obj->stable_erase(it);
    return removed;
  }
  json::array* arr = (*parent)->if_array();
  if (arr == nullptr) {
    return Unprocessable(op, "the parent of " + target.text + " is neither an object nor an array");
  }
  auto index = ExistingIndex(*arr, last, "path " + target.text);
  if (!index.ok()) return WithContext(op, index.status());
  json::value removed = std::move((*arr)[*index]);
  arr->erase(arr->begin() + static_cast<std::ptrdiff_t>(*index));
  return removed;
}

Result<json::value*> Existing(json::value& root, const Operation& op, const Pointer& target) {
  auto found = Locate(root, target, target.tokens.size());
  if (!found.ok()) return WithContext(op, found.status());
  return *found;
}

bool IsProperPrefix(const Pointer& prefix, const Pointer& pointer) {
  if (prefix.tokens.size() >= pointer.tokens.size()) return false;
  for (size_t i = 0; i < prefix.tokens.size(); ++i) {
    if (prefix.tokens[i] != pointer.tokens[i]) return false;
  }
  return true;
}

// Exact comparison of a double with an integer: equal only when the double is
// integral, within the integer type's range, and converts to that integer
// (so large integers are not rounded into false equality).
bool DoubleEqualsInt(double d, std::int64_t i) {
  if (!std::isfinite(d) || std::trunc(d) != d) return false;
  if (d < -9223372036854775808.0 || d >= 9223372036854775808.0) return false;
  return static_cast<std::int64_t>(d) == i;
}

bool DoubleEqualsUint(double d, std::uint64_t u) {
  if (!std::isfinite(d) || std::trunc(d) != d) return false;
  if (d < 0 || d >= 18446744073709551616.0) return false;
  return static_cast<std::uint64_t>(d) == u;
}

bool NumbersEqual(const json::value& a, const json::value& b) {
  if (a.is_double() && b.is_double()) return a.get_double() == b.get_double();
  if (b.is_double()) return NumbersEqual(b, a);
  if (a.is_double()) {
    return b.is_int64() ? DoubleEqualsInt(a.get_double(), b.get_int64())
                        : DoubleEqualsUint(a.get_double(), b.get_uint64());
  }
  if (a.is_int64() && b.is_int64()) return a.get_int64() == b.get_int64();
  if (a.is_uint64() && b.is_uint64()) return a.get_uint64() == b.get_uint64();
  if (a.is_uint64()) return NumbersEqual(b, a);
  // a is int64, b is uint64.
  return a.get_int64() >= 0 && static_cast<std::uint64_t>(a.get_int64()) == b.get_uint64();
}

// RFC 6902 section 4.6 equality.
bool JsonEqual(const json::value& a, const json::value& b) {
  if (a.is_number() && b.is_number()) return NumbersEqual(a, b);
  if (a.kind() != b.kind()) return false;
  switch (a.kind()) {
    case json::kind::null:
      return true;
    case json::kind::bool_:
      return a.get_bool() == b.get_bool();
    case json::kind::string:
      return a.get_string() == b.get_string();
    case json::kind::array: {
      const json::array& x = a.get_array();
      const json::array& y = b.get_array();
      if (x.size() != y.size()) return false;
      for (size_t i = 0; i < x.size(); ++i) {
        if (!JsonEqual(x[i], y[i])) return false;
      }
      return true;
    }
    case json::kind::object: {
      const json::object& x = a.get_object();
      const json::object& y = b.get_object();
      if (x.size() != y.size()) return false;
      for (const auto& member : x) {
        const json::value* other = y.if_contains(member.key());
        if (other == nullptr || !JsonEqual(member.value(), *other)) return false;
      }
      return true;
    }
    default:
      return false;  // numbers were handled above
  }
}

Status Apply(json::value& root, const Operation& op) {
  switch (op.kind) {
    case OpKind::kAdd:
      return Add(root, op, op.path, *op.value);
    case OpKind::kRemove:
      return Remove(root, op, op.path).status();
    case OpKind::kReplace: {
      CRS_ASSIGN_OR_RETURN(json::value * target, Existing(root, op, op.path));
      *target = *op.value;
      return Status::Ok();
    }
    case OpKind::kMove: {
      if (IsProperPrefix(op.from, op.path)) {
        return Unprocessable(op, "cannot move " + op.from.text + " into its own child");
      }
      if (op.from.tokens == op.path.tokens) return Existing(root, op, op.from).status();
      CRS_ASSIGN_OR_RETURN(json::value moved, Remove(root, op, op.from));
      return Add(root, op, op.path, std::move(moved));
    }
    case OpKind::kCopy: {
      CRS_ASSIGN_OR_RETURN(json::value * source, Existing(root, op, op.from));
      json::value copy = *source;
      return Add(root, op, op.path, std::move(copy));
    }
    case OpKind::kTest: {
      CRS_ASSIGN_OR_RETURN(json::value * target, Existing(root, op, op.path));
      if (!JsonEqual(*target, *op.value)) return Unprocessable(op, "test failed: values differ");
      return Status::Ok();
    }
  }
  return Status::Internal("unhandled patch operation");
}

}  // namespace

Result<json::value> ApplyJsonPatch(const json::value& document, const json::value& patch) {
  const json::array* ops = patch.if_array();
  if (ops == nullptr) return Status::Invalid("a JSON Patch document must be a JSON array");
  std::vector<Operation> parsed;
  parsed.reserve(ops->size());
  for (size_t i = 0; i < ops->size(); ++i) {
    CRS_ASSIGN_OR_RETURN(Operation op, ParseOperation((*ops)[i], i));
    parsed.push_back(std::move(op));
  }
  // Boost.JSON reports allocation failure by throwing; keep it inside this file.
  try {
    json::value result = document;
    for (const Operation& op : parsed) CRS_RETURN_IF_ERROR(Apply(result, op));
    return result;
  } catch (const std::exception& e) {
    return Status::Internal(std::string("JSON Patch failed: ") + e.what());
  }
}

}  // namespace crs::fhir
