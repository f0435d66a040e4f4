#include "access/scopes.h"

#include <optional>

namespace crs::access {
namespace {

constexpr size_t kMaxScopes = 256;
constexpr size_t kMaxScopeLength = 128;
constexpr std::string_view kPermLetters = "cruds";

uint8_t BitOf(char interaction) {
  size_t i = kPermLetters.find(interaction);
  return i == std::string_view::npos ? 0 : static_cast<uint8_t>(1u << i);
}

std::optional<ScopeContext> ContextOf(std::string_view prefix) {
  if (prefix == "patient") return ScopeContext::kPatient;
  if (prefix == "user") return ScopeContext::kUser;
  if (prefix == "system") return ScopeContext::kSystem;
  return std::nullopt;
}

bool IsResourceTypeName(std::string_view type) {
  if (type == "*") return true;
  if (type.empty() || type.size() > 64 || type[0] < 'A' || type[0] > 'Z') return false;
  for (char c : type) {
    if (!((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9'))) {
      return false;
    }
  }
  return true;
}

// v1 words, or v2 letters in `cruds` order without repeats; 0 when malformed.
uint8_t ParsePerms(std::string_view perms) {
  if (perms == "read") return ScopeGrant::kRead | ScopeGrant::kSearch;
  if (perms == "write") return ScopeGrant::kCreate | ScopeGrant::kUpdate | ScopeGrant::kDelete;
  if (perms == "*") return 31;
  uint8_t bits = 0;
  size_t next = 0;  // letters must follow the order of "cruds"
  for (char c : perms) {
    size_t i = kPermLetters.find(c, next);
    if (i == std::string_view::npos) return 0;
    bits |= static_cast<uint8_t>(1u << i);
    next = i + 1;
  }
  return bits;
}

}  // namespace

std::string_view ScopeContextName(ScopeContext context) {
  switch (context) {
    case ScopeContext::kPatient:
      return "patient";
    case ScopeContext::kUser:
      return "user";
    case ScopeContext::kSystem:
      return "system";
  }
  return "user";
}

bool ScopeGrant::Allows(std::string_view resource_type, char interaction) const {
  return (perms & BitOf(interaction)) != 0 && (type == "*" || type == resource_type);
}

std::string ScopeGrant::ToString() const {
  std::string out(ScopeContextName(context));
  out += '/';
  out += type;
  out += '.';
  for (size_t i = 0; i < kPermLetters.size(); ++i) {
    if (perms & (1u << i)) out += kPermLetters[i];
  }
  return out;
}

Result<Scopes> Scopes::Parse(std::string_view text) {
  Scopes out;
  size_t count = 0;
  while (!text.empty()) {
    size_t start = text.find_first_not_of(' ');
    if (start == std::string_view::npos) break;
    text.remove_prefix(start);
    size_t end = text.find(' ');
    std::string_view scope = text.substr(0, end);
    text.remove_prefix(end == std::string_view::npos ? text.size() : end);
    if (++count > kMaxScopes) return Status::Invalid("too many scopes");
    if (scope.size() > kMaxScopeLength) return Status::Invalid("scope too long");

    size_t slash = scope.find('/');
    std::optional<ScopeContext> context =
        slash == std::string_view::npos ? std::nullopt : ContextOf(scope.substr(0, slash));
    if (!context) {
      out.others_.emplace_back(scope);
      continue;
    }
    std::string_view rest = scope.substr(slash + 1);
    if (rest.find('?') != std::string_view::npos) {
      return Status::Invalid("fine-grained (query) scopes are not supported");
    }
    size_t dot = rest.find('.');
    if (dot == std::string_view::npos) return Status::Invalid("malformed resource scope");
    std::string_view type = rest.substr(0, dot);
    uint8_t perms = ParsePerms(rest.substr(dot + 1));
    if (!IsResourceTypeName(type) || perms == 0) {
      return Status::Invalid("malformed resource scope");
    }
    out.grants_.push_back(ScopeGrant{*context, std::string(type), perms});
  }
  return out;
}

bool Scopes::Allows(std::string_view type, char interaction) const {
  for (const ScopeGrant& g : grants_) {
    if (g.Allows(type, interaction)) return true;
  }
  return false;
}

bool Scopes::AllowsIn(ScopeContext context, std::string_view type, char interaction) const {
  for (const ScopeGrant& g : grants_) {
    if (g.context == context && g.Allows(type, interaction)) return true;
  }
  return false;
}

}  // namespace crs::access
