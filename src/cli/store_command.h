// Store administration: `crs migrate` creates or upgrades a store's schema
// without serving it (e.g. before rolling out a new version to every node
// sharing a PostgreSQL database); `crs copy` moves a stopped node's data
// from SQLite into PostgreSQL; `crs reindex` re-derives a stopped node's
// search index and access facts from its stored resources.
#pragma once

#include <string>
#include <vector>

namespace CLI {
class App;
}

namespace crs::cli {

struct MigrateCommandOptions {
  std::string data_dir = "./data";
  std::string store_url = "sqlite:";
};

// Adds `migrate` to `app`, parsing into `options` (which must outlive
// parsing). Returns the subcommand.
CLI::App* RegisterMigrate(CLI::App& app, MigrateCommandOptions* options);

// Exit code: 0 when the schema is current, 1 when it could not be migrated.
int RunMigrate(const MigrateCommandOptions& options);

struct CopyCommandOptions {
  std::string data_dir = "./data";
  std::string from = "sqlite:";
  std::string to;
};

CLI::App* RegisterCopy(CLI::App& app, CopyCommandOptions* options);

// Exit code: 0 when everything was copied, 1 when nothing was (the copy is
// one transaction), 2 for bad usage.
int RunCopy(const CopyCommandOptions& options);

struct ReindexCommandOptions {
  std::string data_dir = "./data";
  std::string store_url = "sqlite:";
  std::vector<std::string> types;  // empty: every type
  int batch_size = 1000;
  bool fulltext = false;  // also (re)build the full-text index
  bool trace_keys = false;  // also (re)build the trace keys
};

CLI::App* RegisterReindex(CLI::App& app, ReindexCommandOptions* options);

// Exit code: 0 when every resource was reindexed, 1 when the run failed or
// was interrupted (batches already committed stay; running it again starts
// over, which is harmless), 2 for bad usage.
int RunReindex(const ReindexCommandOptions& options);

}  // namespace crs::cli
