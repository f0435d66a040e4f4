#include "cli/store_command.h"

#include <signal.h>

#include <CLI/CLI.hpp>
#include <atomic>
#include <chrono>
#include <cstdio>

#include "cli/node.h"
#include "core/ids.h"
#include "core/time.h"
#include "fhir/model.h"
#include "import/reindex.h"
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

namespace {

std::atomic<bool> g_reindex_stop{false};

void OnReindexStop(int) { g_reindex_stop.store(true); }

}  // namespace

CLI::App* RegisterReindex(CLI::App& app, ReindexCommandOptions* o) {
  CLI::App* r = app.add_subcommand(
      "reindex",
      "Re-derive the search index, access facts and legitimate relationships of a stopped\n"
      "node's current resources from their stored bodies (after an upgrade that changed\n"
      "how they are extracted; docs/search-index.md). Versions are not touched. Ctrl-C\n"
      "stops after the batch in hand.");
  r->add_option("--data", o->data_dir, "Data directory of the node (it must not be running)")
      ->capture_default_str();
  r->add_option("--store", o->store_url,
                "Store URL: sqlite: (the data dir's file), sqlite:PATH or postgres://...")
      ->capture_default_str();
  r->add_option("--type", o->types, "Only resources of this type (repeatable; default: all)");
  r->add_flag("--fulltext", o->fulltext,
              "Also build the full-text index (_text, _content) that `crs serve --fulltext` "
              "keeps; a run over every type marks it complete. Without it the index is dropped "
              "from the resources reindexed and marked incomplete");
  r->add_flag("--trace-keys", o->trace_keys,
              "Also write the trace keys that `crs serve --trace-keys` keeps; a run over "
              "Patients marks them complete. Without it they are marked incomplete");
  r->add_option("--batch-size", o->batch_size, "Resources per transaction")
      ->check(CLI::Range(1, 100000))
      ->capture_default_str();
  return r;
}

int RunReindex(const ReindexCommandOptions& o) {
  for (const auto& t : o.types) {
    if (!fhir::Model::R4().IsResourceType(t) || t == "Resource" || t == "DomainResource") {
      std::fprintf(stderr, "crs reindex: --type %s is not an R4 resource type\n", t.c_str());
      return 2;
    }
  }
  auto lock = DataDirLock::Acquire(o.data_dir, "reindex");
  if (!lock.ok()) {
    std::fprintf(stderr, "crs reindex: %s\n", lock.status().message().c_str());
    return 1;
  }
  auto store = OpenNodeStore(o.data_dir, o.store_url, /*pool_size=*/2, {}, 5000,
                             o.fulltext ? store::FullTextMode::kRebuild : store::FullTextMode::kOff,
                             /*bulk_load=*/true, /*defer_index=*/false,
                             o.trace_keys ? store::TraceKeysMode::kOn
                                          : store::TraceKeysMode::kOff);
  if (!store.ok()) {
    std::fprintf(stderr, "crs reindex: %s\n", store.status().message().c_str());
    return 1;
  }
  struct sigaction sa = {};
  sa.sa_handler = OnReindexStop;
  sa.sa_flags = SA_RESETHAND;  // a second Ctrl-C kills at once
  sigemptyset(&sa.sa_mask);
  sigaction(SIGINT, &sa, nullptr);
  sigaction(SIGTERM, &sa, nullptr);

  import::ReindexOptions options;
  options.types = o.types;
  options.batch_size = o.batch_size;
  options.run_id = "reindex-" + NewId();
  auto start = std::chrono::steady_clock::now();
  auto seconds = [&] {
    return std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  };
  auto last_shown = start;
  auto result = import::Reindex(
      **store, SystemClock::Get(), options,
      [&](const import::ReindexProgress& p) {
        auto now = std::chrono::steady_clock::now();
        if (now - last_shown < std::chrono::seconds(10)) return;
        last_shown = now;
        std::fprintf(stderr, "%lld resources (%.0f/s)\n", static_cast<long long>(p.resources),
                     p.resources / seconds());
      },
      &g_reindex_stop);
  if (!result.ok()) {
    std::fprintf(stderr, "crs reindex: %s\n", result.status().message().c_str());
    return 1;
  }
  std::printf("reindexed %lld resources in %lld batches, %.1f s (%lld without index rows)\n",
              static_cast<long long>(result->resources), static_cast<long long>(result->batches),
              seconds(), static_cast<long long>(result->unindexed));
  if (g_reindex_stop.load()) {
    std::fprintf(stderr, "crs reindex: interrupted; run it again (it starts over)\n");
    return 1;
  }
  return 0;
}

}  // namespace crs::cli
