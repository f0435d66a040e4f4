#include "cli/audit_command.h"

#include <CLI/CLI.hpp>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <thread>
#include <vector>

#include "audit/record.h"
#include "audit/signing.h"
#include "audit/verify.h"
#include "core/time.h"
#include "store/store.h"

namespace crs::cli {
namespace {

bool StoreExists(const AuditCommandOptions& o) {
  if (o.store_url != "sqlite:") return true;  // let the store say
  return std::filesystem::exists(std::filesystem::path(o.data_dir) / "crs.db");
}

int RunVerify(const AuditCommandOptions& o) {
  if (!StoreExists(o)) {
    std::fprintf(stderr, "crs audit verify: no store in %s\n", o.data_dir.c_str());
    return 1;
  }
  audit::VerifyOptions vo;
  vo.max_uncovered = o.max_uncovered;
  auto keys = audit::LoadAuditPublicKeys(o.data_dir);
  if (keys.ok()) {
    vo.public_keys = *keys;
  } else {
    std::fprintf(stderr, "crs audit verify: %s: no checkpoint can be trusted\n",
                 keys.status().message().c_str());
  }
  store::StoreOptions so;
  so.url = o.store_url;
  so.data_dir = o.data_dir;
  so.audit_index_owner = false;  // the node may be running: its index is its own
  auto store = store::OpenStore(so);
  if (!store.ok()) {
    std::fprintf(stderr, "crs audit verify: cannot open the store: %s\n",
                 store.status().message().c_str());
    return 1;
  }
  auto report = audit::VerifyAuditLog(**store, vo);
  if (!report.ok()) {
    std::fprintf(stderr, "crs audit verify: cannot read the audit log: %s\n",
                 report.status().message().c_str());
    return 1;
  }
  const audit::VerifyReport& r = *report;
  std::printf("records checked:     %lld (seq 1..%lld)\n", static_cast<long long>(r.records),
              static_cast<long long>(r.last_seq));
  std::printf("checkpoints checked: %lld (last at seq %lld)\n",
              static_cast<long long>(r.checkpoints),
              static_cast<long long>(r.last_checkpoint_seq));
  std::printf("after last checkpoint: %lld records (chain only, no signature yet)\n",
              static_cast<long long>(r.uncovered));
  std::printf("rate:                %.0f records/s (%.3f s)\n", r.RecordsPerSecond(), r.seconds);
  if (!r.intact) {
    std::printf("BROKEN at record %lld: %s\n", static_cast<long long>(r.first_bad_seq),
                r.reason.c_str());
    return 1;
  }
  std::printf("audit log intact\n");
  return 0;
}

// Appends o.records synthetic records from o.threads threads, o.per_call
// records per AppendAudit call, and reports the rate.
int RunBench(const AuditCommandOptions& o) {
  auto key = audit::SigningKey::LoadOrCreate(o.data_dir);
  if (!key.ok()) {
    std::fprintf(stderr, "crs audit bench: %s\n", key.status().message().c_str());
    return 1;
  }
  store::StoreOptions so;
  so.url = o.store_url;
  so.data_dir = o.data_dir;
  so.audit_sign = [k = *key](std::string_view m) { return k->Sign(m); };
  so.audit_key_id = (*key)->key_id();
  auto store = store::OpenStore(so);
  if (!store.ok()) {
    std::fprintf(stderr, "crs audit bench: %s\n", store.status().message().c_str());
    return 1;
  }
  std::atomic<int64_t> next{0}, acked{0}, failed{0};
  auto start = std::chrono::steady_clock::now();
  std::vector<std::thread> threads;
  int per_call = std::max(1, o.per_call);
  for (int t = 0; t < std::max(1, o.threads); ++t) {
    threads.emplace_back([&, t] {
      std::atomic<int> inflight{0};
      while (true) {
        int64_t first = next.fetch_add(per_call);
        if (first >= o.records) break;
        int64_t n = std::min<int64_t>(per_call, o.records - first);
        std::vector<store::AuditInput> batch;
        for (int64_t i = first; i < first + n; ++i) {
          audit::AuditRecord r;
          r.time_ms = SystemClock::Get().NowMs();
          r.request_id = "bench-" + std::to_string(i);
          r.user = "user" + std::to_string(t);
          r.role = "R8000";
          r.org = "A81001";
          r.purpose = "TREAT";
          r.action = "read";
          r.method = "GET";
          r.resource_type = "Patient";
          r.id = std::to_string(9990000000 + i % 100000);
          r.status = 200;
          r.patients = {r.id};
          r.resources = {"Patient/" + r.id + "/_history/1"};
          batch.push_back(audit::ToAuditInput(r));
        }
        // Like a server with bounded concurrency: a few thousand requests in flight.
        while (inflight.load() > 512) std::this_thread::sleep_for(std::chrono::microseconds(50));
        ++inflight;
        (*store)->AppendAudit(std::move(batch), [&, n](Status st) {
          (st.ok() ? acked : failed) += n;
          --inflight;
        });
      }
      while (inflight.load() > 0) std::this_thread::sleep_for(std::chrono::microseconds(100));
    });
  }
  for (auto& th : threads) th.join();
  double seconds =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  std::printf("appended %lld records (%lld failed) from %d threads, %d per call, in %.3f s: "
              "%.0f records/s\n",
              static_cast<long long>(acked.load()), static_cast<long long>(failed.load()),
              o.threads, per_call, seconds, acked.load() / seconds);
  return failed.load() == 0 ? 0 : 1;
}

}  // namespace

CLI::App* RegisterAudit(CLI::App& app, AuditCommandOptions* options) {
  CLI::App* a = app.add_subcommand("audit", "Work with the audit log");
  a->require_subcommand(1);
  CLI::App* v = a->add_subcommand(
      "verify", "Check the audit hash chain and checkpoint signatures; exit 0 only if intact");
  v->add_option("--data", options->data_dir, "Data directory")->capture_default_str();
  v->add_option("--store", options->store_url,
                "Store URL: sqlite: (the data dir's file), sqlite:PATH or postgres://...")
      ->capture_default_str();
  v->add_option("--max-uncovered", options->max_uncovered,
                "Fail when more records than this follow the last signed checkpoint");
  v->parse_complete_callback([options] { options->command = "verify"; });
  CLI::App* b = a->add_subcommand("bench", "Append synthetic audit records and report the rate");
  b->group("");  // hidden: a benchmarking aid
  b->add_option("--data", options->data_dir, "Data directory")->required();
  b->add_option("--store", options->store_url, "Store URL")->capture_default_str();
  b->add_option("--records", options->records, "Records to append")->capture_default_str();
  b->add_option("--threads", options->threads, "Appending threads")->capture_default_str();
  b->add_option("--per-call", options->per_call, "Records per AppendAudit call")
      ->capture_default_str();
  b->parse_complete_callback([options] { options->command = "bench"; });
  return a;
}

int RunAudit(const AuditCommandOptions& options) {
  if (options.command == "verify") return RunVerify(options);
  if (options.command == "bench") return RunBench(options);
  return 2;
}

}  // namespace crs::cli
