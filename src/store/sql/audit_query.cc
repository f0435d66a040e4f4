#include "store/sql/audit_query.h"

#include <algorithm>

namespace crs::store::sql {
namespace {

constexpr const char* kColumns = "SELECT a.seq, a.time, a.record, a.hash, al.org, al.reviewed_by ";

bool Filtered(const AuditQuery& q) {
  return q.unreviewed_only || q.reviewed_only || !q.code_masks.empty() || !q.user.empty() ||
         q.from_ms != INT64_MIN || q.to_ms != INT64_MAX;
}

// A LIKE pattern matching text that contains `part`, with '\' escaping.
std::string ContainsPattern(std::string_view part) {
  std::string out = "%";
  for (char c : part) {
    if (c == '%' || c == '_' || c == '\\') out += '\\';
    out += c;
  }
  return out + "%";
}

}  // namespace

std::string FoldUserName(std::string_view name) {
  std::string out(name);
  std::transform(out.begin(), out.end(), out.begin(),
                 [](char c) { return c >= 'A' && c <= 'Z' ? static_cast<char>(c - 'A' + 'a') : c; });
  return out;
}

Result<CompiledSql> CompileAuditQuery(const AuditQuery& q, const Dialect& dialect) {
  if (q.patient.empty() && q.alert_org.empty()) {
    return Status::Invalid("an audit query names a patient or an organisation");
  }
  if (q.alert_org.empty() && Filtered(q)) {
    return Status::Invalid("only alert queries take filters");
  }
  // One args.Add per statement: placeholders are numbered in the order the
  // calls run, which within one expression C++ leaves open.
  ArgList args(dialect);
  std::string sql = kColumns;
  auto add = [&](std::string_view text, SqlArg value) {
    sql += text;
    sql += args.Add(std::move(value));
  };
  if (q.alert_org.empty()) {
    add("FROM audit_patient p JOIN audit a ON a.seq = p.seq "
        "LEFT JOIN audit_alert al ON al.seq = a.seq WHERE p.patient = ", q.patient);
    add(" AND p.seq < ", q.before_seq > 0 ? q.before_seq : INT64_MAX);
    sql += " ORDER BY p.seq DESC";
  } else {
    // Walks the organisation's alerts newest first by (org, seq) and tests
    // each on its own row; the record time comes from the audit row joined.
    add("FROM audit_alert al JOIN audit a ON a.seq = al.seq WHERE al.org = ", q.alert_org);
    add(" AND al.seq < ", q.before_seq > 0 ? q.before_seq : INT64_MAX);
    if (q.unreviewed_only) sql += " AND al.reviewed_by = 0";
    if (q.reviewed_only) sql += " AND al.reviewed_by <> 0";
    for (int64_t mask : q.code_masks) {
      add(" AND (al.codes & ", mask);
      sql += ") <> 0";
    }
    if (!q.user.empty()) {
      add(" AND (al.user_id = ", q.user);
      add(" OR al.user_name LIKE ", ContainsPattern(FoldUserName(q.user)));
      sql += " ESCAPE '\\')";
    }
    if (q.from_ms != INT64_MIN) add(" AND a.time >= ", q.from_ms);
    if (q.to_ms != INT64_MAX) add(" AND a.time < ", q.to_ms);
    if (!q.patient.empty()) {
      add(" AND EXISTS (SELECT 1 FROM audit_patient p WHERE p.patient = ", q.patient);
      sql += " AND p.seq = al.seq)";
    }
    sql += " ORDER BY al.seq DESC";
  }
  add(" LIMIT ", static_cast<int64_t>(std::max(q.count, 0)) + 1);
  return CompiledSql{std::move(sql), args.Take()};
}

}  // namespace crs::store::sql
