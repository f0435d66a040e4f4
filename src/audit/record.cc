#include "audit/record.h"

#include <boost/json.hpp>
#include <charconv>

#include "core/time.h"

namespace crs::audit {
namespace {

namespace json = boost::json;

// Length of the valid UTF-8 sequence at s[i], or 0 when invalid (overlong
// forms, surrogates and code points past U+10FFFF are invalid).
size_t Utf8Length(std::string_view s, size_t i) {
  auto b = [&](size_t k) { return static_cast<unsigned char>(s[k]); };
  unsigned char c = b(i);
  size_t n = c < 0x80 ? 1 : (c >> 5) == 0x6 ? 2 : (c >> 4) == 0xe ? 3 : (c >> 3) == 0x1e ? 4 : 0;
  if (n == 0 || i + n > s.size()) return 0;
  for (size_t k = 1; k < n; ++k) {
    if ((b(i + k) & 0xc0) != 0x80) return 0;
  }
  if (n == 2 && c < 0xc2) return 0;
  if (n == 3 && ((c == 0xe0 && b(i + 1) < 0xa0) || (c == 0xed && b(i + 1) >= 0xa0))) return 0;
  if (n == 4 && ((c == 0xf0 && b(i + 1) < 0x90) || c > 0xf4 || (c == 0xf4 && b(i + 1) >= 0x90))) {
    return 0;
  }
  return n;
}

void AppendString(std::string& out, std::string_view s) {
  static constexpr char kHex[] = "0123456789abcdef";
  out.push_back('"');
  for (size_t i = 0; i < s.size();) {
    // Runs of printable ASCII other than '"' and '\\' (nearly every field)
    // are copied whole.
    size_t run = i;
    while (run < s.size()) {
      unsigned char r = static_cast<unsigned char>(s[run]);
      if (r < 0x20 || r >= 0x80 || r == '"' || r == '\\') break;
      ++run;
    }
    if (run > i) {
      out.append(s.data() + i, run - i);
      i = run;
      continue;
    }
    unsigned char c = static_cast<unsigned char>(s[i]);
    if (c == '"' || c == '\\') {
      out.push_back('\\');
      out.push_back(static_cast<char>(c));
      ++i;
    } else if (c < 0x20) {
      out += "\\u00";
      out.push_back(kHex[c >> 4]);
      out.push_back(kHex[c & 15]);
      ++i;
    } else if (size_t n = Utf8Length(s, i); n > 0) {
      out.append(s.substr(i, n));
      i += n;
    } else {
      out += "\xef\xbf\xbd";  // U+FFFD
      ++i;
    }
  }
  out.push_back('"');
}

class Writer {
 public:
  Writer() {
    out_.reserve(512);  // a read's record is 300-400 bytes
    out_ = "{\"v\":1";
  }
  void Str(std::string_view key, std::string_view v) {
    if (v.empty()) return;
    Key(key);
    AppendString(out_, v);
  }
  void Bool(std::string_view key, bool v) {
    if (!v) return;
    Key(key);
    out_ += "true";
  }
  void Int(std::string_view key, int64_t v) {
    if (v == 0) return;
    Key(key);
    char buf[24];
    auto [end, ec] = std::to_chars(buf, buf + sizeof buf, v);
    out_.append(buf, end);
  }
  void List(std::string_view key, const std::vector<std::string>& v) {
    if (v.empty()) return;
    Key(key);
    out_.push_back('[');
    for (size_t i = 0; i < v.size(); ++i) {
      if (i) out_.push_back(',');
      AppendString(out_, v[i]);
    }
    out_.push_back(']');
  }
  std::string Done() && {
    out_.push_back('}');
    return std::move(out_);
  }

