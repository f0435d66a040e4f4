#include "cli/serve.h"

#include <signal.h>

#include <cstdio>
#include <filesystem>
#include <toml++/toml.h>

#include <boost/json.hpp>

#include "access/jwt.h"
#include "access/keys.h"
#include "access/policy.h"

#include "api/api.h"
#include "audit/signing.h"
#include "cli/node.h"
#include "federation/fanout.h"
#include "federation/national_consent.h"
#include "federation/outbox.h"
#include "federation/publisher.h"
#include "federation/peer_directory.h"
#include "federation/registry.h"
#include "federation/transfer.h"
#include "federation/transfer_log.h"
#include "core/time.h"
#include "http/server.h"
#include "nhs/nhs_number.h"
#include "spdlog/spdlog.h"
#include "store/store.h"

extern "C" const char crs_demo_bundle_json[];
extern "C" const unsigned long crs_demo_bundle_json_size;
extern "C" const char crs_demo_summaries_json[];
extern "C" const unsigned long crs_demo_summaries_json_size;

namespace crs::cli {
namespace {

bool SplitListen(const std::string& listen, std::string* host, uint16_t* port) {
  size_t colon = listen.rfind(':');
  if (colon == std::string::npos) return false;
  *host = listen.substr(0, colon);
  if (host->size() >= 2 && host->front() == '[' && host->back() == ']') {
    *host = host->substr(1, host->size() - 2);
  }
  try {
    int p = std::stoi(listen.substr(colon + 1));
    if (p < 0 || p > 65535) return false;
    *port = static_cast<uint16_t>(p);
  } catch (...) {
    return false;
  }
  return !host->empty();
}

// The demo users `make run` prints tokens for: they match the demo data set
// (practices Y12345 and Y23456, hospital RXX01, patients 999000001x-5x).
struct DemoUser {
  const char* label;
  access::TokenClaims claims;
};

// The demo users as the web UI's sign-in page offers them (api/web_ui.h).
std::vector<api::DemoUser> UiDemoUsers(const std::vector<DemoUser>& users) {
  std::vector<api::DemoUser> out;
  for (const auto& u : users) {
    out.push_back({u.claims.user, u.label, u.claims.name, u.claims.role, u.claims.org,
                   u.claims.patient});
  }
  return out;
}

std::vector<DemoUser> DemoUsers(const std::string& audience) {
  auto claims = [&](const char* user, const char* name, const char* role, const char* org,
                    const char* patient) {
    access::TokenClaims c;
    c.user = user;
    c.name = name;
    c.role = role;
    c.org = org;
    c.patient = patient;
    c.audience = audience;
    c.ttl_seconds = 8 * 3600;
    return c;
  };
  return {
      {"GP at practice Y12345 (R8000)", claims("demo-gp", "Dr Asha Patel", "R8000", "Y12345", "")},
      {"A&E doctor at hospital RXX01 (R8000, no relationship: use break-glass)",
       claims("demo-ae", "Dr Tom Reid", "R8000", "RXX01", "")},
      {"Pharmacist at FXX01 (R8003)", claims("demo-pharmacist", "Sam Okafor", "R8003", "FXX01", "")},
      {"Admin clerk at practice Y12345 (R8008)",
       claims("demo-clerk", "Jo Hughes", "R8008", "Y12345", "")},
      {"Privacy officer at hospital RXX01 (R0001)",
       claims("demo-privacy", "Lee Morgan", "R0001", "RXX01", "")},
      {"Patient 9990000018", claims("demo-patient", "Alice Morgan", "patient", "", "9990000018")},
  };
}

// Sends one request through the handler that serves clients (so the demo
// exercises the real write path, access rules and audit) and waits for its
// audit record, as the server would before answering.
Status Send(http::Handler& handler, const std::string& path, std::string body,
            const std::string& token, http::Response* response) {
  http::Request request;
  request.method = "POST";
  request.path = path;
  request.headers.Add("content-type", "application/fhir+json");
  request.headers.Add("authorization", "Bearer " + token);
  request.body = std::move(body);
  handler.Handle(request, response);
  return http::AwaitHeld(response);
}

// Loads the built-in demo data into an empty store: the population (a
// transaction loaded by a backend service), then the practice Y12345's
// Summary Care Record uploads, made with a GP token of that practice.
Status LoadDemo(store::Store& store, http::Handler& handler, const std::string& system_token,
                const std::string& gp_token) {
  auto stats = store.Stats();
  if (!stats.ok()) return stats.status();
  if (stats->resources > 0) return Status::Ok();
  http::Response response;
  CRS_RETURN_IF_ERROR(Send(handler, "/fhir",
                           std::string(crs_demo_bundle_json, crs_demo_bundle_json_size),
                           system_token, &response));
  if (response.status != 200) {
    return Status::Internal("demo data was refused: " + response.body);
  }
  boost::json::error_code ec;
  auto docs = boost::json::parse(
      std::string_view(crs_demo_summaries_json, crs_demo_summaries_json_size), ec);
  if (ec || !docs.is_array()) return Status::Internal("demo summaries are not a JSON array");
  for (const auto& doc : docs.as_array()) {
    http::Response uploaded;
    CRS_RETURN_IF_ERROR(
        Send(handler, "/fhir/Bundle", boost::json::serialize(doc), gp_token, &uploaded));
    if (uploaded.status != 201 && uploaded.status != 200) {
      return Status::Internal("a demo summary was refused: " + uploaded.body);
    }
  }
  return Status::Ok();
}

}  // namespace

bool LoadConfigFile(const std::string& path, ServeOptions* o, std::string* error) {
  toml::table t;
  try {
    t = toml::parse_file(path);
  } catch (const toml::parse_error& e) {
    *error = "config file " + path + ": " + std::string(e.description());
    return false;
  }
  auto str = [&](const char* key, std::string* out) {
    if (auto v = t[key].value<std::string>()) *out = *v;
  };
  str("data", &o->data_dir);
  str("listen", &o->listen);
  str("store", &o->store_url);
  str("role", &o->role);
  str("base_url", &o->base_url);
  str("org", &o->org);
  str("national", &o->national_url);
  str("national_jwks", &o->national_jwks);
  if (auto v = t["upload_summaries"].value<bool>()) o->upload_summaries = *v;
  if (auto v = t["fanout_timeout"].value<int64_t>()) o->fanout_timeout_ms = static_cast<int>(*v);
  if (auto v = t["consent_ttl"].value<int64_t>()) o->consent_ttl_s = static_cast<int>(*v);
  if (auto v = t["transfer_timeout"].value<int64_t>()) {
    o->transfer_timeout_s = static_cast<int>(*v);
  }
  if (auto v = t["max_body"].value<int64_t>()) o->max_body_bytes = static_cast<uint64_t>(*v);
  if (auto v = t["io_threads"].value<int64_t>()) o->io_threads = static_cast<int>(*v);
  if (auto v = t["worker_threads"].value<int64_t>()) o->worker_threads = static_cast<int>(*v);
  if (auto v = t["store_pool"].value<int64_t>()) o->store_pool = static_cast<int>(*v);
  if (auto v = t["replica_max_lag"].value<int64_t>()) o->replica_max_lag_ms = static_cast<int>(*v);
  if (auto v = t["fulltext"].value<bool>()) o->fulltext = *v;
  if (auto v = t["trace_keys"].value<bool>()) o->trace_keys = *v;
  if (auto* list = t["replicas"].as_array()) {
    o->replicas.clear();
    for (const auto& item : *list) {
      if (auto v = item.value<std::string>()) o->replicas.push_back(*v);
    }
  }
  if (auto v = t["demo"].value<bool>()) o->demo = *v;
  str("audience", &o->audience);
  str("jwks_file", &o->jwks_file);
  str("jwks_issuer", &o->jwks_issuer);
  str("consent_model", &o->consent_model);
  if (auto v = t["volume_alert"].value<int64_t>()) o->volume_alert = static_cast<int>(*v);
  str("nhs_number_range", &o->nhs_number_range);
  str("sensitive_codes", &o->sensitive_codes);
  if (o->role != "national" && o->role != "local") {
    *error = "config file " + path + ": role must be 'national' or 'local'";
    return false;
  }
  if (o->fanout_timeout_ms < 1 || o->fanout_timeout_ms > 600000) {
    *error = "config file " + path + ": fanout_timeout must be 1..600000 (milliseconds)";
    return false;
  }
  if (o->transfer_timeout_s < 1 || o->transfer_timeout_s > 604800) {
    *error = "config file " + path + ": transfer_timeout must be 1..604800 (seconds)";
    return false;
  }
  if (o->consent_ttl_s < 0 || o->consent_ttl_s > 86400) {
    *error = "config file " + path + ": consent_ttl must be 0..86400 (seconds)";
    return false;
  }
  str("ui", &o->ui_dir);
  if (o->consent_model != "implied" && o->consent_model != "explicit") {
    *error = "config file " + path + ": consent_model must be 'implied' or 'explicit'";
    return false;
  }
  for (auto& [key, value] : t) {
    static const char* kKnown[] = {"data", "listen", "store", "store_pool", "replicas", "replica_max_lag", "fulltext", "trace_keys", "role",
                                   "base_url", "org", "national", "national_jwks",
                                   "upload_summaries", "fanout_timeout", "consent_ttl",
                                   "transfer_timeout", "max_body",
                                   "io_threads", "worker_threads", "demo", "audience",
                                   "jwks_file", "jwks_issuer", "consent_model", "volume_alert",
                                   "nhs_number_range", "sensitive_codes", "ui"};
    bool known = false;
    for (const char* k : kKnown) known = known || key.str() == k;
    if (!known) {
      *error = "config file " + path + ": unknown key '" + std::string(key.str()) + "'";
      return false;
    }
  }
  return true;
}

int RunServe(const ServeOptions& o) {
  // Block the stop signals in every thread; the main thread waits for them.
  sigset_t signals;
  sigemptyset(&signals);
  sigaddset(&signals, SIGINT);
  sigaddset(&signals, SIGTERM);
  pthread_sigmask(SIG_BLOCK, &signals, nullptr);

  http::ServerOptions server_options;
  if (!SplitListen(o.listen, &server_options.host, &server_options.port)) {
    std::fprintf(stderr, "crs: --listen must be HOST:PORT\n");
    return 2;
  }
  server_options.io_threads = o.io_threads;
  server_options.worker_threads = o.worker_threads;
  server_options.max_body_bytes = o.max_body_bytes;

  // One process per data directory: `crs import` and a second `crs serve`
  // refuse to start while this node holds it.
  auto lock = DataDirLock::Acquire(o.data_dir, "serve");
  if (!lock.ok()) {
    std::fprintf(stderr, "crs: %s\n", lock.status().message().c_str());
    return 1;
  }
  auto store = OpenNodeStore(o.data_dir, o.store_url, o.store_pool, o.replicas,
                             o.replica_max_lag_ms,
                             o.fulltext ? store::FullTextMode::kOn : store::FullTextMode::kOff,
                             /*bulk_load=*/false, /*defer_index=*/false,
                             o.trace_keys ? store::TraceKeysMode::kOn : store::TraceKeysMode::kOff);
  if (!store.ok()) {
    std::fprintf(stderr, "crs: %s\n", store.status().message().c_str());
    return 1;
  }
  // Identity: the node's own key (created on first start) and, optionally,
  // an external identity provider's JWKS.
  auto node_key = access::LoadOrCreateNodeKey(o.data_dir);
  if (!node_key.ok()) {
    std::fprintf(stderr, "crs: node key: %s\n", node_key.status().message().c_str());
    return 1;
  }
  access::AuthOptions auth_options;
  auth_options.audience = o.audience;
  auth_options.jwks_file = o.jwks_file;
  auth_options.jwks_issuer = o.jwks_issuer;
  // Federation (docs/federation.md): the national node trusts the services
  // of the nodes in its registry; a local node trusts the national node's
  // users.
  if (o.role == "local" && (!o.national_url.empty() || !o.national_jwks.empty())) {
    if (o.org.empty() || o.national_url.empty() || o.national_jwks.empty() ||
        o.base_url.empty()) {
      std::fprintf(stderr, "crs: a local node linked to a national node needs --org, "
                           "--national, --national-jwks and --base-url\n");
      return 2;
    }
  }
  std::unique_ptr<federation::NodeRegistry> registry;
  std::unique_ptr<federation::PeerDirectory> peers;
  std::vector<std::string> national_issuers;
  if (o.role == "national") {
    registry = std::make_unique<federation::NodeRegistry>(**store, SystemClock::Get());
    auth_options.resolve_key = [r = registry.get()](std::string_view kid) {
      return r->Resolve(kid);
    };
  } else if (!o.national_jwks.empty()) {
    auto keys = access::LoadJwksFile(o.national_jwks, "pending");
    if (!keys.ok()) {
      std::fprintf(stderr, "crs: --national-jwks: %s\n", keys.status().message().c_str());
      return 2;
    }
    for (auto& k : *keys) {
      k.issuer = std::string(access::kNodeIssuerPrefix) + k.kid;
      national_issuers.push_back(k.issuer);
    }
    // Other practices' nodes (GP2GP) are trusted as the national registry
    // names them, and only as their own services (docs/federation.md).
    auto directory = federation::PeerDirectory::Create(*node_key, SystemClock::Get(), o.org,
                                                       o.national_url, o.audience,
                                                       std::chrono::milliseconds(2000));
    if (!directory.ok()) {
      std::fprintf(stderr, "crs: --national: %s\n", directory.status().message().c_str());
      return 2;
    }
    peers = std::move(*directory);
    auth_options.resolve_key = [keys = std::move(*keys), p = peers.get()](std::string_view kid)
        -> std::optional<access::VerifyKey> {
      for (const auto& k : keys) {
        if (k.kid == kid) return k;
      }
      return p->Resolve(kid);
    };
  }
  auto authenticator = access::Authenticator::Create(*node_key, auth_options, SystemClock::Get());
  if (!authenticator.ok()) {
    std::fprintf(stderr, "crs: %s\n", authenticator.status().message().c_str());
    return 1;
  }
  api::ApiOptions api_options;
  api_options.base_url = o.base_url;
  api_options.policy.national = o.role == "national";
  api_options.policy.consent_model = o.consent_model == "explicit"
                                         ? access::ConsentModel::kExplicit
                                         : access::ConsentModel::kImplied;
  bool loopback = server_options.host == "127.0.0.1" || server_options.host == "::1" ||
                  server_options.host == "localhost";
  if ((o.benchmark_baseline || o.benchmark_without_index) && !loopback) {
    std::fprintf(stderr, "crs: a benchmark baseline listens on loopback only\n");
    return 2;
  }
  if (o.benchmark_without_index) {
    spdlog::warn("benchmark baseline: writes are NOT indexed for search on this node");
  }
  api_options.search_index = !o.benchmark_without_index;
  if (o.benchmark_baseline) {
    spdlog::warn("benchmark baseline: NO access control and NO audit on this node");
  }
  api_options.audit = !o.benchmark_baseline;
  api_options.volume_alert_patients_per_hour = o.volume_alert;
  auto range = nhs::ParseNhsNumberRange(o.nhs_number_range);
  if (!range.ok()) {
    std::fprintf(stderr, "crs: --nhs-number-range: %s\n", range.status().message().c_str());
    return 2;
  }
  api_options.nhs_number_range = *range;
  if (!o.sensitive_codes.empty()) {
    auto codes = access::SensitiveCodes::Load(o.sensitive_codes);
    if (!codes.ok()) {
      std::fprintf(stderr, "crs: --sensitive-codes: %s\n", codes.status().message().c_str());
      return 2;
    }
    api_options.sensitive_codes = std::move(*codes);
  }
  api_options.node_id = node_key->kid();
  auto audit_keys = audit::LoadAuditPublicKeys(o.data_dir);
  if (audit_keys.ok()) api_options.audit_public_keys = std::move(*audit_keys);
  api_options.ui_dir = o.ui_dir;
  if (!o.ui_dir.empty() && !std::filesystem::is_directory(o.ui_dir)) {
    spdlog::warn("no web UI in {} (build it with `make ui`); / answers 404", o.ui_dir);
  }
  if (o.demo) {
    // Demo mode only: the UI's sign-in page mints tokens for the demo users.
    api_options.demo_users = UiDemoUsers(DemoUsers(o.audience));
    api_options.mint_demo_token = [key = &*node_key, audience = o.audience](
                                      const api::DemoUser& user) -> Result<std::string> {
      for (const auto& u : DemoUsers(audience)) {
        if (u.claims.user == user.id) {
          return access::MintToken(*key, u.claims, SystemClock::Get().NowMs() / 1000);
        }
      }
      return Status::NotFound("no such demo user");
    };
  }
  if (!o.benchmark_baseline) {
    api_options.authenticate = [auth = authenticator->get()](std::string_view header)
        -> Result<access::Caller> {
      CRS_ASSIGN_OR_RETURN(auto principal, auth->Authenticate(header));
      return access::CallerFromPrincipal(*principal);
    };
  }
  std::unique_ptr<federation::FanOut> fan_out;
  if (registry) {
    fan_out = std::make_unique<federation::FanOut>(
        *registry, std::chrono::milliseconds(o.fanout_timeout_ms));
    api_options.fan_out = [f = fan_out.get()](
                              const std::vector<api::HolderRecords>& holders,
                              const std::vector<std::pair<std::string, std::string>>& headers) {
      std::vector<federation::HolderRecords> asked;
      for (const auto& h : holders) asked.push_back({h.ods, h.urls});
      federation::FanOutResult got = f->Fetch(asked, headers);
      api::FederatedRecords out;
      for (auto& r : got.records) {
        out.records.push_back({std::move(r.ods), std::move(r.url), std::move(r.body)});
      }
      for (auto& u : got.unanswered) out.unanswered.emplace_back(std::move(u.ods), std::move(u.reason));
      return out;
    };
  }
  // A linked local node takes its patients' consent decisions from the
  // national node (docs/federation.md, "Consent on local nodes").
  std::unique_ptr<federation::NationalConsent> national_consent;
  if (o.role == "local" && !o.national_url.empty()) {
    federation::NationalConsentOptions co;
    co.ods = o.org;
    co.national_url = o.national_url;
    co.audience = o.audience;
    co.ttl = std::chrono::seconds(o.consent_ttl_s);
    auto nc = federation::NationalConsent::Start(*node_key, SystemClock::Get(), co);
    if (!nc.ok()) {
      std::fprintf(stderr, "crs: --national: %s\n", nc.status().message().c_str());
      return 2;
    }
    national_consent = std::move(*nc);
    api_options.org = o.org;
    api_options.national_issuers = national_issuers;
    api_options.national_consent = [c = national_consent.get()](std::string_view patient) {
      return c->Get(patient);
    };
  }
  // GP2GP (docs/federation.md): the transfer agent starts once the handler
  // exists (it commits received chunks through it); requests reach these
  // hooks only after the server has started, by which time it is set.
  std::unique_ptr<federation::TransferLog> transfer_log;
  std::unique_ptr<federation::Transfers> transfers;
  if (peers) {
    auto log = federation::TransferLog::Open(o.data_dir);
    if (!log.ok()) {
      std::fprintf(stderr, "crs: transfers: %s\n", log.status().message().c_str());
      return 1;
    }
    transfer_log = std::move(*log);
    auto& t = transfers;
    api_options.transfers.request = [&t](const std::string& nhs,
                                         const std::string& from) -> Result<std::string> {
      CRS_ASSIGN_OR_RETURN(auto started, t->Request(nhs, from));
      return federation::TransfersJson({started});
    };
    api_options.transfers.list = [&t](const std::string& nhs) -> Result<std::string> {
      CRS_ASSIGN_OR_RETURN(auto all, t->Of(nhs));
      return federation::TransfersJson(all);
    };
    api_options.transfers.release = [&t](const std::string& to, const std::string& nhs,
                                         const std::string& id, int64_t chunk) {
      return t->Release(to, nhs, id, chunk);
    };
    api_options.transfers.acknowledge = [&t](const std::string& from, const std::string& nhs,
                                             const std::string& id, const std::string& outcome,
                                             const std::string& reason) {
      return t->Acknowledge(from, nhs, id, outcome, reason);
    };
  }
  auto handler = api::NewFhirHandler(**store, SystemClock::Get(), api_options);
  std::vector<std::pair<std::string, std::string>> demo_tokens;
  if (o.demo) {
    int64_t now = SystemClock::Get().NowMs() / 1000;
    access::TokenClaims loader;
    loader.user = "demo-loader";
    loader.role = "system";
    loader.org = "OPENCRS";
    loader.scopes = {"system/*.cruds"};
    loader.audience = o.audience;
    loader.ttl_seconds = 300;
    auto token = access::MintToken(*node_key, loader, now);
    auto users = DemoUsers(o.audience);
    auto gp = access::MintToken(*node_key, users.front().claims, now);  // GP at Y12345
    Status st = !token.ok() ? token.status()
                : !gp.ok()  ? gp.status()
                            : LoadDemo(**store, *handler, *token, *gp);
    if (!st.ok()) {
      std::fprintf(stderr, "crs: %s\n", st.message().c_str());
      return 1;
    }
    for (const auto& u : DemoUsers(o.audience)) {
      auto t = access::MintToken(*node_key, u.claims, now);
      if (t.ok()) demo_tokens.emplace_back(u.label, *t);
    }
  }
  std::unique_ptr<federation::Outbox> outbox;
  std::unique_ptr<federation::Publisher> publisher;
  if (o.role == "local" && !o.national_url.empty()) {
    auto box = federation::Outbox::Open(o.data_dir);
    if (!box.ok()) {
      std::fprintf(stderr, "crs: outbox: %s\n", box.status().message().c_str());
      return 1;
    }
    outbox = std::move(*box);
    federation::PublisherOptions po;
    po.ods = o.org;
    po.local_base = o.base_url;
    po.national_url = o.national_url;
    po.audience = o.audience;
    po.upload_summaries = o.upload_summaries;
    po.sensitive = api_options.sensitive_codes;
    po.consent_model = api_options.policy.consent_model;
    auto pub = federation::Publisher::Start(**store, *outbox, *node_key, SystemClock::Get(), po);
    if (!pub.ok()) {
      std::fprintf(stderr, "crs: %s\n", pub.status().message().c_str());
      return 2;
    }
    publisher = std::move(*pub);
  }
  federation::NodeToken own_service(*node_key, SystemClock::Get(), o.org, o.audience);
  if (transfer_log) {
    federation::TransferOptions to;
    to.ods = o.org;
    to.national_url = o.national_url;
    to.audience = o.audience;
    to.transfer_timeout = std::chrono::seconds(o.transfer_timeout_s);
    to.chunk = o.transfer_chunk;
    // Received chunks are committed through this node's own API, as its own
    // backend service: validated, indexed, audited, idempotent by key.
    auto apply = [h = handler.get(), token = &own_service](const std::string& bundle,
                                                            const std::string& key) -> Status {
      http::Request request;
      request.method = "POST";
      request.path = "/fhir";
      request.headers.Add("content-type", "application/fhir+json");
      request.headers.Add("authorization", "Bearer " + token->Get());
      request.headers.Add("x-request-id", key);
      request.headers.Add("prefer", "return=minimal");
      request.body = bundle;
      http::Response response;
      h->Handle(request, &response);
      if (Status st = http::AwaitHeld(&response); !st.ok()) return Status::Unavailable(st.message());
      if (response.status == 200) return Status::Ok();
      std::string why = "status " + std::to_string(response.status) + ": " +
                        response.body.substr(0, 300);
      if (response.status >= 500 || response.status == 409) return Status::Unavailable(why);
      return Status::Invalid(why);
    };
    auto started = federation::Transfers::Start(**store, *transfer_log, outbox.get(), *peers,
                                                *node_key, SystemClock::Get(), to, apply);
    if (!started.ok()) {
      std::fprintf(stderr, "crs: %s\n", started.status().message().c_str());
      return 2;
    }
    transfers = std::move(*started);
  }
  auto server = http::Server::Start(server_options, *handler);
  if (!server.ok()) {
    std::fprintf(stderr, "crs: %s\n", server.status().message().c_str());
    return 1;
  }
  std::string host = server_options.host.find(':') != std::string::npos
                         ? "[" + server_options.host + "]" : server_options.host;
  std::printf("OpenCRS listening on http://%s:%u/fhir\n", host.c_str(), (*server)->port());
  if (!o.ui_dir.empty() && std::filesystem::is_directory(o.ui_dir)) {
    std::printf("Web UI at http://%s:%u/\n", host.c_str(), (*server)->port());
  }
  if (!demo_tokens.empty()) {
    std::printf("Demo tokens (valid 8 hours; send as 'Authorization: Bearer <token>'):\n");
    for (const auto& [label, token] : demo_tokens) {
      std::printf("  %s:\n    %s\n", label.c_str(), token.c_str());
    }
  }
  std::fflush(stdout);
  spdlog::info("serving; data in {}", o.data_dir);

  int sig = 0;
  sigwait(&signals, &sig);
  spdlog::info("signal {} received: finishing in-flight requests", sig);
  (*server)->Stop();
  server->reset();
  transfers.reset();
  publisher.reset();
  handler.reset();
  store->reset();  // closes the store cleanly (drains the writer, checkpoints the WAL)
  spdlog::info("stopped cleanly");
  return 0;
}

}  // namespace crs::cli
