#include "store/postgres/table_sink.h"

#include <algorithm>

#include "store/postgres/pg.h"
#include "store/postgres/schema.h"

namespace crs::store::postgres {
namespace {

// PostgreSQL binds at most 65535 parameters per statement.
constexpr size_t kMaxParams = 60000;

class PostgresTableSink final : public sql::TableSink {
 public:
  explicit PostgresTableSink(std::unique_ptr<Conn> conn) : conn_(std::move(conn)) {}

  Status Begin() override {
    CRS_RETURN_IF_ERROR(conn_->Exec("BEGIN"));
    // No server writes while the copy runs.
    CRS_RETURN_IF_ERROR(
        conn_->QueryOnce("SELECT pg_advisory_xact_lock($1)", Params().Int(kWriterLock)).status());
    CRS_ASSIGN_OR_RETURN(Rows r, conn_->QueryOnce(
        "SELECT (SELECT count(*) FROM resources) + (SELECT count(*) FROM versions) + "
        "(SELECT count(*) FROM audit) + (SELECT count(*) FROM sequences)",
        Params()));
    if (r.size() != 1 || r.Int(0, 0) != 0) {
      return Status::Conflict("the destination database already holds data; copy into an "
                              "empty one");
    }
    return Status::Ok();
  }

  Status Insert(const sql::TableSpec& table, const std::vector<sql::Row>& rows) override {
    size_t per = std::max<size_t>(1, kMaxParams / table.columns.size());
    for (size_t first = 0; first < rows.size(); first += per) {
      size_t n = std::min(per, rows.size() - first);
      CRS_RETURN_IF_ERROR(InsertSome(table, rows, first, n));
    }
    return Status::Ok();
  }

  Status SetMeta(const std::string& key, int64_t value) override {
    return conn_->QueryOnce("INSERT INTO schema_meta VALUES ($1, $2) "
                            "ON CONFLICT (key) DO UPDATE SET value = $2",
                            Params().Text(key).Int(value))
        .status();
  }

  Status Finish() override {
    for (const auto& table : sql::CopiedTables()) {
      if (!table.identity) continue;
      // The next generated id follows the copied ones.
      std::string t = table.name, c = table.identity;
      CRS_RETURN_IF_ERROR(conn_->Exec(
          "SELECT setval(pg_get_serial_sequence('" + t + "', '" + c + "'), "
          "GREATEST((SELECT coalesce(max(" + c + "), 0) FROM " + t + "), 1), "
          "(SELECT count(*) > 0 FROM " + t + "))"));
    }
    return conn_->Exec("COMMIT");
  }

 private:
  Status InsertSome(const sql::TableSpec& table, const std::vector<sql::Row>& rows, size_t first,
                    size_t n) {
    std::string cols;
    for (const auto& c : table.columns) cols += (cols.empty() ? "" : ", ") + std::string(c.name);
    std::string sql = "INSERT INTO " + std::string(table.name) + " (" + cols + ")" +
                      (table.identity ? " OVERRIDING SYSTEM VALUE" : "") + " VALUES ";
    Params p;
    int pos = 0;
    for (size_t r = first; r < first + n; ++r) {
      sql += r == first ? "(" : ", (";
      for (size_t i = 0; i < table.columns.size(); ++i) {
        sql += (i ? ", $" : "$") + std::to_string(++pos);
        Bind(&p, table.columns[i].kind, rows[r][i]);
      }
      sql += ")";
    }
    return conn_->QueryOnce(sql, p).status();
  }

  static void Bind(Params* p, sql::ColumnKind kind, const sql::Cell& cell) {
    if (std::holds_alternative<std::monostate>(cell)) {
      if (kind == sql::ColumnKind::kDouble) {
        p->NullDouble();
      } else {
        p->Null();
      }
      return;
    }
    switch (kind) {
      case sql::ColumnKind::kInt: p->Int(std::get<int64_t>(cell)); break;
      case sql::ColumnKind::kDouble: p->Double(std::get<double>(cell)); break;
      case sql::ColumnKind::kText: p->Text(std::get<std::string>(cell)); break;
      case sql::ColumnKind::kBytes: p->Bytes(std::get<std::string>(cell)); break;
    }
  }

  std::unique_ptr<Conn> conn_;
};

}  // namespace

Result<std::unique_ptr<sql::TableSink>> OpenPostgresTableSink(const std::string& url) {
  CRS_ASSIGN_OR_RETURN(auto conn, Conn::Open(url));
  return std::unique_ptr<sql::TableSink>(new PostgresTableSink(std::move(conn)));
}

}  // namespace crs::store::postgres
