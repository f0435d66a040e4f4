#include "cli/import_command.h"

#include <signal.h>
#include <unistd.h>

#include <CLI/CLI.hpp>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <ctime>
#include <filesystem>
#include <mutex>
#include <optional>

#include "access/jwt.h"
#include "access/keys.h"
#include "cli/node.h"
#include "core/ids.h"
#include "core/time.h"
#include "http/client.h"
#include "import/importer.h"
#include "import/remote.h"

namespace crs::cli {
namespace {

std::atomic<bool> g_stop{false};

void OnStopSignal(int) { g_stop.store(true); }

// Ctrl-C and SIGTERM finish the batches in hand and leave the rest for the
// next run; a second Ctrl-C kills at once (SA_RESETHAND), which the
// checkpoint survives too.
void CatchStopSignals() {
  struct sigaction sa = {};
  sa.sa_handler = OnStopSignal;
  sa.sa_flags = SA_RESETHAND;
  sigemptyset(&sa.sa_mask);
  sigaction(SIGINT, &sa, nullptr);
  sigaction(SIGTERM, &sa, nullptr);
}

std::string Grouped(int64_t n) {
  std::string digits = std::to_string(n), out;
  for (size_t i = 0; i < digits.size(); ++i) {
    if (i > 0 && (digits.size() - i) % 3 == 0) out += ',';
    out += digits[i];
  }
  return out;
}

std::string Duration(double seconds) {
  int64_t s = static_cast<int64_t>(seconds + 0.5);
  char buf[32];
  if (s >= 3600) {
    std::snprintf(buf, sizeof(buf), "%lldh%02lldm", static_cast<long long>(s / 3600),
                  static_cast<long long>(s / 60 % 60));
  } else if (s >= 60) {
    std::snprintf(buf, sizeof(buf), "%lldm%02llds", static_cast<long long>(s / 60),
                  static_cast<long long>(s % 60));
  } else {
    std::snprintf(buf, sizeof(buf), "%llds", static_cast<long long>(s));
  }
  return buf;
}

std::string LocalStamp(const char* format) {
  std::time_t now = std::time(nullptr);
  std::tm tm = {};
  localtime_r(&now, &tm);
  char buf[64];
  std::strftime(buf, sizeof(buf), format, &tm);
  return buf;
}

// Shows progress on stderr (a redrawn line on a terminal, a line every ten
// seconds otherwise) and writes rejections to stderr and the report file.
// Called from the importer's two threads: everything is under mu_.
class ConsoleObserver final : public import::ImportObserver {
 public:
  ConsoleObserver(std::FILE* report) : report_(report), tty_(::isatty(STDERR_FILENO) == 1) {}

  void Rejected(const import::Rejection& r) override {
    std::lock_guard<std::mutex> lock(mu_);
    std::string where = r.file;
    if (r.line > 0) where += ":" + std::to_string(r.line);
    if (r.entry > 0) where += ": entry " + std::to_string(r.entry);
    std::fprintf(report_, "%s: %s\n", where.c_str(), r.reason.c_str());
    ++rejected_;
    if (rejected_ > kMaxShown) return;
    ClearLine();
    std::fprintf(stderr, "rejected %s: %s\n", where.c_str(), r.reason.c_str());
    if (rejected_ == kMaxShown) {
      std::fprintf(stderr, "(further rejections are listed only in the report)\n");
    }
  }

  void Note(const std::string& message) override {
    std::lock_guard<std::mutex> lock(mu_);
    ClearLine();
    std::fprintf(stderr, "crs import: %s\n", message.c_str());
  }

  void Committed(const import::ImportProgress& p) override {
    std::lock_guard<std::mutex> lock(mu_);
    if (Due(false)) Show(Line(p, Seconds()));
  }

  void Done() {
    std::lock_guard<std::mutex> lock(mu_);
    ClearLine();
  }

