#include "cli/store_command.h"

#include <CLI/CLI.hpp>
#include <cstdio>

#include "store/store.h"

namespace crs::cli {

CLI::App* RegisterMigrate(CLI::App& app, MigrateCommandOptions* o) {
  CLI::App* m = app.add_subcommand(
      "migrate", "Create or upgrade a store's schema to this version of crs, then exit");
  m->add_option("--store", o->store_url,
                "Store URL: sqlite: (file in the data dir), sqlite:PATH, "
                "postgres://user@host:port/db")
      ->capture_default_str();
  m->add_option("--data", o->data_dir, "Data directory (for sqlite:)")->capture_default_str();
  return m;
}

int RunMigrate(const MigrateCommandOptions& o) {
  store::StoreOptions so;
  so.url = o.store_url;
  so.data_dir = o.data_dir;
  so.pool_size = 1;
  auto report = store::MigrateStore(so);
  if (!report.ok()) {
    std::fprintf(stderr, "crs migrate: %s\n", report.status().message().c_str());
    return 1;
  }
  std::printf("%s\n", report->c_str());
  return 0;
}

}  // namespace crs::cli
