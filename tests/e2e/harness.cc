#include "e2e/harness.h"

#include "access/jwt.h"
#include "access/keys.h"

#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <sqlite3.h>

#include "store/store.h"
#include "support/test_postgres.h"

#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <boost/asio.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <map>
#include <mutex>
#include <sstream>

namespace crs::e2e {

namespace net = boost::asio;
namespace beast = boost::beast;
namespace bhttp = boost::beast::http;

boost::json::value HttpResult::Json() const {
  boost::json::error_code ec;
  auto v = boost::json::parse(body, ec);
  return ec ? boost::json::value() : v;
}

struct Client::Impl {
  explicit Impl(int port) : port(port), stream(ioc) {}
  bool Connect() {
    beast::error_code ec;
    stream.socket().close(ec);
    stream.connect(net::ip::tcp::endpoint(net::ip::make_address("127.0.0.1"), port), ec);
    connected = !ec;
    return connected;
  }
  int port;
  net::io_context ioc;
  beast::tcp_stream stream;
  beast::flat_buffer buffer;
  bool connected = false;
  std::string token;
};

Client::Client(int port, std::string token) : impl_(std::make_unique<Impl>(port)) {
  impl_->token = std::move(token);
}
Client::~Client() = default;
void Client::SetToken(std::string token) { impl_->token = std::move(token); }

HttpResult Client::Send(const std::string& method, const std::string& target,
                        const std::string& body,
                        const std::vector<std::pair<std::string, std::string>>& headers) {
  try {
    return SendOnce(method, target, body, headers);
  } catch (const std::exception&) {
    impl_->connected = false;
    return HttpResult();  // status 0: the request could not be sent or answered
  }
}

HttpResult Client::SendOnce(const std::string& method, const std::string& target,
                            const std::string& body,
                            const std::vector<std::pair<std::string, std::string>>& headers) {
  HttpResult result;
  for (int attempt = 0; attempt < 2; ++attempt) {
    if (!impl_->connected && !impl_->Connect()) return result;
    bhttp::request<bhttp::string_body> req;
    req.method_string(method);
    req.target(target);
    req.version(11);
    req.set(bhttp::field::host, "127.0.0.1:" + std::to_string(impl_->port));
    bool has_ct = false, has_auth = false;
    for (const auto& [k, v] : headers) {
      if (k == "Authorization" || k == "authorization") {
        has_auth = true;
        if (v.empty()) continue;
      }
      req.set(k, v);
      if (k == "Content-Type" || k == "content-type") has_ct = true;
    }
    if (!has_auth && !impl_->token.empty()) {
      req.set(bhttp::field::authorization, "Bearer " + impl_->token);
    }
    if (!body.empty() && !has_ct) req.set(bhttp::field::content_type, "application/fhir+json");
    req.body() = body;
    req.prepare_payload();
    beast::error_code ec;
    bhttp::write(impl_->stream, req, ec);
    bhttp::response_parser<bhttp::string_body> parser;
    parser.body_limit(1ull << 30);
    if (!ec) bhttp::read(impl_->stream, impl_->buffer, parser, ec);
    if (ec) {
      impl_->connected = false;  // the server closed a kept-alive connection: retry once
      continue;
    }
    auto& res = parser.get();
    result.status = static_cast<int>(res.result_int());
    for (const auto& f : res) {
      std::string name(f.name_string());
      for (char& c : name) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
      result.headers[name] = std::string(f.value());
    }
    result.body = std::move(res.body());
    if (!res.keep_alive()) impl_->connected = false;
    return result;
  }
  return result;
}

namespace {

// The store URL of each server's data dir (PostgreSQL runs), for AuditRecords.
std::mutex urls_mu;
std::map<std::string, std::string>& StoreUrls() {
  static std::map<std::string, std::string> urls;
  return urls;
}

}  // namespace

namespace {

// CRS_TEST_POSTGRES=0 skips the whole PostgreSQL run of the suite, saying so.
class PostgresRunEnvironment : public ::testing::Environment {
 public:
  void SetUp() override {
    if (OnPostgres() && testing::PostgresDisabled()) {
      GTEST_SKIP() << "CRS_TEST_POSTGRES=0: the PostgreSQL run of the e2e suite is skipped";
    }
  }
};
[[maybe_unused]] ::testing::Environment* const kPostgresRun =
    ::testing::AddGlobalTestEnvironment(new PostgresRunEnvironment);

}  // namespace

bool OnPostgres() {
  // "postgres" or "postgres:URLFILE" (ctest: the fixture server's URL file).
  const char* v = std::getenv("CRS_E2E_STORE");
  std::string mode = v ? v : "";
  if (mode.starts_with("postgres:") && !std::getenv("CRS_TEST_POSTGRES_URL_FILE")) {
    setenv("CRS_TEST_POSTGRES_URL_FILE", mode.c_str() + 9, 1);
  }
  return mode == "postgres" || mode.starts_with("postgres:");
}

ServerProcess::ServerProcess() {
  char tmpl[] = "/tmp/crs-e2e-XXXXXX";
  char* dir = mkdtemp(tmpl);
  data_dir_ = dir ? dir : "/tmp/crs-e2e-fallback";
  if (OnPostgres() && !testing::PostgresDisabled()) {
    auto url = testing::FreshPostgresDatabase();
    if (!url.ok()) {
      std::fprintf(stderr, "e2e: no PostgreSQL database: %s\n", url.status().message().c_str());
      return;  // Start() fails
    }
    store_url_ = *url;
    std::lock_guard<std::mutex> lock(urls_mu);
    StoreUrls()[data_dir_] = store_url_;
  }
}

ServerProcess::~ServerProcess() {
  if (pid_ > 0) Stop(SIGKILL);
  {
    std::lock_guard<std::mutex> lock(urls_mu);
    StoreUrls().erase(data_dir_);
  }
  std::error_code ec;
  std::filesystem::remove_all(data_dir_, ec);
}

bool ServerProcess::Start(const std::vector<std::string>& extra_args) {
  int out_pipe[2];
  if (pipe(out_pipe) != 0) return false;
  std::vector<std::string> args = {CRS_BINARY, "serve", "--data", data_dir_ + "/data"};
  if (std::find(extra_args.begin(), extra_args.end(), "--listen") == extra_args.end()) {
    args.insert(args.end(), {"--listen", "127.0.0.1:0"});
  }
  if (OnPostgres() && store_url_.empty()) return false;  // no database (see the constructor)
  if (!store_url_.empty()) {
    args.push_back("--store");
    args.push_back(store_url_);
  }
  args.insert(args.end(), extra_args.begin(), extra_args.end());
  pid_ = fork();
  if (pid_ == 0) {
    dup2(out_pipe[1], 1);
    close(out_pipe[0]);
    close(out_pipe[1]);
    std::vector<char*> argv;
    for (auto& a : args) argv.push_back(a.data());
    argv.push_back(nullptr);
    execv(argv[0], argv.data());
    _exit(127);
  }
  close(out_pipe[1]);
  // Read the listen line: "OpenCRS listening on http://127.0.0.1:PORT/fhir".
  std::string line;
  char c;
  while (read(out_pipe[0], &c, 1) == 1) {
    if (c == '\n') {
      size_t p = line.find("http://127.0.0.1:");
      if (p != std::string::npos) {
        port_ = std::atoi(line.c_str() + p + 17);
        break;
      }
      line.clear();
    } else {
      line.push_back(c);
    }
  }
  close(out_pipe[0]);  // later stdout writes are discarded (SIGPIPE-safe: the server logs to stderr)
  return port_ > 0;
}

int ServerProcess::Stop(int sig) {
  if (pid_ <= 0) return -1;
  kill(pid_, sig);
  int status = 0;
  // A server that does not stop within a minute is a failure, not a hang.
  for (int i = 0; i < 600 && waitpid(pid_, &status, WNOHANG) == 0; ++i) usleep(100000);
  if (waitpid(pid_, &status, WNOHANG) == 0) {
    kill(pid_, SIGKILL);
    waitpid(pid_, &status, 0);
    pid_ = -1;
    port_ = 0;
    return -1000;  // did not stop by itself
  }
  pid_ = -1;
  port_ = 0;
  if (WIFEXITED(status)) return WEXITSTATUS(status);
  return -WTERMSIG(status);
}

std::string ServerProcess::Token(const std::string& role, const std::string& org,
                                 const std::string& patient,
                                 const std::vector<std::string>& activities,
                                 const std::vector<std::string>& scopes,
                                 const std::string& user) const {
  auto key = access::LoadOrCreateNodeKey(data_dir_ + "/data");
  if (!key.ok()) return "";
  access::TokenClaims c;
  c.user = user.empty() ? "test-" + role + "-" + org : user;
  c.role = role;
  c.org = org;
  c.patient = patient;
  c.activities = activities;
  c.scopes = scopes;
  c.audience = std::string(access::kDefaultAudience);
  c.ttl_seconds = 3600;
  auto t = access::MintToken(*key, c, static_cast<int64_t>(time(nullptr)));
  return t.ok() ? *t : "";
}

std::string ServerProcess::SystemToken() const {
  return Token("system", "TEST", "", {}, {"system/*.cruds"});
}

namespace {

// The PostgreSQL URL of the server whose data dir is `data_dir` (DIR or
// DIR/data); "" when it runs on SQLite.
std::string PostgresUrlOf(std::string data_dir) {
  while (data_dir.ends_with("/")) data_dir.pop_back();
  if (data_dir.ends_with("/data")) data_dir.resize(data_dir.size() - 5);
  std::lock_guard<std::mutex> lock(urls_mu);
  auto it = StoreUrls().find(data_dir);
  return it == StoreUrls().end() ? "" : it->second;
}

// Runs `sql` with psql on `url`; its unaligned output into *out.
bool Psql(const std::string& url, const std::string& sql, std::string* out) {
  auto quote = [](const std::string& s) {
    std::string q = "'";
    for (char c : s) q += c == '\'' ? std::string("'\\''") : std::string(1, c);
    return q + "'";
  };
  std::string cmd = "/usr/lib/postgresql/15/bin/psql -X -A -t -q -v ON_ERROR_STOP=1 " +
                    quote(url) + " -c " + quote(sql) + " 2>&1";
  FILE* p = popen(cmd.c_str(), "r");
  if (!p) return false;
  char buf[4096];
  size_t n;
  out->clear();
  while ((n = fread(buf, 1, sizeof buf, p)) > 0) out->append(buf, n);
  int status = pclose(p);
  return WIFEXITED(status) && WEXITSTATUS(status) == 0;
}

}  // namespace

int64_t StoreScalar(const std::string& data_dir, const std::string& sql) {
  if (std::string url = PostgresUrlOf(data_dir); !url.empty()) {
    std::string out;
    if (!Psql(url, sql, &out) || out.empty()) return -1;
    return std::atoll(out.c_str());
  }
  std::string dir = data_dir.ends_with("/data") ? data_dir : data_dir + "/data";
  if (!std::filesystem::exists(dir + "/crs.db")) dir = data_dir;
  sqlite3* db = nullptr;
  int64_t value = -1;
  if (sqlite3_open_v2((dir + "/crs.db").c_str(), &db, SQLITE_OPEN_READONLY, nullptr) ==
      SQLITE_OK) {
    sqlite3_stmt* s = nullptr;
    sqlite3_prepare_v2(db, sql.c_str(), -1, &s, nullptr);
    if (s && sqlite3_step(s) == SQLITE_ROW) value = sqlite3_column_int64(s, 0);
    sqlite3_finalize(s);
  }
  sqlite3_close(db);
  return value;
}

bool StoreExec(const std::string& data_dir, const std::string& sql) {
  if (std::string url = PostgresUrlOf(data_dir); !url.empty()) {
    std::string out;
    return Psql(url, sql, &out);
  }
  std::string dir = data_dir.ends_with("/data") ? data_dir : data_dir + "/data";
  if (!std::filesystem::exists(dir + "/crs.db")) dir = data_dir;
  sqlite3* db = nullptr;
  bool ok = sqlite3_open((dir + "/crs.db").c_str(), &db) == SQLITE_OK &&
            sqlite3_exec(db, sql.c_str(), nullptr, nullptr, nullptr) == SQLITE_OK;
  sqlite3_close(db);
  return ok;
}

bool AuditLogExec(const std::string& data_dir, const std::string& sqlite_sql,
                  const std::string& postgres_sql) {
  if (std::string url = PostgresUrlOf(data_dir); !url.empty()) {
    std::string out;
    return Psql(url, postgres_sql, &out);
  }
  sqlite3* db = nullptr;
  bool ok = sqlite3_open((data_dir + "/crs-audit.db").c_str(), &db) == SQLITE_OK &&
            sqlite3_exec(db, sqlite_sql.c_str(), nullptr, nullptr, nullptr) == SQLITE_OK;
  sqlite3_close(db);
  return ok;
}

std::vector<std::string> AuditRecords(const std::string& data_dir) {
  std::vector<std::string> out;
  if (std::string url = PostgresUrlOf(data_dir); !url.empty()) {
    store::StoreOptions options;
    options.url = url;
    options.pool_size = 1;
    auto st = store::OpenStore(options);
    if (!st.ok()) return out;
    (void)(*st)->ScanAuditRows(0, [&out](const store::AuditRowView& row) {
      out.emplace_back(row.record);
      return true;
    });
    return out;
  }
  sqlite3* db = nullptr;
  if (sqlite3_open_v2((data_dir + "/crs-audit.db").c_str(), &db, SQLITE_OPEN_READONLY, nullptr) !=
      SQLITE_OK) {
    sqlite3_close(db);
    return out;
  }
  sqlite3_stmt* s = nullptr;
  sqlite3_prepare_v2(db, "SELECT record FROM audit ORDER BY seq", -1, &s, nullptr);
  while (s && sqlite3_step(s) == SQLITE_ROW) {
    out.emplace_back(static_cast<const char*>(sqlite3_column_blob(s, 0)),
                     sqlite3_column_bytes(s, 0));
  }
  sqlite3_finalize(s);
  sqlite3_close(db);
  return out;
}

int RunCrs(const std::vector<std::string>& args, std::string* out) {
  std::string cmd = CRS_BINARY;
  for (const auto& a : args) cmd += " '" + a + "'";
  // A command working on a node's store works on the store that node's
  // server uses.
  bool on_store = !args.empty() && (args[0] == "import" || args[0] == "serve" ||
                                    args[0] == "reindex" ||
                                    (args[0] == "audit" && args.size() > 1 && args[1] == "verify"));
  bool has_store = std::find(args.begin(), args.end(), "--store") != args.end();
  auto data = std::find(args.begin(), args.end(), "--data");
  if (on_store && !has_store && data != args.end() && data + 1 != args.end()) {
    if (std::string url = PostgresUrlOf(*(data + 1)); !url.empty()) cmd += " --store '" + url + "'";
  }
  cmd += " 2>&1";
  FILE* p = popen(cmd.c_str(), "r");
  if (!p) return -1;
  char buf[4096];
  size_t n;
  out->clear();
  while ((n = fread(buf, 1, sizeof buf, p)) > 0) out->append(buf, n);
  int status = pclose(p);
  return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

std::string ReadFile(const std::string& path) {
  std::ifstream f(path, std::ios::binary);
  std::stringstream ss;
  ss << f.rdbuf();
  return ss.str();
}

std::string IdFromLocation(const std::string& location) {
  size_t fhir = location.find("/fhir/");
  if (fhir == std::string::npos) return "";
  std::string rest = location.substr(fhir + 6);
  size_t hist = rest.find("/_history");
  return hist == std::string::npos ? rest : rest.substr(0, hist);
}

}  // namespace crs::e2e
