#include "cli/cli.h"

#include <CLI/CLI.hpp>
#include <iostream>

#include "cli/audit_command.h"
#include "cli/federation_command.h"
#include "cli/gen_command.h"
#include "cli/import_command.h"
#include "cli/serve.h"
#include "cli/store_command.h"
#include "cli/token_command.h"
#include "spdlog/sinks/stdout_color_sinks.h"
#include "spdlog/spdlog.h"

namespace crs::cli {

int Main(int argc, char** argv) {
  // Logs go to stderr; stdout carries command output (the listen line, tokens).
  spdlog::set_default_logger(spdlog::stderr_color_mt("crs"));
  CLI::App app{"OpenCRS: an open Care Records Service (HL7 FHIR R4)", "crs"};
  app.require_subcommand(1);
  app.set_version_flag("--version", "crs 0.1.0");

  ServeOptions serve;
  std::string config;
  CLI::App* s = app.add_subcommand("serve", "Run a node: serve FHIR R4 at /fhir until SIGINT/SIGTERM");
  s->add_option("--config", config, "TOML file with the same options (flags override it)");
  s->add_option("--data", serve.data_dir, "Data directory (created if missing)")
      ->capture_default_str();
  s->add_option("--listen", serve.listen, "HOST:PORT to listen on (port 0 picks a free port)")
      ->capture_default_str();
  s->add_option("--store", serve.store_url,
                "Store URL: sqlite: (file in the data dir), sqlite:PATH, or "
                "postgres://user@host:port/db (builds with PostgreSQL)")
      ->capture_default_str();
  s->add_option("--replica", serve.replicas,
                "PostgreSQL hot standby answering reads and searches (repeatable): "
                "postgres://user@host:port/db");
  s->add_option("--replica-max-lag", serve.replica_max_lag_ms,
                "PostgreSQL: milliseconds a replica may lag and still answer reads; a read "
                "needs every write acknowledged longer ago (and the caller's own), or the "
                "primary answers it")
      ->check(CLI::Range(0, 3600000))
      ->capture_default_str();
  s->add_flag("--fulltext", serve.fulltext,
              "Keep a full-text index so that searches take _text and _content (costs write "
              "throughput and disk). An existing store needs `crs reindex --fulltext` first");
  s->add_flag("--trace-keys", serve.trace_keys,
              "Keep trace keys, so that a patient trace seeks the day's namesakes instead of "
              "reading everyone born that day (for a national demographics node: costs about a "
              "third of Patient-create throughput). A store holding Patients written without "
              "them needs `crs reindex --trace-keys` before traces use them");
  s->add_option("--store-pool", serve.store_pool,
                "PostgreSQL: the most reader connections open at once")
      ->check(CLI::Range(1, 1000))
      ->capture_default_str();
  s->add_option("--role", serve.role,
                "Node role: national (demographics, summaries, pointers) or local (a "
                "practice's or hospital's detailed records)")
      ->check(CLI::IsMember({"national", "local"}))
      ->capture_default_str();
  s->add_option("--org", serve.org, "Local nodes: the ODS code of the organisation served");
  s->add_option("--national", serve.national_url,
                "Local nodes: the national node's FHIR base URL (pointers are published there)");
  s->add_option("--national-jwks", serve.national_jwks,
                "Local nodes: the national node's public keys (crs node jwks), whose users' "
                "tokens this node trusts");
  s->add_flag("--upload-summaries", serve.upload_summaries,
              "Local GP nodes: upload each patient's Summary Care Record to the national node "
              "when their allergies or medication change (nothing under dissent)");
  s->add_option("--fanout-timeout", serve.fanout_timeout_ms,
                "National node: milliseconds each holder has to answer a federated "
                "$everything (_federated=true) before it is reported unavailable")
      ->check(CLI::Range(1, 600000))
      ->capture_default_str();
  s->add_option("--consent-ttl", serve.consent_ttl_s,
                "Linked local nodes: seconds a patient's consent state fetched from the "
                "national node is reused before it is checked again")
      ->check(CLI::Range(0, 86400))
      ->capture_default_str();
  s->add_option("--transfer-timeout", serve.transfer_timeout_s,
                "Linked GP nodes: seconds a GP2GP record transfer may take before it fails "
                "(new practice: since it was requested; old practice: since its last activity)")
      ->check(CLI::Range(1, 604800))
      ->capture_default_str();
  // Hidden: tests and benchmarks choose the chunk size of the records this
  // node releases.
  s->add_option("--transfer-chunk", serve.transfer_chunk, "Records per GP2GP chunk")
      ->check(CLI::Range(1, 10000))
      ->group("");
  s->add_option("--base-url", serve.base_url,
                "Public FHIR base URL for links (default: from the Host header)");
  s->add_option("--max-body", serve.max_body_bytes, "Largest request body accepted, in bytes")
      ->capture_default_str();
  s->add_option("--io-threads", serve.io_threads,
                "Threads doing network I/O, reads and plain creates (which do not wait for "
                "their commit)")
      ->check(CLI::Range(1, 64))
      ->capture_default_str();
  s->add_option("--worker-threads", serve.worker_threads,
                "Threads running requests that wait on storage (writes other than plain "
                "creates, bundles, POST searches)")
      ->check(CLI::Range(1, 1024))
      ->capture_default_str();
  s->add_flag("--demo", serve.demo,
              "Load the demo data set when the store is empty, print demo users' tokens and "
              "let the web UI sign in as them");
  s->add_option("--ui", serve.ui_dir,
                "Directory of the built web UI, served at / (make ui builds it; empty: no UI)")
      ->capture_default_str();
  s->add_option("--audience", serve.audience, "The 'aud' every bearer token must carry")
      ->capture_default_str();
  s->add_option("--jwks", serve.jwks_file,
                "JWKS file of an external identity provider whose tokens are trusted");
  s->add_option("--jwks-issuer", serve.jwks_issuer, "The 'iss' of tokens signed by --jwks keys");
  s->add_flag("--benchmark-baseline-without-access-control", serve.benchmark_baseline,
              "Benchmarks only: no tokens, access control or audit (loopback only)")
      ->group("");  // hidden: never for real use
  s->add_flag("--benchmark-baseline-without-search-index", serve.benchmark_without_index,
              "Benchmarks only: writes extract no search-index rows (loopback only; "
              "`crs reindex` afterwards)")
      ->group("");  // hidden: never for real use
  s->add_option("--volume-alert", serve.volume_alert,
                "Alert the privacy officer when one user opens more distinct patients than "
                "this in an hour (0: never)")
      ->check(CLI::Range(0, 1000000))
      ->capture_default_str();
  s->add_option("--nhs-number-range", serve.nhs_number_range,
                "FIRST-LAST: the NHS numbers this node allocates to Patients created "
                "without one")
      ->capture_default_str();
  s->add_option("--sensitive-codes", serve.sensitive_codes,
                "File of SNOMED CT codes (one per line) whose items are never held in a "
                "Summary Care Record (default: the shipped list, docs/summary.md)");
  s->add_option("--consent-model", serve.consent_model,
                "Summary Care Record consent: implied (opt-out) or explicit (opt-in)")
      ->check(CLI::IsMember({"implied", "explicit"}))
      ->capture_default_str();

  GenCommandOptions gen_options;
  CLI::App* g = RegisterGen(app, &gen_options);

  ImportCommandOptions import_options;
  CLI::App* im = RegisterImport(app, &import_options);

  TokenCommandOptions token_options;
  CLI::App* t = RegisterToken(app, &token_options);
  AuditCommandOptions audit_options;
  CLI::App* a = RegisterAudit(app, &audit_options);
  MigrateCommandOptions migrate_options;
  CLI::App* mi = RegisterMigrate(app, &migrate_options);
  CopyCommandOptions copy_options;
  CLI::App* cp = RegisterCopy(app, &copy_options);
  ReindexCommandOptions reindex_options;
  CLI::App* ri = RegisterReindex(app, &reindex_options);
  NodeCommandOptions node_options;
  CLI::App* nd = RegisterNode(app, &node_options);
  OutboxCommandOptions outbox_options;
  CLI::App* ob = RegisterOutbox(app, &outbox_options);
  TransferCommandOptions transfer_options;
  CLI::App* tr = RegisterTransfer(app, &transfer_options);

  // Flags given on the command line override the config file: parse once to
  // find --config, load it, then parse again on top.
  try {
    app.parse(argc, argv);
    if (!config.empty()) {
      ServeOptions from_file;
      std::string error;
      if (!LoadConfigFile(config, &from_file, &error)) {
        std::cerr << "crs: " << error << "\n";
        return 2;
      }
      serve = from_file;
      app.parse(argc, argv);
    }
  } catch (const CLI::ParseError& e) {
    int code = app.exit(e);
    return code == 0 ? 0 : 2;
  }
  if (s->parsed()) return RunServe(serve);
  if (g->parsed()) return RunGen(gen_options);
  if (im->parsed()) return RunImport(import_options);
  if (t->parsed()) return RunToken(token_options);
  if (a->parsed()) return RunAudit(audit_options);
  if (mi->parsed()) return RunMigrate(migrate_options);
  if (cp->parsed()) return RunCopy(copy_options);
  if (ri->parsed()) return RunReindex(reindex_options);
  if (nd->parsed()) return RunNode(*nd, node_options);
  if (ob->parsed()) return RunOutbox(*ob, outbox_options);
  if (tr->parsed()) return RunTransfer(*tr, transfer_options);
  return 2;
}

}  // namespace crs::cli
