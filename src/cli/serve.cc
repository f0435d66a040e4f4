#include "cli/serve.h"

#include <signal.h>

#include <cstdio>
#include <filesystem>
#include <toml++/toml.h>

#include "api/api.h"
#include "audit/signing.h"
#include "core/time.h"
#include "http/server.h"
#include "spdlog/spdlog.h"
#include "store/store.h"

extern "C" const char crs_demo_bundle_json[];
extern "C" const unsigned long crs_demo_bundle_json_size;

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

// Loads the built-in demo transaction into an empty store, through the same
// handler that serves clients, so the demo exercises the real write path.
Status LoadDemo(store::Store& store, http::Handler& handler) {
  auto stats = store.Stats();
  if (!stats.ok()) return stats.status();
  if (stats->resources > 0) return Status::Ok();
  http::Request request;
  request.method = "POST";
  request.path = "/fhir";
  request.headers.Add("content-type", "application/fhir+json");
  request.body.assign(crs_demo_bundle_json, crs_demo_bundle_json_size);
  http::Response response;
  handler.Handle(request, &response);
  if (response.status != 200) {
    return Status::Internal("demo data was refused: " + response.body);
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
  if (auto v = t["max_body"].value<int64_t>()) o->max_body_bytes = static_cast<uint64_t>(*v);
  if (auto v = t["io_threads"].value<int64_t>()) o->io_threads = static_cast<int>(*v);
  if (auto v = t["worker_threads"].value<int64_t>()) o->worker_threads = static_cast<int>(*v);
  if (auto v = t["demo"].value<bool>()) o->demo = *v;
  for (auto& [key, value] : t) {
    static const char* kKnown[] = {"data", "listen", "store", "role", "base_url", "max_body",
                                   "io_threads", "worker_threads", "demo"};
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

  std::error_code ec;
  std::filesystem::create_directories(o.data_dir, ec);
  if (ec) {
    std::fprintf(stderr, "crs: cannot create data directory %s: %s\n", o.data_dir.c_str(),
                 ec.message().c_str());
    return 1;
  }
  store::StoreOptions store_options;
  store_options.url = o.store_url;
  store_options.data_dir = o.data_dir;
  // The audit log's checkpoints are signed with the node's audit key.
  auto audit_key = audit::SigningKey::LoadOrCreate(o.data_dir);
  if (!audit_key.ok()) {
    std::fprintf(stderr, "crs: audit key: %s\n", audit_key.status().message().c_str());
    return 1;
  }
  store_options.audit_sign = [key = *audit_key](std::string_view m) { return key->Sign(m); };
  store_options.audit_key_id = (*audit_key)->key_id();
  auto store = store::OpenStore(store_options);
  if (!store.ok()) {
    std::fprintf(stderr, "crs: cannot open the store: %s\n", store.status().message().c_str());
    return 1;
  }
  api::ApiOptions api_options;
  api_options.base_url = o.base_url;
  auto handler = api::NewFhirHandler(**store, SystemClock::Get(), api_options);
  if (o.demo) {
    if (Status st = LoadDemo(**store, *handler); !st.ok()) {
      std::fprintf(stderr, "crs: %s\n", st.message().c_str());
      return 1;
    }
  }
  auto server = http::Server::Start(server_options, *handler);
  if (!server.ok()) {
    std::fprintf(stderr, "crs: %s\n", server.status().message().c_str());
    return 1;
  }
  std::string host = server_options.host.find(':') != std::string::npos
                         ? "[" + server_options.host + "]" : server_options.host;
  std::printf("OpenCRS listening on http://%s:%u/fhir\n", host.c_str(), (*server)->port());
  std::fflush(stdout);
  spdlog::info("serving; data in {}", o.data_dir);

  int sig = 0;
  sigwait(&signals, &sig);
  spdlog::info("signal {} received: finishing in-flight requests", sig);
  (*server)->Stop();
  server->reset();
  handler.reset();
  store->reset();  // closes the store cleanly (drains the writer, checkpoints the WAL)
  spdlog::info("stopped cleanly");
  return 0;
}

}  // namespace crs::cli
