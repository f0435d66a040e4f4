#include "federation/pointer.h"

#include "federation/transfer_format.h"

#include <array>
#include <boost/json.hpp>

#include "access/crypto.h"
#include "access/facts.h"
#include "access/sensitive.h"
#include "core/time.h"
#include "nhs/nhs_number.h"

namespace crs::federation {

namespace json = boost::json;

namespace {

struct RecordKind {
  std::string_view type;
  std::string_view code;     // SNOMED CT record artifact
  std::string_view display;
};

constexpr std::array<RecordKind, 5> kRecordKinds = {{
    {"Encounter", "371531000", "Report of clinical encounter"},
    {"DocumentReference", "419891008", "Record artifact"},
    {"CarePlan", "734163000", "Care plan"},
    // No narrower record-artifact code is used until a terminologist has
    // reviewed one (docs/federation.md).
    {"DiagnosticReport", "419891008", "Record artifact"},
    {"ImagingStudy", "419891008", "Record artifact"},
}};

const RecordKind* KindOf(std::string_view type) {
  for (const auto& k : kRecordKinds) {
    if (k.type == type) return &k;
  }
  return nullptr;
}

std::string Hex(std::string_view bytes) {
  static const char* kDigits = "0123456789abcdef";
  std::string out;
  for (unsigned char c : bytes) {
    out.push_back(kDigits[c >> 4]);
    out.push_back(kDigits[c & 15]);
  }
  return out;
}

}  // namespace

bool IsRecordType(std::string_view type) { return KindOf(type) != nullptr; }

std::string PointerId(std::string_view ods, std::string_view type, std::string_view id) {
  std::string plain = std::string(ods) + "-" + std::string(type) + "-" + std::string(id);
  if (plain.size() <= 64) return plain;
  std::string record = std::string(type) + "/" + std::string(id);
  auto digest = access::crypto::Sha256(record);
  std::string hex = digest ? Hex(std::string_view(reinterpret_cast<const char*>(digest->data()),
                                                  digest->size()))
                           : std::string(40, '0');
  return std::string(ods) + "-h-" + hex.substr(0, 40);
}

std::optional<PointerOp> PointerFor(const store::ResourceVersion& v, std::string_view ods,
                                    std::string_view local_base) {
  const RecordKind* kind = KindOf(v.type);
  if (kind == nullptr) return std::nullopt;
  PointerOp op;
  op.id = PointerId(ods, v.type, v.id);
  const std::string& nhs = v.access.patient;
  if (v.deleted || !nhs::IsValidNhsNumber(nhs)) {
    op.remove = true;
    return op;
  }
  json::object pointer{
      {"resourceType", "DocumentReference"},
      {"id", op.id},
      {"masterIdentifier", json::object{{"system", kRecordIdSystem},
                                        {"value", v.type + "/" + v.id}}},
      {"status", "current"},
      {"type", json::object{{"coding", json::array{json::object{
                                           {"system", access::kSnomedSystem},
                                           {"code", kind->code},
                                           {"display", kind->display}}}}}},
      {"subject", json::object{{"reference", "Patient/" + nhs},
                               {"identifier", json::object{{"system", access::kNhsNumberSystem},
                                                           {"value", nhs}}}}},
      {"date", FormatInstant(v.last_updated_ms)},
      {"custodian", json::object{{"identifier", json::object{{"system", access::kOdsSystem},
                                                             {"value", ods}}}}},
      {"content",
       json::array{json::object{
           {"attachment",
            json::object{{"contentType", "application/fhir+json"},
                         {"url", std::string(local_base) + "/" + v.type + "/" + v.id}}}}}}};
  // The record's security labels travel with its pointer.
  boost::system::error_code ec;
  json::value record = json::parse(v.body, ec);
  if (!ec && record.is_object()) {
    const json::value* meta = record.as_object().if_contains("meta");
    const json::value* security =
        meta && meta->is_object() ? meta->as_object().if_contains("security") : nullptr;
    if (security && security->is_array() && !security->as_array().empty()) {
      pointer["meta"] = json::object{{"security", *security}};
    }
  }
  // A record transferred from another practice (GP2GP) takes over that
  // practice's pointer: the national node supersedes it atomically.
  if (auto from = TransferredFrom(v.body); from && from->first != ods) {
    size_t slash = from->second.find('/');
    if (slash != std::string::npos) {
      std::string old_id = PointerId(from->first, from->second.substr(0, slash),
                                     from->second.substr(slash + 1));
      pointer["relatesTo"] = json::array{json::object{
          {"code", "replaces"},
          {"target", json::object{{"reference", "DocumentReference/" + old_id}}}}};
    }
  }
  op.body = json::serialize(pointer);
  return op;
}

}  // namespace crs::federation