  // The index build at the end (Store::FinishBulkLoad), shown like the
  // import's progress.
  void Indexing(std::string_view table, int64_t done, int64_t total) {
    std::lock_guard<std::mutex> lock(mu_);
    if (!Due(done >= total)) return;
    Show("building the search index: " + std::string(table) + " " + Grouped(done) + " of " +
         Grouped(total) + " rows");
  }

  double Seconds() const {
    return std::chrono::duration<double>(std::chrono::steady_clock::now() - start_).count();
  }

  static std::string Line(const import::ImportProgress& p, double seconds) {
    int64_t handled = p.counts.written + p.counts.unchanged;
    double rate = seconds > 0 ? handled / seconds : 0;
    double patient_rate = seconds > 0 ? p.counts.patients / seconds : 0;
    std::string line = Grouped(handled) + " resources (" + Grouped(p.counts.patients) +
                       " patients) · " + Grouped(static_cast<int64_t>(rate)) + "/s (" +
                       Grouped(static_cast<int64_t>(patient_rate)) + " patients/s)";
    if (p.counts.rejected > 0) line += " · " + Grouped(p.counts.rejected) + " rejected";
    if (p.bytes_total > 0) {
      line += " · " + std::to_string(p.bytes_done * 100 / p.bytes_total) + "%";
      uint64_t run_bytes = p.bytes_done - p.bytes_before;
      if (run_bytes > 0 && seconds > 1) {
        double eta = (p.bytes_total - p.bytes_done) * seconds / run_bytes;
        line += " · ETA " + Duration(eta);
      }
    }
    return line;
  }

 private:
  static constexpr int64_t kMaxShown = 100;

  // Whether a progress line is due (five a second on a terminal, one every
  // ten seconds otherwise; `always` for a last one). Under mu_.
  bool Due(bool always) {
    auto now = std::chrono::steady_clock::now();
    auto every = tty_ ? std::chrono::milliseconds(200) : std::chrono::milliseconds(10000);
    if (!always && now - last_ < every) return false;
    last_ = now;
    return true;
  }
  // Redraws the progress line on a terminal, prints it otherwise. Under mu_.
  void Show(const std::string& line) {
    if (tty_) {
      std::fprintf(stderr, "\r\033[K%s", line.c_str());
      shown_ = true;
    } else {
      std::fprintf(stderr, "%s\n", line.c_str());
    }
    std::fflush(stderr);
  }
  void ClearLine() {
    if (shown_) std::fprintf(stderr, "\r\033[K");
    shown_ = false;
  }

