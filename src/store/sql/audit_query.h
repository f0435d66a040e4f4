// The audit log's queries over the shared audit tables (audit,
// audit_patient, audit_alert; docs/audit.md), for any SQL backend through
// its Dialect: a patient's records, and an organisation's alerts with the
// alert list's filters. Every value is a bound argument.
//
// Thread safety: pure functions.
#pragma once

#include <string>

#include "store/sql/dialect.h"
#include "store/store.h"

namespace crs::store::sql {

// Columns: seq, time, record, hash, alert org (NULL when not an alert),
// reviewed_by; newest first, at most query.count + 1 rows (one beyond the
// page tells whether another follows). Invalid when the query names
// neither a patient nor an organisation, or filters anything but alerts.
Result<CompiledSql> CompileAuditQuery(const AuditQuery& query, const Dialect& dialect);

// ASCII lower case, as audit_alert.user_name holds a name.
std::string FoldUserName(std::string_view name);

}  // namespace crs::store::sql
