#include "store/sqlite/table_source.h"

#include "store/sqlite/db.h"
#include "store/sqlite/sqlite_store.h"

namespace crs::store::sqlite {
namespace {

constexpr size_t kBatch = 1000;

class SqliteTableSource final : public sql::TableSource {
 public:
  explicit SqliteTableSource(std::unique_ptr<Db> db) : db_(std::move(db)) {}
  ~SqliteTableSource() override { (void)db_->Exec("ROLLBACK"); }

  Status Scan(const sql::TableSpec& table,
              const std::function<Status(const std::vector<sql::Row>&)>& fn) override {
    std::string cols;
    for (const auto& c : table.columns) cols += (cols.empty() ? "" : ", ") + std::string(c.name);
    CRS_ASSIGN_OR_RETURN(Stmt * s,
                         db_->PrepareDynamic("SELECT " + cols + " FROM " + table.name));
    std::vector<sql::Row> batch;
    Status st = Status::Ok();
    while (st.ok()) {
      auto more = s->Step();
      if (!more.ok()) {
        st = more.status();
        break;
      }
      if (!*more) break;
      sql::Row row;
      for (size_t i = 0; i < table.columns.size(); ++i) {
        int col = static_cast<int>(i);
        if (s->IsNull(col)) {
          row.emplace_back(std::monostate());
          continue;
        }
        switch (table.columns[i].kind) {
          case sql::ColumnKind::kInt: row.emplace_back(s->Int(col)); break;
          case sql::ColumnKind::kDouble: row.emplace_back(s->Double(col)); break;
          case sql::ColumnKind::kText: row.emplace_back(std::string(s->Text(col))); break;
          case sql::ColumnKind::kBytes: row.emplace_back(std::string(s->Blob(col))); break;
        }
      }
      batch.push_back(std::move(row));
      if (batch.size() == kBatch) {
        st = fn(batch);
        batch.clear();
      }
    }
    s->Reset();
    if (st.ok() && !batch.empty()) st = fn(batch);
    return st;
  }

  Result<std::optional<int64_t>> Meta(const std::string& key) override {
    CRS_ASSIGN_OR_RETURN(Stmt * s,
                         db_->PrepareDynamic("SELECT value FROM data.schema_meta WHERE key = ?1"));
    s->Bind(1, key);
    auto row = s->Step();
    std::optional<int64_t> value;
    if (row.ok() && *row) value = s->Int(0);
    s->Reset();
    if (!row.ok()) return row.status();
    return value;
  }

 private:
  std::unique_ptr<Db> db_;
};

}  // namespace

Result<std::unique_ptr<sql::TableSource>> OpenSqliteTableSource(const std::string& path) {
  // As the store's own connections: the audit log is the main database.
  CRS_ASSIGN_OR_RETURN(auto db, Db::Open(AuditPathFor(path), /*create=*/false));
  CRS_RETURN_IF_ERROR(db->Attach(path, "data"));
  CRS_RETURN_IF_ERROR(db->Exec("BEGIN"));  // one snapshot for every table
  return std::unique_ptr<sql::TableSource>(new SqliteTableSource(std::move(db)));
}

}  // namespace crs::store::sqlite
