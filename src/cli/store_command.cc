#include "cli/store_command.h"

#include <CLI/CLI.hpp>
#include <cstdio>

#include "cli/node.h"
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

CLI::App* RegisterCopy(CLI::App& app, CopyCommandOptions* o) {
  CLI::App* c = app.add_subcommand(
      "copy", "Copy a stopped node's data (resources, history, search index, consent, "
              "audit log) from SQLite into an empty PostgreSQL database");
  c->add_option("--data", o->data_dir, "The node's data directory")->capture_default_str();
  c->add_option("--from", o->from, "Source store: sqlite: (the data dir's file) or sqlite:PATH")
      ->capture_default_str();
  c->add_option("--to", o->to, "Destination: postgres://user@host:port/db (an empty database)")
      ->required();
  return c;
}

int RunCopy(const CopyCommandOptions& o) {
  // The node must not run meanwhile: hold its data directory.
  auto lock = DataDirLock::Acquire(o.data_dir, "copy");
  if (!lock.ok()) {
    std::fprintf(stderr, "crs copy: %s\n", lock.status().message().c_str());
    return 1;
  }
  store::StoreOptions from, to;
  from.url = o.from;
  from.data_dir = o.data_dir;
  to.url = o.to;
  to.data_dir = o.data_dir;
  to.pool_size = 1;
  Status st = store::CopyStore(from, to, [](const std::string& table, int64_t rows) {
    std::printf("%-16s %lld rows\n", table.c_str(), static_cast<long long>(rows));
    std::fflush(stdout);
  });
  if (!st.ok()) {
    std::fprintf(stderr, "crs copy: %s\n", st.message().c_str());
    return st.code() == Code::kInvalid ? 2 : 1;
  }
  std::printf("copied; check with: crs audit verify --data %s --store <the --to URL>\n",
              o.data_dir.c_str());
  return 0;
}

}  // namespace crs::cli