 private:
  void Key(std::string_view key) {
    out_ += ",\"";
    out_ += key;
    out_ += "\":";
  }
  std::string out_;
};

std::string GetStr(const json::object& o, std::string_view key) {
  const json::value* v = o.if_contains(key);
  return v && v->is_string() ? std::string(v->get_string()) : std::string();
}
bool GetBool(const json::object& o, std::string_view key) {
  const json::value* v = o.if_contains(key);
  return v && v->is_bool() && v->get_bool();
}
int64_t GetInt(const json::object& o, std::string_view key) {
  const json::value* v = o.if_contains(key);
  return v && v->is_int64() ? v->get_int64() : 0;
}
std::vector<std::string> GetList(const json::object& o, std::string_view key) {
  std::vector<std::string> out;
  const json::value* v = o.if_contains(key);
  if (!v || !v->is_array()) return out;
  for (const json::value& item : v->get_array()) {
    if (item.is_string()) out.emplace_back(item.get_string());
  }
  return out;
}

}  // namespace

const char* OutcomeName(AuditOutcome outcome) {
  switch (outcome) {
    case AuditOutcome::kAllowed:
      return "allowed";
    case AuditOutcome::kDenied:
      return "denied";
    case AuditOutcome::kError:
      return "error";
  }
  return "error";
}

std::string ToJson(const AuditRecord& r) {
  Writer w;
  w.Str("time", FormatInstant(r.time_ms));
  w.Str("request", r.request_id);
  w.Str("correlation", r.correlation_id);
  w.Str("user", r.user);
  w.Str("user_name", r.user_name);
  w.Str("role", r.role);
  w.Str("org", r.org);
  w.Str("purpose", r.purpose);
  w.Str("justification", r.justification);
  w.Bool("permission_to_view", r.permission_to_view);
  w.Bool("self_claimed", r.self_claimed);
  w.Bool("break_glass", r.break_glass);
  w.Str("action", r.action);
  w.Str("method", r.method);
  w.Str("type", r.resource_type);
  w.Str("id", r.id);
  w.Str("query", r.query);
  w.Int("status", r.status);
  w.Str("outcome", OutcomeName(r.outcome));
  w.List("patients", r.patients);
  w.List("resources", r.resources);
  w.List("alerts", r.alerts);
  w.Int("reviews", r.reviews);
  w.Str("node", r.node);
  w.Int("node_seq", r.node_seq);
  w.Str("node_hash", r.node_hash);
  w.Str("review_outcome", r.review_outcome);
  w.Int("reports", r.reports);
  w.Str("note", r.note);
  return std::move(w).Done();
}

Result<AuditRecord> FromJson(std::string_view text) {
  boost::system::error_code ec;
  json::value v = json::parse(text, ec);
  if (ec || !v.is_object()) return Status::Invalid("audit record is not a JSON object");
  const json::object& o = v.get_object();
  if (GetInt(o, "v") != 1) return Status::Invalid("audit record has an unknown format version");
  AuditRecord r;
  std::string time = GetStr(o, "time");
  auto ms = ParseFhirDateTime(time);
  if (!ms) return Status::Invalid("audit record has no valid time");
  r.time_ms = *ms;
  r.request_id = GetStr(o, "request");
  r.correlation_id = GetStr(o, "correlation");
  r.user = GetStr(o, "user");
  r.user_name = GetStr(o, "user_name");
  r.role = GetStr(o, "role");
  r.org = GetStr(o, "org");
  r.purpose = GetStr(o, "purpose");
  r.justification = GetStr(o, "justification");
  r.permission_to_view = GetBool(o, "permission_to_view");
  r.self_claimed = GetBool(o, "self_claimed");
  r.break_glass = GetBool(o, "break_glass");
  r.action = GetStr(o, "action");
  r.method = GetStr(o, "method");
  r.resource_type = GetStr(o, "type");
  r.id = GetStr(o, "id");
  r.query = GetStr(o, "query");
  r.status = static_cast<int>(GetInt(o, "status"));
  std::string outcome = GetStr(o, "outcome");
  r.outcome = outcome == "allowed"  ? AuditOutcome::kAllowed
              : outcome == "denied" ? AuditOutcome::kDenied
                                    : AuditOutcome::kError;
  r.patients = GetList(o, "patients");
  r.resources = GetList(o, "resources");
  r.alerts = GetList(o, "alerts");
  r.reviews = GetInt(o, "reviews");
  r.node = GetStr(o, "node");
  r.node_seq = GetInt(o, "node_seq");
  r.node_hash = GetStr(o, "node_hash");
  r.review_outcome = GetStr(o, "review_outcome");
  r.reports = GetInt(o, "reports");
  r.note = GetStr(o, "note");
  return r;
}

int64_t AlertBit(std::string_view code) {
  static const std::pair<std::string_view, int64_t> kBits[] = {
      {kAlertBreakGlass, store::kAlertBitBreakGlass},
      {kAlertSelfClaimed, store::kAlertBitSelfClaimed},
      {kAlertSealedAccess, store::kAlertBitSealedAccess},
      {kAlertVip, store::kAlertBitVip},
      {kAlertVolume, store::kAlertBitVolume},
      {kAlertPatientReported, store::kAlertBitPatientReported},
  };
  for (const auto& [name, bit] : kBits) {
    if (name == code) return bit;
  }
  return 0;
}

store::AuditInput ToAuditInput(const AuditRecord& record, const AlertRouting& routing) {
  store::AuditInput in;
  in.time_ms = record.time_ms;
  in.record = ToJson(record);
  in.patients = record.patients;
  if (!record.alerts.empty()) {
    in.alert_org = routing.org.empty() ? record.org : routing.org;
    bool other_user = !routing.user.empty() || !routing.user_name.empty();
    in.alert_user = other_user ? routing.user : record.user;
    in.alert_user_name = other_user ? routing.user_name : record.user_name;
    for (const auto& code : record.alerts) in.alert_codes |= AlertBit(code);
  }
  in.reviews_alert = record.reviews;
  return in;
}

}  // namespace crs::audit
