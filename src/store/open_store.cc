#include <string_view>

#ifdef CRS_WITH_POSTGRES
#include "store/postgres/postgres_store.h"
#endif
#include "store/sqlite/sqlite_store.h"
#include "store/store.h"

namespace crs::store {

Result<std::unique_ptr<Store>> OpenStore(const StoreOptions& options) {
  std::string_view url = options.url;
  if (url.starts_with("sqlite:")) {
    std::string path(url.substr(7));
    if (path.empty()) path = options.data_dir + "/crs.db";
    return sqlite::OpenSqliteStore(path, options);
  }
  if (url.starts_with("postgres://") || url.starts_with("postgresql://")) {
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
  if (url.starts_with("postgres://") || url.starts_with("postgresql://")) {
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

}  // namespace crs::store