  std::FILE* report_;
  const bool tty_;
  const std::chrono::steady_clock::time_point start_ = std::chrono::steady_clock::now();
  std::mutex mu_;                               // a leaf
  std::chrono::steady_clock::time_point last_;  // GUARDED_BY(mu_)
  bool shown_ = false;                          // GUARDED_BY(mu_): a progress line is on screen
  int64_t rejected_ = 0;                        // GUARDED_BY(mu_)
};

}  // namespace

CLI::App* RegisterImport(CLI::App& app, ImportCommandOptions* o) {
  CLI::App* i = app.add_subcommand(
      "import",
      "Bulk-load FHIR resources (NDJSON files, Bundles, or folders of them) into a stopped node,\n"
      "or with --server into a running one through its FHIR API.\n"
      "Each resource is stored as a PUT of it would store it (its id kept); bad lines are\n"
      "reported and skipped. Interrupted imports continue where they stopped when run again.\n"
      "Into a stopped SQLite node, most search-index rows are set aside and merged into the\n"
      "index at the end (\"building the search index\"); a node started before that merges\n"
      "them first.\n"
      "Exit codes: 0 everything loaded, 1 some lines rejected (see the report) or the import\n"
      "failed or was interrupted, 2 bad usage.");
  i->add_option("PATH", o->paths,
                "NDJSON files (.ndjson, one resource per line), JSON files "
                "(.json: a Bundle or one resource), or folders of them")
      ->required();
  i->add_option("--data", o->data_dir, "Data directory of the node (it must not be running)")
      ->capture_default_str();
  i->add_option("--store", o->store_url,
                "Store URL: sqlite: (the data dir's file), sqlite:PATH or postgres://...")
      ->capture_default_str();
  i->add_flag("--fulltext", o->fulltext,
              "The node keeps a full-text index (crs serve --fulltext): index the imported "
              "resources' text too. Without it a node's full-text index is marked incomplete");
  i->add_flag("--trace-keys", o->trace_keys,
              "The node keeps trace keys (crs serve --trace-keys): write them for the imported "
              "Patients (stopped node only). Without it a node's keys are marked incomplete");
  i->add_option("--org", o->org,
                "ODS code of the organisation the data comes from (author of the resources, "
                "and the audit records' organisation)")
      ->capture_default_str();
  i->add_option("--report", o->report,
                "File listing rejected lines (default: DIR/import-report-<time>.txt)");
  i->add_option("--batch-size", o->batch_size,
                "Resources per transaction (default 20,000, or 64 MB of JSON; with --server "
                "500 per request)")
      ->check(CLI::Range(1, 100000));
  i->add_option("--batch-bytes", o->batch_bytes,
                "Close a transaction once its resources hold this many bytes of JSON "
                "(default 64 MB; local imports)")
      ->check(CLI::Range(int64_t{1}, int64_t{1} << 34));
  i->add_flag("--restart", o->restart,
              "Start over instead of continuing an interrupted import (already stored "
              "resources are not written again)");
  i->add_option("--consent-model", o->consent_model,
                "Summary Care Record documents: implied (kept unless the patient dissented) or "
                "explicit (kept only with the patient's consent); as crs serve --consent-model")
      ->check(CLI::IsMember({"implied", "explicit"}))
      ->capture_default_str();
  i->add_option("--sensitive-codes", o->sensitive_codes,
                "Summary Care Record documents: SNOMED CT codes whose items are left out "
                "(default: the list shipped with crs); as crs serve --sensitive-codes");
  i->add_option("--server", o->server,
                "Import into this running node through its FHIR API instead "
                "(http://host:port or http://host:port/fhir): as transactions of PUTs, "
                "each write validated, access-checked and audited by the node, which applies "
                "its own consent model and sensitive codes")
      ->envname("CRS_SERVER");
  i->add_option("--token", o->token,
                "With --server: the bearer token to send (a backend-service token, role system; "
                "default: one minted with the node key in --data DIR, as crs token does)")
      ->envname("CRS_TOKEN");
  i->add_option("--stop-after", o->stop_after, "Tests: exit abruptly after N batches")
      ->group("");  // hidden
  return i;
}

namespace {

// The bearer token of a remote import: --token as given, or a
// backend-service token minted with the node key in the data dir, renewed
// five minutes before it expires.
class TokenSource {
 public:
  TokenSource(const ImportCommandOptions& o) : o_(o) {}

  Status Init() {
    if (!o_.token.empty()) return Status::Ok();
    if (!std::filesystem::exists(std::filesystem::path(o_.data_dir) / "keys" / "node-es256.pem")) {
      return Status::Invalid("--server needs --token, or --data naming the node's data directory "
                             "(its key signs a token)");
    }
    auto key = access::LoadOrCreateNodeKey(o_.data_dir);
    if (!key.ok()) return key.status();
    key_ = std::move(*key);
    return Status::Ok();
  }

  Result<std::string> Get() {
    if (!o_.token.empty()) return o_.token;
    int64_t now = SystemClock::Get().NowMs() / 1000;
    if (token_.empty() || now + 300 >= expires_) {
      access::TokenClaims claims;
      claims.user = "crs-import";
      claims.name = "crs import";
      claims.role = "system";
      claims.org = o_.org;
      claims.scopes = {"system/*.cruds"};
      claims.ttl_seconds = 3600;
      CRS_ASSIGN_OR_RETURN(token_, access::MintToken(*key_, claims, now));
      expires_ = now + claims.ttl_seconds;
    }
    return token_;
  }

