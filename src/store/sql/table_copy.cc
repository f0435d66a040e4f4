#include "store/sql/table_copy.h"

namespace crs::store::sql {

const std::vector<TableSpec>& CopiedTables() {
  using K = ColumnKind;
  static const std::vector<TableSpec> kTables = {
      {"resources",
       {{"rid", K::kInt}, {"type", K::kText}, {"id", K::kText}, {"version", K::kInt},
        {"cur_seq", K::kInt}, {"deleted", K::kInt}, {"patient", K::kText}, {"labels", K::kInt},
        {"author_org", K::kText}},
       "rid"},
      {"versions",
       {{"seq", K::kInt}, {"rid", K::kInt}, {"type", K::kText}, {"version", K::kInt},
        {"last_updated", K::kInt}, {"method", K::kInt}, {"body", K::kBytes}},
       "seq"},
      {"idempotency", {{"key", K::kText}, {"created", K::kInt}, {"result", K::kText}}, nullptr},
      {"sp", {{"pid", K::kInt}, {"type", K::kText}, {"code", K::kText}}, "pid"},
      {"ix_string",
       {{"pid", K::kInt}, {"norm", K::kText}, {"exact", K::kText}, {"rid", K::kInt}},
       nullptr},
      {"ix_token",
       {{"pid", K::kInt}, {"code", K::kText}, {"system", K::kText}, {"text", K::kText},
        {"type_system", K::kText}, {"type_code", K::kText}, {"rid", K::kInt}},
       nullptr},
      {"ix_date", {{"pid", K::kInt}, {"lo", K::kInt}, {"hi", K::kInt}, {"rid", K::kInt}}, nullptr},
      {"ix_number",
       {{"pid", K::kInt}, {"val", K::kDouble}, {"lo", K::kDouble}, {"hi", K::kDouble},
        {"rid", K::kInt}},
       nullptr},
      {"ix_quantity",
       {{"pid", K::kInt}, {"system", K::kText}, {"code", K::kText}, {"unit", K::kText},
        {"val", K::kDouble}, {"lo", K::kDouble}, {"hi", K::kDouble}, {"rid", K::kInt}},
       nullptr},
      {"ix_ref",
       {{"pid", K::kInt}, {"tid", K::kText}, {"ttype", K::kText}, {"url", K::kText},
        {"rid", K::kInt}},
       nullptr},
      {"ix_uri", {{"pid", K::kInt}, {"uri", K::kText}, {"rid", K::kInt}}, nullptr},
      {"ix_comp",
       {{"pid", K::kInt}, {"rid", K::kInt}, {"tup", K::kInt}, {"comp", K::kInt},
        {"system", K::kText}, {"code", K::kText}, {"norm", K::kText}, {"exact", K::kText},
        {"val", K::kDouble}, {"unit", K::kText}, {"lo", K::kInt}, {"hi", K::kInt},
        {"ttype", K::kText}, {"tid", K::kText}, {"url", K::kText}, {"uri", K::kText}},
       nullptr},
      {"ix_geo",
       {{"pid", K::kInt}, {"lat", K::kDouble}, {"lon", K::kDouble}, {"ux", K::kDouble},
        {"uy", K::kDouble}, {"uz", K::kDouble}, {"rid", K::kInt}},
       nullptr},
      // ix_text is not copied: FTS5 rows do not convert to tsvectors. The
      // copy's full-text index is incomplete until `crs reindex --fulltext`.
      {"rel", {{"org", K::kText}, {"patient", K::kText}, {"rid", K::kInt}}, nullptr},
      {"sequences", {{"name", K::kText}, {"next", K::kInt}}, nullptr},
      {"audit",
       {{"seq", K::kInt}, {"time", K::kInt}, {"record", K::kBytes}, {"hash", K::kBytes}},
       nullptr},
      {"audit_patient", {{"patient", K::kText}, {"seq", K::kInt}}, nullptr},
      {"audit_alert",
       {{"seq", K::kInt}, {"org", K::kText}, {"reviewed_by", K::kInt}, {"codes", K::kInt},
        {"user_id", K::kText}, {"user_name", K::kText}},
       nullptr},
      {"audit_checkpoint",
       {{"seq", K::kInt}, {"time", K::kInt}, {"head", K::kBytes}, {"key_id", K::kText},
        {"signature", K::kBytes}},
       nullptr},
  };
  return kTables;
}

const std::vector<std::string>& CopiedMeta() {
  static const std::vector<std::string> kKeys = {"trace_keys"};
  return kKeys;
}

Status CopyTables(TableSource& source, TableSink& sink,
                  const std::function<void(const std::string&, int64_t)>& progress) {
  CRS_RETURN_IF_ERROR(sink.Begin());
  for (const TableSpec& table : CopiedTables()) {
    int64_t rows = 0;
    CRS_RETURN_IF_ERROR(source.Scan(table, [&](const std::vector<Row>& batch) {
      rows += static_cast<int64_t>(batch.size());
      return sink.Insert(table, batch);
    }));
    if (progress) progress(table.name, rows);
  }
  for (const std::string& key : CopiedMeta()) {
    CRS_ASSIGN_OR_RETURN(std::optional<int64_t> value, source.Meta(key));
    if (value) CRS_RETURN_IF_ERROR(sink.SetMeta(key, *value));
  }
  return sink.Finish();
}

}  // namespace crs::store::sql
