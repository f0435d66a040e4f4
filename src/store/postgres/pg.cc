#include "store/postgres/pg.h"

#include <libpq-fe.h>

#include <bit>
#include <cstring>
#include <optional>

namespace crs::store::postgres {
namespace {

// Type OIDs (pg_type.h).
constexpr unsigned kBool = 16, kBytea = 17, kInt8 = 20, kInt2 = 21, kInt4 = 23, kText = 25,
                   kFloat4 = 700, kFloat8 = 701;

std::string BigEndian(uint64_t v) {
  std::string out(8, '\0');
  for (int i = 7; i >= 0; --i) {
    out[i] = static_cast<char>(v & 0xff);
    v >>= 8;
  }
  return out;
}

uint64_t ReadBigEndian(const char* p, int n) {
  uint64_t v = 0;
  for (int i = 0; i < n; ++i) v = (v << 8) | static_cast<unsigned char>(p[i]);
  return v;
}

// Translates a failed result into our Status: serialisation failures and
// deadlocks are retryable, unique violations conflicts, bad input (class
// 22: data exception, e.g. invalid UTF-8) invalid, connection trouble and
// resource exhaustion unavailable.
Status PgStatus(pg_result* r, pg_conn* c, std::string_view what) {
  const char* state = r ? PQresultErrorField(r, PG_DIAG_SQLSTATE) : nullptr;
  std::string sqlstate = state ? state : "";
  // The primary message only: DETAIL lines can quote the stored values
  // (a duplicate key's NHS number), which must not reach logs or clients.
  const char* primary = r ? PQresultErrorField(r, PG_DIAG_MESSAGE_PRIMARY) : nullptr;
  std::string msg = std::string(what) + ": " +
                    (primary ? std::string(primary) + " (SQLSTATE " + sqlstate + ")"
                             : std::string(PQerrorMessage(c)));
  while (!msg.empty() && msg.back() == '\n') msg.pop_back();
  if (sqlstate == "40001" || sqlstate == "40P01" || sqlstate == "55P03") {
    return Status(Code::kRetryable, msg);
  }
  if (sqlstate == "23505") return Status::Conflict(msg);
  if (sqlstate.starts_with("22")) return Status::Invalid(msg);
  if (sqlstate.empty() || sqlstate.starts_with("08") || sqlstate.starts_with("53") ||
      sqlstate.starts_with("57") || sqlstate == "25006") {
    return Status::Unavailable(msg);
  }
  return Status::Internal(msg);
}

}  // namespace

Params::Params(const std::vector<sql::SqlArg>& args) {
  for (const auto& a : args) {
    if (auto* n = std::get_if<int64_t>(&a)) {
      Int(*n);
    } else if (auto* d = std::get_if<double>(&a)) {
      Double(*d);
    } else {
      Text(std::get<std::string>(a));
    }
  }
}

void Params::Add(unsigned type, std::string bytes, bool null) {
  types_.push_back(type);
  lengths_.push_back(static_cast<int>(bytes.size()));
  formats_.push_back(1);
  bytes_.push_back(std::move(bytes));
  null_.push_back(null);
}

Params& Params::Int(int64_t v) {
  Add(kInt8, BigEndian(static_cast<uint64_t>(v)));
  return *this;
}
Params& Params::Double(double v) {
  Add(kFloat8, BigEndian(std::bit_cast<uint64_t>(v)));
  return *this;
}
Params& Params::Text(std::string_view v) {
  Add(kText, std::string(v));
  return *this;
}
Params& Params::Bytes(std::string_view v) {
  Add(kBytea, std::string(v));
  return *this;
}
Params& Params::Null() {
  Add(kBytea, std::string(), /*null=*/true);
  return *this;
}
Params& Params::NullDouble() {
  Add(kFloat8, std::string(), /*null=*/true);
  return *this;
}

std::vector<const char*> Params::values() const {
  std::vector<const char*> out;
  out.reserve(bytes_.size());
  for (size_t i = 0; i < bytes_.size(); ++i) out.push_back(null_[i] ? nullptr : bytes_[i].data());
  return out;
}

Rows::Rows(pg_result* r) : r_(r), n_(r ? PQntuples(r) : 0) {}
Rows::~Rows() {
  if (r_) PQclear(r_);
}

bool Rows::IsNull(int row, int col) const { return PQgetisnull(r_, row, col) != 0; }

int64_t Rows::Int(int row, int col) const {
  if (IsNull(row, col)) return 0;
  const char* p = PQgetvalue(r_, row, col);
  switch (PQftype(r_, col)) {
    case kInt8: return static_cast<int64_t>(ReadBigEndian(p, 8));
    case kInt4: return static_cast<int32_t>(ReadBigEndian(p, 4));
    case kInt2: return static_cast<int16_t>(ReadBigEndian(p, 2));
    case kBool: return p[0] != 0;
    default: return 0;
  }
}

double Rows::Double(int row, int col) const {
  if (IsNull(row, col)) return 0;
  const char* p = PQgetvalue(r_, row, col);
  switch (PQftype(r_, col)) {
    case kFloat8: return std::bit_cast<double>(ReadBigEndian(p, 8));
    case kFloat4:
      return std::bit_cast<float>(static_cast<uint32_t>(ReadBigEndian(p, 4)));
    default: return static_cast<double>(Int(row, col));
  }
}

std::string_view Rows::Bytes(int row, int col) const {
  return std::string_view(PQgetvalue(r_, row, col), PQgetlength(r_, row, col));
}

bool Rows::IsIntColumn(int col) const {
  unsigned t = PQftype(r_, col);
  return t == kInt8 || t == kInt4 || t == kInt2 || t == kBool;
}
bool Rows::IsDoubleColumn(int col) const {
  unsigned t = PQftype(r_, col);
  return t == kFloat8 || t == kFloat4;
}

Result<std::unique_ptr<Conn>> Conn::Open(const std::string& url) {
  pg_conn* c = PQconnectdb(url.c_str());
  if (PQstatus(c) != CONNECTION_OK) {
    std::string msg = PQerrorMessage(c);
    while (!msg.empty() && msg.back() == '\n') msg.pop_back();
    PQfinish(c);
    return Status::Unavailable("cannot connect to PostgreSQL: " + msg);
  }
  auto conn = std::unique_ptr<Conn>(new Conn(c));
  // Quiet notices (e.g. "relation already exists, skipping") and a fixed
  // time zone and encoding: the data is UTF-8 text and integers only.
  PQsetNoticeProcessor(c, [](void*, const char*) {}, nullptr);
  // Prepared statements keep one generic plan. With the default (auto) the
  // planner kept re-planning the generated searches for every execution: a
  // generic plan's estimate (default selectivities for $n ranges) stays
  // above the custom plans', so PostgreSQL never switches, and planning a
  // family + birthdate search took 1.6 ms against 0.2 ms to run it. The
  // search builder fixes the driving predicate and join shape itself, so
  // the generic plan is the one a custom plan would pick (bench/RESULTS.md).
  CRS_RETURN_IF_ERROR(conn->Exec(
      "SET client_encoding = 'UTF8'; SET TIME ZONE 'UTC'; SET plan_cache_mode = force_generic_plan"));
  return conn;
}

Conn::~Conn() { PQfinish(conn_); }

bool Conn::Healthy() const { return PQstatus(conn_) == CONNECTION_OK; }
bool Conn::Reusable() const {
  return Healthy() && deferred_.empty() && PQtransactionStatus(conn_) == PQTRANS_IDLE;
}

Result<Rows> Conn::Check(pg_result* r, std::string_view what) {
  ExecStatusType st = r ? PQresultStatus(r) : PGRES_FATAL_ERROR;
  if (st == PGRES_COMMAND_OK || st == PGRES_TUPLES_OK) return Rows(r);
  Status s = PgStatus(r, conn_, what);
  if (r) PQclear(r);
  return s;
}

Status Conn::Exec(std::string_view sql) {
  std::string text(sql);
  if (!deferred_.empty()) return Pipeline({std::move(text), Params(), false}).status();
  return Check(PQexec(conn_, text.c_str()), "postgres exec").status();
}

Result<std::string> Conn::Prepared(const std::string& sql, const Params& p) {
  // Keyed by the parameter types too: the same text bound with other types
  // is another statement.
  std::string key = sql;
  key.push_back('\0');
  for (int i = 0; i < p.size(); ++i) key += std::to_string(p.types()[i]) + ",";
  auto it = prepared_.find(key);
  if (it != prepared_.end()) return it->second;
  if (prepared_.size() >= kMaxPrepared) {
    // Generated search SQL has many shapes: start the cache afresh.
    CRS_RETURN_IF_ERROR(Exec("DEALLOCATE ALL"));
    prepared_.clear();
  }
  std::string name = "s" + std::to_string(++prepared_serial_);
  CRS_RETURN_IF_ERROR(
      Check(PQprepare(conn_, name.c_str(), sql.c_str(), p.size(), p.types()), "postgres prepare")
          .status());
  prepared_.emplace(std::move(key), name);
  return name;
}

Result<Rows> Conn::Query(const std::string& sql, const Params& p) {
  CRS_ASSIGN_OR_RETURN(std::string name, Prepared(sql, p));
  if (!deferred_.empty()) return Pipeline({std::move(name), p, true});
  auto values = p.values();
  return Check(PQexecPrepared(conn_, name.c_str(), p.size(), values.data(), p.lengths(),
                              p.formats(), /*resultFormat=*/1),
               "postgres query");
}

Result<Rows> Conn::QueryOnce(const std::string& sql, const Params& p) {
  if (!deferred_.empty()) return Pipeline({sql, p, false});
  auto values = p.values();
  return Check(PQexecParams(conn_, sql.c_str(), p.size(), p.types(), values.data(), p.lengths(),
                            p.formats(), /*resultFormat=*/1),
               "postgres query");
}

void Conn::Defer(const std::string& sql, Params params, bool prepare) {
  if (prepare) {
    auto name = Prepared(sql, params);
    if (name.ok()) {
      deferred_.push_back({std::move(*name), std::move(params), true});
      return;
    }
    // Not prepared: sent as it is, and fails (with its reason) at the flush.
  }
  deferred_.push_back({sql, std::move(params), false});
}

Status Conn::Flush() {
  if (deferred_.empty()) return Status::Ok();
  Deferred last = std::move(deferred_.back());
  deferred_.pop_back();
  return Pipeline(std::move(last)).status();
}

Result<Rows> Conn::Pipeline(Deferred last) {
  std::vector<Deferred> queue = std::move(deferred_);
  deferred_.clear();
  queue.push_back(std::move(last));
  if (PQenterPipelineMode(conn_) != 1) {
    return Status::Unavailable(std::string("postgres pipeline: ") + PQerrorMessage(conn_));
  }
  Status first_error = Status::Ok();
  size_t sent = 0;
  for (const Deferred& d : queue) {
    auto values = d.params.values();
    int ok = d.prepared
                 ? PQsendQueryPrepared(conn_, d.sql.c_str(), d.params.size(), values.data(),
                                       d.params.lengths(), d.params.formats(), 1)
                 : PQsendQueryParams(conn_, d.sql.c_str(), d.params.size(), d.params.types(),
                                     values.data(), d.params.lengths(), d.params.formats(), 1);
    if (ok != 1) break;
    ++sent;
  }
  if (PQpipelineSync(conn_) != 1 || sent < queue.size()) {
    first_error = PgStatus(nullptr, conn_, "postgres pipeline send");
  }
  std::optional<Result<Rows>> last_rows;
  for (size_t i = 0; i < sent; ++i) {
    pg_result* r = PQgetResult(conn_);
    if (r == nullptr) {  // the connection went away
      if (first_error.ok()) first_error = PgStatus(nullptr, conn_, "postgres pipeline");
      break;
    }
    Result<Rows> rows = [&]() -> Result<Rows> {
      if (PQresultStatus(r) != PGRES_PIPELINE_ABORTED) return Check(r, "postgres query");
      PQclear(r);
      return Status::Unavailable("postgres pipeline: skipped after an earlier error");
    }();
    if (!rows.ok() && first_error.ok()) first_error = rows.status();
    if (i + 1 == queue.size()) last_rows.emplace(std::move(rows));
    while (pg_result* extra = PQgetResult(conn_)) PQclear(extra);  // up to the query's NULL
  }
  // The sync's own result, then back to ordinary mode.
  while (pg_result* r = PQgetResult(conn_)) {
    bool sync = PQresultStatus(r) == PGRES_PIPELINE_SYNC;
    PQclear(r);
    if (sync) break;
  }
  PQexitPipelineMode(conn_);
  if (!first_error.ok()) return first_error;
  if (!last_rows) return Status::Internal("postgres pipeline: no result");
  return std::move(*last_rows);
}

}  // namespace crs::store::postgres
