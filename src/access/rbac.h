// National RBAC (role-based access control) as OpenCRS applies it: the role
// codes a token may carry, each role's default activities (used when the
// token has no `activities` claim), and activity nesting (an activity that
// includes another, e.g. amend demographics includes view demographics).
//
// The tables, their sources and the codes OpenCRS defines itself are
// documented in docs/access.md, "Roles and activities".
//
// Thread safety: immutable tables; every function is safe from any thread.
#pragma once

#include <functional>
#include <set>
#include <span>
#include <string>
#include <string_view>

namespace crs::access {

using ActivitySet = std::set<std::string, std::less<>>;

namespace rbac {

// Roles (national access-role codes, plus two OpenCRS roles).
inline constexpr std::string_view kClinicalPractitioner = "R8000";
inline constexpr std::string_view kNurse = "R8001";
inline constexpr std::string_view kHealthProfessional = "R8003";  // e.g. pharmacist
inline constexpr std::string_view kAdminClinicalSupport = "R8008";
inline constexpr std::string_view kPrivacyOfficer = "R0001";
inline constexpr std::string_view kCaldicottGuardian = "R5105";
inline constexpr std::string_view kPatient = "patient";
inline constexpr std::string_view kSystem = "system";

// Activities (national activity codes, plus the OpenCRS "X" codes).
inline constexpr std::string_view kViewDemographics = "B0820";
inline constexpr std::string_view kAmendDemographics = "B0825";
inline constexpr std::string_view kViewClinicalRecord = "B0370";
inline constexpr std::string_view kEmergencyAccess = "B0168";
inline constexpr std::string_view kSealedDataAccess = "B0083";
inline constexpr std::string_view kRecordConsent = "B0020";
// OpenCRS-defined: the national catalogue has no matching activity.
inline constexpr std::string_view kAmendClinicalRecord = "X0371";
inline constexpr std::string_view kReviewAccessAlerts = "X0900";

// True for every role in the table (national codes above, `patient`,
// `system`). Tokens with any other role are refused.
bool IsKnownRole(std::string_view role);

// A human-readable role name ("Nurse Access Role"); empty for unknown roles.
std::string_view RoleName(std::string_view role);

// A human-readable activity name; empty for codes OpenCRS does not know.
std::string_view ActivityName(std::string_view activity);

// The role's default activities, before nesting expansion; empty for an
// unknown role (and for `patient`, whose access comes from the patient
// compartment, not from activities).
std::span<const std::string_view> DefaultActivities(std::string_view role);

// The activities a given one includes directly (not transitively); empty for
// leaves and unknown codes.
std::span<const std::string_view> IncludedActivities(std::string_view activity);

// `activities` plus everything they include, transitively. Unknown codes are
// kept as they are (the national catalogue is larger than OpenCRS's table).
ActivitySet Expand(std::span<const std::string> activities);
ActivitySet Expand(std::span<const std::string_view> activities);

// True when `activity` is shaped like an RBAC activity code: an upper-case
// letter followed by 1 to 15 upper-case letters or digits.
bool IsWellFormedActivity(std::string_view activity);

}  // namespace rbac
}  // namespace crs::access
