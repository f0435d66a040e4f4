#include "fhir/index/reference.h"

#include "fhir/model.h"
#include "fhir/primitives.h"

namespace crs::fhir::index {
namespace {

constexpr std::string_view kHistory = "/_history/";

bool IsConcreteResourceType(std::string_view type) {
  const Model& model = Model::R4();
  return model.IsResourceType(type) && !model.IsAbstract(type);
}

// Splits the last two path segments of `path` into type and id when they are one.
bool SplitTypeAndId(std::string_view path, std::string_view* type, std::string_view* id,
                    size_t* type_start) {
  size_t slash = path.rfind('/');
  if (slash == std::string_view::npos || slash == 0) return false;
  std::string_view i = path.substr(slash + 1);
  std::string_view head = path.substr(0, slash);
  size_t prev = head.rfind('/');
  size_t start = prev == std::string_view::npos ? 0 : prev + 1;
  std::string_view t = head.substr(start);
  if (!IsConcreteResourceType(t) || !IsValidId(i)) return false;
  *type = t;
  *id = i;
  *type_start = start;
  return true;
}

}  // namespace

ParsedReference ParseReference(std::string_view ref) {
  ParsedReference out;
  out.url = ref;
  if (ref.empty()) return out;
  if (ref[0] == '#') {
    out.kind = ReferenceKind::kContained;
    out.target_id = ref.substr(1);
    out.url = {};
    return out;
  }
  if (ref.starts_with("urn:") || ref.find_first_of("?# ") != std::string_view::npos) return out;
  std::string_view path = ref;
  std::string_view version;
  if (size_t h = ref.find(kHistory); h != std::string_view::npos) {
    path = ref.substr(0, h);
    version = ref.substr(h + kHistory.size());
    if (version.empty() || version.find('/') != std::string_view::npos) return out;
  }
  std::string_view type, id;
  size_t type_start = 0;
  bool typed = SplitTypeAndId(path, &type, &id, &type_start);
  if (ref.find("://") != std::string_view::npos) {
    out.kind = ReferenceKind::kAbsolute;
    out.url = path;
    if (typed) {
      out.target_type = type;
      out.target_id = id;
      out.version = version;
    }
    return out;
  }
  if (!typed || type_start != 0) return out;  // relative means exactly Type/id
  out.kind = ReferenceKind::kRelative;
  out.url = {};
  out.target_type = type;
  out.target_id = id;
  out.version = version;
  return out;
}

ParsedReference ParseCanonical(std::string_view canonical) {
  ParsedReference out;
  out.kind = ReferenceKind::kCanonical;
  std::string_view url = canonical;
  if (size_t bar = canonical.rfind('|'); bar != std::string_view::npos) {
    url = canonical.substr(0, bar);
    out.version = canonical.substr(bar + 1);
  }
  out.url = url;
  std::string_view path = url.substr(0, url.find_first_of("?#"));
  size_t type_start = 0;
  SplitTypeAndId(path, &out.target_type, &out.target_id, &type_start);
  return out;
}

}  // namespace crs::fhir::index
