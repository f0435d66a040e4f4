// Patient consent decisions, recorded as FHIR Consent resources (API.md
// "Data conventions"): scope patient-privacy, patient the NHS number,
// provision.type deny (dissent / opt-out) or permit, and a policy naming
// what the decision is about:
//   urn:opencrs:consent:scr             the core Summary Care Record
//   urn:opencrs:consent:scr-additional  additional information in the summary
//   urn:opencrs:consent:ndop            the National Data Opt-out (deny = opted out)
// The policy is read from policyRule (a coding whose code is the URN, or whose
// system + ":" + code is) or from policy[].uri. The latest active Consent per
// policy (by dateTime, then by lastUpdated) decides.
//
// Thread safety: pure functions.
#pragma once

#include <boost/json/value.hpp>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace crs::access {

enum class ConsentPolicy { kScr, kScrAdditional, kNdop };

inline constexpr std::string_view kScrPolicy = "urn:opencrs:consent:scr";
inline constexpr std::string_view kScrAdditionalPolicy = "urn:opencrs:consent:scr-additional";
inline constexpr std::string_view kNdopPolicy = "urn:opencrs:consent:ndop";

// One recorded decision.
struct ConsentDecision {
  ConsentPolicy policy = ConsentPolicy::kScr;
  bool permit = false;
  bool active = false;   // status active
  std::string patient;   // the patient's id (NHS number)
  int64_t when_ms = 0;   // Consent.dateTime, else 0
};

// The decision a Consent resource records, or nullopt when it is not one of
// OpenCRS's policies (other Consents are stored but decide nothing).
std::optional<ConsentDecision> ParseConsent(const boost::json::value& consent);

// How the national summary is consented (national policy setting).
enum class ConsentModel { kImplied, kExplicit };

// A patient's current decisions, from their Consent resources.
struct ConsentState {
  std::optional<bool> scr;             // nullopt: no decision recorded
  std::optional<bool> scr_additional;
  std::optional<bool> ndop_opted_out;

  // Whether the core summary may be held: implied consent unless dissent;
  // explicit consent needs a permit.
  bool ScrAllowed(ConsentModel model) const {
    return model == ConsentModel::kImplied ? scr.value_or(true) : scr.value_or(false);
  }
  // Additional information follows the same model (and needs the core
  // summary): under implied consent it is held unless the patient declined
  // it; under explicit consent only with a permit.
  bool AdditionalAllowed(ConsentModel model) const {
    return ScrAllowed(model) &&
           (model == ConsentModel::kImplied ? scr_additional.value_or(true)
                                            : scr_additional.value_or(false));
  }
};

// Folds decisions (with their resources' lastUpdated) into the current state:
// the latest active decision per policy wins.
ConsentState Decide(const std::vector<std::pair<ConsentDecision, int64_t>>& decisions);

// Which part of the summary a resource type belongs to on the national node.
enum class SummaryPart { kNone, kCore, kAdditional };
SummaryPart SummaryPartOf(std::string_view type);

}  // namespace crs::access
