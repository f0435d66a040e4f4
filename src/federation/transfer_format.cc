#include "federation/transfer_format.h"

#include <boost/json.hpp>

#include "access/crypto.h"
#include "fhir/json_util.h"

namespace crs::federation {

namespace json = boost::json;

namespace {

std::string HexOf(const access::crypto::Sha256Digest& d) {
  static const char* kHex = "0123456789abcdef";
  std::string out;
  for (unsigned char c : d) {
    out.push_back(kHex[c >> 4]);
    out.push_back(kHex[c & 15]);
  }
  return out;
}

void Rewrite(json::value& v, std::string_view from,
             const std::set<std::pair<std::string, std::string>>& manifest) {
  if (json::object* o = v.if_object()) {
    for (auto& [k, child] : *o) {
      if (k == "reference" && child.is_string()) {
        std::string_view ref = child.get_string();
        size_t slash = ref.find('/');
        if (slash == std::string_view::npos || ref.find('/', slash + 1) != std::string_view::npos) {
          continue;  // absolute, versioned or contained: left as they are
        }
        std::string type(ref.substr(0, slash)), id(ref.substr(slash + 1));
        if (manifest.count({type, id})) child = type + "/" + TransferredId(from, id);
      } else {
        Rewrite(child, from, manifest);
      }
    }
  } else if (json::array* a = v.if_array()) {
    for (auto& child : *a) Rewrite(child, from, manifest);
  }
}

}  // namespace

std::string TransferredId(std::string_view from, std::string_view id) {
  std::string plain = std::string(from) + "-" + std::string(id);
  if (plain.size() <= 64) return plain;
  auto digest = access::crypto::Sha256(id);
  std::string hex = digest ? HexOf(*digest) : std::string(40, '0');
  return std::string(from) + "-h-" + hex.substr(0, 40);
}

Result<std::string> ForTransfer(std::string_view body, std::string_view from,
                                std::string_view type,
                                const std::set<std::pair<std::string, std::string>>& manifest) {
  boost::system::error_code ec;
  json::value doc = json::parse(body, ec);
  if (ec || !doc.is_object()) return Status::Invalid("a record to transfer is not a JSON object");
  json::object& o = doc.as_object();
  std::string id(fhir::StringField(o, "id"));
  Rewrite(doc, from, manifest);
  o["id"] = TransferredId(from, id);
  json::value& meta_v = o["meta"];
  if (!meta_v.is_object()) meta_v = json::object{};
  json::object& meta = meta_v.as_object();
  meta.erase("versionId");
  meta.erase("lastUpdated");
  json::array tags;
  if (const auto* old = meta.if_contains("tag"); old && old->is_array()) {
    for (const auto& t : old->as_array()) {
      if (t.is_object() && fhir::StringField(t.as_object(), "system") == kTransferredFromSystem) {
        continue;
      }
      tags.push_back(t);
    }
  }
  tags.push_back(json::object{{"system", kTransferredFromSystem},
                              {"code", std::string(from) + "|" + std::string(type) + "/" + id}});
  meta["tag"] = std::move(tags);
  return json::serialize(doc);
}

std::optional<std::pair<std::string, std::string>> TransferredFrom(std::string_view body) {
  boost::system::error_code ec;
  json::value doc = json::parse(body, ec);
  if (ec || !doc.is_object()) return std::nullopt;
  const auto* meta = doc.as_object().if_contains("meta");
  const auto* tags = meta && meta->is_object() ? meta->as_object().if_contains("tag") : nullptr;
  if (tags == nullptr || !tags->is_array()) return std::nullopt;
  for (const auto& t : tags->as_array()) {
    if (!t.is_object() || fhir::StringField(t.as_object(), "system") != kTransferredFromSystem) {
      continue;
    }
    std::string_view code = fhir::StringField(t.as_object(), "code");
    size_t bar = code.find('|');
    if (bar == std::string_view::npos || bar == 0 || bar + 1 == code.size()) return std::nullopt;
    return std::make_pair(std::string(code.substr(0, bar)), std::string(code.substr(bar + 1)));
  }
  return std::nullopt;
}

}  // namespace crs::federation
