#include <filesystem>
#include <string_view>

#ifdef CRS_WITH_POSTGRES
#include "store/postgres/postgres_store.h"
#include "store/postgres/table_sink.h"
#endif
#include "store/sql/table_copy.h"
#include "store/sqlite/sqlite_store.h"
#include "store/sqlite/table_source.h"
#include "store/store.h"

namespace crs::store {

namespace {

bool IsPostgres(std::string_view url) {
  return url.starts_with("postgres://") || url.starts_with("postgresql://");
}

// The SQLite file a "sqlite:" URL names.
std::string SqlitePath(const StoreOptions& options) {
  std::string path = options.url.substr(7);
  return path.empty() ? options.data_dir + "/crs.db" : path;
}

}  // namespace

Result<std::unique_ptr<Store>> OpenStore(const StoreOptions& options) {
  std::string_view url = options.url;
  if (url.starts_with("sqlite:")) return sqlite::OpenSqliteStore(SqlitePath(options), options);
  if (IsPostgres(url)) {
#ifdef CRS_WITH_POSTGRES
    return postgres::OpenPostgresStore(options);
#else
    return Status::Invalid("this build has no PostgreSQL backend (configure with "
                           "-DCRS_WITH_POSTGRES=ON)");
#endif
  }
  return Status::Invalid("unknown store URL scheme (expected sqlite: or postgres://)");
}

Result<std::string> MigrateStore(const StoreOptions& options) {
  std::string_view url = options.url;
#ifdef CRS_WITH_POSTGRES
  if (IsPostgres(url)) {
    int from = 0, to = 0;
    CRS_RETURN_IF_ERROR(postgres::MigratePostgres(options.url, &from, &to));
    return "PostgreSQL schema version " + std::to_string(from) + " -> " + std::to_string(to);
  }
#endif
  // SQLite migrates as it opens.
  CRS_ASSIGN_OR_RETURN(auto store, OpenStore(options));
  store.reset();
  return std::string(url.starts_with("sqlite:") ? "SQLite schema is current"
                                                : "schema is current");
}

Status CopyStore(const StoreOptions& from, const StoreOptions& to,
                 const std::function<void(const std::string& table, int64_t rows)>& progress) {
  if (!from.url.starts_with("sqlite:") || !IsPostgres(to.url)) {
    return Status::Invalid("crs copy moves a node from sqlite: to postgres:// only");
  }
#ifdef CRS_WITH_POSTGRES
  std::string path = SqlitePath(from);
  if (!std::filesystem::exists(path)) return Status::NotFound("no SQLite store at " + path);
  {
    // Brings the source's schema up to date (and its audit log into being).
    CRS_ASSIGN_OR_RETURN(auto source_store, OpenStore(from));
  }
  CRS_RETURN_IF_ERROR(MigrateStore(to).status());
  CRS_ASSIGN_OR_RETURN(auto source, sqlite::OpenSqliteTableSource(path));
  CRS_ASSIGN_OR_RETURN(auto sink, postgres::OpenPostgresTableSink(to.url));
  return sql::CopyTables(*source, *sink, progress);
#else
  return Status::Invalid("this build has no PostgreSQL backend (configure with "
                         "-DCRS_WITH_POSTGRES=ON)");
#endif
}

}  // namespace crs::store
