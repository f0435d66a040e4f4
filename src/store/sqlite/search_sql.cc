#include "store/sqlite/search_sql.h"

#include "store/body_codec.h"
#include "store/sql/search_sql.h"

namespace crs::store::sqlite {

Result<SearchMatch> MatchFromRow(const Stmt& row, int type_col) {
  SearchMatch m;
  m.rid = row.Int(0);
  m.id = row.Text(1);
  m.version = row.Int(2);
  m.last_updated_ms = row.Int(3);
  m.patient = row.Text(5);
  m.labels = static_cast<uint32_t>(row.Int(6));
  m.author_org = row.Text(7);
  if (type_col >= 0) m.type = row.Text(type_col);
  CRS_ASSIGN_OR_RETURN(m.body, DecompressBody(row.Blob(4)));
  return m;
}

void BindArgs(Stmt* s, const std::vector<SqlArg>& args) {
  for (size_t i = 0; i < args.size(); ++i) {
    int pos = static_cast<int>(i) + 1;
    if (auto* n = std::get_if<int64_t>(&args[i])) {
      s->Bind(pos, *n);
    } else if (auto* d = std::get_if<double>(&args[i])) {
      s->BindDouble(pos, *d);
    } else {
      s->Bind(pos, std::get<std::string>(args[i]));
    }
  }
}

Result<std::vector<SearchMatch>> RunMatches(Db& db, const CompiledSql& sql) {
  CRS_ASSIGN_OR_RETURN(Stmt * s, db.PrepareDynamic(sql.sql));
  BindArgs(s, sql.args);
  std::vector<SearchMatch> out;
  Status st = Status::Ok();
  while (st.ok()) {
    auto row = s->Step();
    if (!row.ok()) {
      st = row.status();
      break;
    }
    if (!*row) break;
    auto m = MatchFromRow(*s, sql::kMatchTypeColumn);
    if (!m.ok()) {
      st = m.status();
      break;
    }
    out.push_back(std::move(*m));
  }
  s->Reset();
  CRS_RETURN_IF_ERROR(st);
  return out;
}

}  // namespace crs::store::sqlite