 private:
  const ImportCommandOptions& o_;
  std::optional<access::NodeKey> key_;
  std::string token_;
  int64_t expires_ = 0;
};

// Ends the run: prints and reports the outcome; returns the exit code.
int Finish(const Result<import::ImportSummary>& summary, ConsoleObserver& observer,
           std::FILE* report, const std::string& report_path) {
  observer.Done();
  double seconds = observer.Seconds();
  if (!summary.ok()) {
    std::fprintf(stderr, "crs import: %s\n", summary.status().message().c_str());
    std::fprintf(report, "failed: %s\n", summary.status().message().c_str());
    std::fclose(report);
    return 1;
  }
  const import::ImportCounts& c = summary->progress.counts;
  std::string line =
      "imported " + Grouped(c.written) + " resources (" + Grouped(c.patients) + " patients) in " +
      Duration(seconds) + ": " +
      Grouped(static_cast<int64_t>(seconds > 0 ? c.written / seconds : 0)) + " resources/s, " +
      Grouped(static_cast<int64_t>(seconds > 0 ? c.patients / seconds : 0)) + " patients/s; " +
      Grouped(c.unchanged) + " already stored; " + Grouped(c.rejected) + " rejected";
  if (summary->rejected_earlier > 0) {
    line += " (+" + Grouped(summary->rejected_earlier) + " by earlier runs)";
  }
  std::printf("%s\n", line.c_str());
  std::fprintf(report, "%s\n", line.c_str());
  std::fclose(report);
  int64_t rejected = c.rejected + summary->rejected_earlier;
  if (rejected > 0) std::printf("rejected lines are listed in %s\n", report_path.c_str());
  if (summary->interrupted) {
    std::printf("interrupted: run the same command again to continue\n");
    return 1;
  }
  return rejected > 0 ? 1 : 0;
}

}  // namespace

int RunImport(const ImportCommandOptions& o) {
  auto files = import::ListInputs(o.paths);
  if (!files.ok()) {
    std::fprintf(stderr, "crs import: %s\n", files.status().message().c_str());
    return 2;
  }
  bool remote = !o.server.empty();
  access::SensitiveCodes sensitive = access::SensitiveCodes::Default();
  if (!o.sensitive_codes.empty() && !remote) {
    auto codes = access::SensitiveCodes::Load(o.sensitive_codes);
    if (!codes.ok()) {
      std::fprintf(stderr, "crs import: --sensitive-codes: %s\n", codes.status().message().c_str());
      return 2;
    }
    sensitive = std::move(*codes);
  }
  std::optional<DataDirLock> lock;
  std::unique_ptr<store::Store> store;
  std::unique_ptr<http::Client> client;
  TokenSource tokens(o);
  // Where the checkpoint and report go: the data dir, or for a remote
  // import without one, the current directory.
  std::string dir = o.data_dir;
  if (remote) {
    std::string base = o.server;
    while (!base.empty() && base.back() == '/') base.pop_back();
    if (!base.ends_with("/fhir")) base += "/fhir";
    auto c = http::Client::Create(base);
    if (!c.ok()) {
      std::fprintf(stderr, "crs import: --server: %s\n", c.status().message().c_str());
      return 2;
    }
    client = std::move(*c);
    if (Status st = tokens.Init(); !st.ok()) {
      std::fprintf(stderr, "crs import: %s\n", st.message().c_str());
      return 2;
    }
    if (!std::filesystem::is_directory(dir)) dir = ".";
  } else {
    auto held = DataDirLock::Acquire(o.data_dir, "import");
    if (!held.ok()) {
      std::fprintf(stderr,
                   "crs import: %s; stop the node first, or import through its API with "
                   "--server URL\n",
                   held.status().message().c_str());
      return 1;
    }
    lock.emplace(std::move(*held));
    auto opened = OpenNodeStore(o.data_dir, o.store_url, 16, {}, 5000,
                                o.fulltext ? store::FullTextMode::kOn : store::FullTextMode::kOff,
                                /*bulk_load=*/true, /*defer_index=*/true,
                                o.trace_keys ? store::TraceKeysMode::kOn
                                             : store::TraceKeysMode::kOff);
    if (!opened.ok()) {
      std::fprintf(stderr, "crs import: %s\n", opened.status().message().c_str());
      return 1;
    }
    store = std::move(*opened);
  }
  std::string report_path =
      o.report.empty()
          ? (std::filesystem::path(dir) / ("import-report-" + LocalStamp("%Y%m%d-%H%M%S") + ".txt"))
                .string()
          : o.report;
  std::FILE* report = std::fopen(report_path.c_str(), "w");
  if (report == nullptr) {
    std::fprintf(stderr, "crs import: cannot write the report %s\n", report_path.c_str());
    return 1;
  }
  std::fprintf(report, "crs import report, %s\n", LocalStamp("%Y-%m-%d %H:%M:%S %z").c_str());
  if (remote) std::fprintf(report, "into: %s\n", client->base_url().c_str());
  for (const auto& f : *files) std::fprintf(report, "input: %s\n", f.path.c_str());
  std::fprintf(report, "rejected lines (file:line[: entry N]: reason):\n");
  // A remote import keeps its own checkpoint: the node's data may have
  // been loaded locally before.
  std::string checkpoint_path =
      (std::filesystem::path(dir) / (remote ? "import-checkpoint-remote.txt" : "import-checkpoint.txt"))
          .string();
  if (o.restart) std::filesystem::remove(checkpoint_path);
  CatchStopSignals();
  ConsoleObserver observer(report);

  if (remote) {
    import::RemoteOptions ro;
    ro.files = *files;
    if (o.batch_size > 0) ro.batch_size = o.batch_size;
    ro.checkpoint_path = checkpoint_path;
    ro.run_id = "import-" + NewId();
    ro.token = [&tokens] { return tokens.Get(); };
    auto summary = import::ImportRemote(*client, ro, observer, &g_stop);
    return Finish(summary, observer, report, report_path);
  }
  import::ImportOptions io;
  io.files = *files;
  io.author_org = o.org;
  if (o.batch_size > 0) io.batch_size = o.batch_size;
  if (o.batch_bytes > 0) io.batch_bytes = static_cast<size_t>(o.batch_bytes);
  io.sensitive_codes = std::move(sensitive);
  io.consent_model = o.consent_model == "explicit" ? access::ConsentModel::kExplicit
                                                   : access::ConsentModel::kImplied;
  io.checkpoint_path = checkpoint_path;
  io.run_id = "import-" + std::to_string(SystemClock::Get().NowMs());
  if (o.stop_after > 0) {
    io.after_commit = [n = o.stop_after](int64_t batch) {
      if (batch < n) return;
      std::fprintf(stderr, "crs import: stopping abruptly after batch %lld (--stop-after)\n",
                   static_cast<long long>(batch));
      std::_Exit(1);
    };
  }
  auto summary = import::Import(*store, SystemClock::Get(), io, observer, &g_stop);
  // The index rows the import deferred go into the index now, unless the
  // import stopped early: the run that completes it (or the node, when it
  // starts) builds them then. The time counts in the import's rate.
  if (summary.ok() && !summary->interrupted) {
    Status built = store->FinishBulkLoad([&](std::string_view table, int64_t done, int64_t total) {
      observer.Indexing(table, done, total);
    });
    if (!built.ok()) summary = Status(built.code(), "building the search index: " + built.message());
  }
  return Finish(summary, observer, report, report_path);
}

}  // namespace crs::cli
