#include "access/rbac.h"

#include <array>
#include <vector>

namespace crs::access::rbac {
namespace {

struct Role {
  std::string_view code;
  std::string_view name;
  std::span<const std::string_view> defaults;
};

struct Activity {
  std::string_view code;
  std::string_view name;
  std::span<const std::string_view> includes;
};

// Defaults follow the principle of least privilege: sealed-data access
// (B0083) is never a default and must be granted in the token explicitly.
constexpr std::array kClinicianDefaults{kViewDemographics,   kAmendDemographics,
                                        kViewClinicalRecord, kAmendClinicalRecord,
                                        kEmergencyAccess,    kRecordConsent};
constexpr std::array kHealthProfessionalDefaults{kViewDemographics, kViewClinicalRecord,
                                                 kEmergencyAccess};
constexpr std::array kAdminDefaults{kViewDemographics, kAmendDemographics};
constexpr std::array kGovernanceDefaults{kViewDemographics, kReviewAccessAlerts};

constexpr std::array kRoles{
    Role{kClinicalPractitioner, "Clinical Practitioner Access Role", kClinicianDefaults},
    Role{kNurse, "Nurse Access Role", kClinicianDefaults},
    Role{kHealthProfessional, "Health Professional Access Role", kHealthProfessionalDefaults},
    Role{kAdminClinicalSupport, "Admin/Clinical Support Access Role", kAdminDefaults},
    Role{kPrivacyOfficer, "Privacy Officer", kGovernanceDefaults},
    Role{kCaldicottGuardian, "Caldicott Guardian", kGovernanceDefaults},
    Role{kPatient, "Patient (OpenCRS)", {}},
    Role{kSystem, "Backend system (OpenCRS)", {}},
};

constexpr std::array kIncludesDemographics{kViewDemographics};
constexpr std::array kIncludesClinicalView{kViewClinicalRecord};

constexpr std::array kActivities{
    Activity{kViewDemographics, "View Patient Demographics", {}},
    Activity{kAmendDemographics, "Amend Patient Demographics", kIncludesDemographics},
    Activity{kViewClinicalRecord, "View Clinical Record", kIncludesDemographics},
    Activity{kEmergencyAccess, "Emergency Access (break-glass)", kIncludesClinicalView},
    Activity{kSealedDataAccess, "Access Sealed Data", kIncludesClinicalView},
    Activity{kRecordConsent, "Record Consent Decisions", {}},
    Activity{kAmendClinicalRecord, "Upload/Amend Clinical Record (OpenCRS)", kIncludesClinicalView},
    Activity{kReviewAccessAlerts, "Review Access Audit Alerts (OpenCRS)", {}},
};

const Role* FindRole(std::string_view code) {
  for (const Role& r : kRoles) {
    if (r.code == code) return &r;
  }
  return nullptr;
}

const Activity* FindActivity(std::string_view code) {
  for (const Activity& a : kActivities) {
    if (a.code == code) return &a;
  }
  return nullptr;
}

void AddWithIncluded(std::string_view code, ActivitySet& out) {
  if (!out.emplace(code).second) return;  // already there with its closure
  for (std::string_view inner : IncludedActivities(code)) AddWithIncluded(inner, out);
}

}  // namespace

bool IsKnownRole(std::string_view role) { return FindRole(role) != nullptr; }

std::string_view RoleName(std::string_view role) {
  const Role* r = FindRole(role);
  return r ? r->name : std::string_view();
}

std::string_view ActivityName(std::string_view activity) {
  const Activity* a = FindActivity(activity);
  return a ? a->name : std::string_view();
}

std::span<const std::string_view> DefaultActivities(std::string_view role) {
  const Role* r = FindRole(role);
  return r ? r->defaults : std::span<const std::string_view>();
}

std::span<const std::string_view> IncludedActivities(std::string_view activity) {
  const Activity* a = FindActivity(activity);
  return a ? a->includes : std::span<const std::string_view>();
}

ActivitySet Expand(std::span<const std::string> activities) {
  ActivitySet out;
  for (const std::string& a : activities) AddWithIncluded(a, out);
  return out;
}

ActivitySet Expand(std::span<const std::string_view> activities) {
  ActivitySet out;
  for (std::string_view a : activities) AddWithIncluded(a, out);
  return out;
}

bool IsWellFormedActivity(std::string_view activity) {
  if (activity.size() < 2 || activity.size() > 16) return false;
  if (activity[0] < 'A' || activity[0] > 'Z') return false;
  for (char c : activity.substr(1)) {
    if (!((c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9'))) return false;
  }
  return true;
}

}  // namespace crs::access::rbac
