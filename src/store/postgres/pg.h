// A thin RAII wrapper over libpq: a connection with cached prepared
// statements, bound parameters and decoded result rows. With pool.h, the
// only place besides postgres_store.cc that sees libpq-fe.h.
//
// Parameters are sent and results received in binary format, so integers,
// doubles and bytes cross the wire without text conversion.
//
// Thread safety: a Conn (and its Rows) is used by one thread at a time.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "core/status.h"
#include "store/sql/dialect.h"

struct pg_conn;
struct pg_result;

namespace crs::store::postgres {

// Bound values of one statement, in placeholder order ($1, $2, ...).
class Params {
 public:
  Params() = default;
  explicit Params(const std::vector<sql::SqlArg>& args);
  Params& Int(int64_t v);
  Params& Double(double v);
  Params& Text(std::string_view v);
  Params& Bytes(std::string_view v);
  Params& Null();        // a NULL of type bytea
  Params& NullDouble();  // a NULL of type double precision

  int size() const { return static_cast<int>(types_.size()); }
  const unsigned* types() const { return types_.data(); }
  const int* lengths() const { return lengths_.data(); }
  const int* formats() const { return formats_.data(); }
  // Pointers into the stored values; valid until the next Add.
  std::vector<const char*> values() const;

 private:
  void Add(unsigned type, std::string bytes, bool null = false);
  std::vector<unsigned> types_;
  std::vector<std::string> bytes_;
  std::vector<bool> null_;
  std::vector<int> lengths_;
  std::vector<int> formats_;
};

// The rows of one statement's result (binary format).
class Rows {
 public:
  explicit Rows(pg_result* r);
  ~Rows();
  Rows(Rows&& o) noexcept : r_(o.r_), n_(o.n_) { o.r_ = nullptr; }
  Rows& operator=(Rows&&) = delete;
  Rows(const Rows&) = delete;

  int size() const { return n_; }
  bool IsNull(int row, int col) const;
  // Integers of any width (and booleans as 0/1).
  int64_t Int(int row, int col) const;
  double Double(int row, int col) const;
  // Text or bytes, untouched.
  std::string_view Bytes(int row, int col) const;
  // Whether the column is an integer type / a floating-point type.
  bool IsIntColumn(int col) const;
  bool IsDoubleColumn(int col) const;

 private:
  pg_result* r_;
  int n_ = 0;
};

class Conn {
 public:
  // Connects to `url` (a libpq connection URI). Unavailable when the server
  // cannot be reached.
  static Result<std::unique_ptr<Conn>> Open(const std::string& url);
  ~Conn();

  // Runs a statement given as text, without parameters (BEGIN, DDL, ...).
  Status Exec(std::string_view sql);
  // Runs `sql` with `params` as a prepared statement of this connection
  // (prepared on first use, then cached by its text and parameter types;
  // the cache is bounded). For fixed SQL, and generated SQL that repeats.
  Result<Rows> Query(const std::string& sql, const Params& params);
  // Runs generated SQL once (not cached), e.g. a search.
  Result<Rows> QueryOnce(const std::string& sql, const Params& params);

  // Queues a statement whose result nobody waits for. Queued statements
  // run, in order, in one pipeline with the next statement that is waited
  // for (Exec, Query, QueryOnce) or at Flush: one round trip for them all.
  // The first one to fail makes that call fail (and PostgreSQL skips the
  // rest of the pipeline); `prepare`: cache it as a prepared statement.
  void Defer(const std::string& sql, Params params, bool prepare);
  // Runs the queued statements now; their first error.
  Status Flush();
  // Forgets the queued statements (the transaction is being rolled back).
  void DiscardDeferred() { deferred_.clear(); }

  // False once the connection is lost (the pool then drops it).
  bool Healthy() const;
  // Healthy, outside any transaction, nothing queued: fit to go back to a pool.
  bool Reusable() const;
  // The server's replay/insert LSN or similar single-value queries use Query.
  pg_conn* raw() { return conn_; }

 private:
  struct Deferred {
    std::string sql;  // or the prepared statement's name
    Params params;
    bool prepared;
  };

  explicit Conn(pg_conn* c) : conn_(c) {}
  Result<Rows> Check(pg_result* r, std::string_view what);
  // The prepared statement for `sql` (prepared now if new).
  Result<std::string> Prepared(const std::string& sql, const Params& params);
  // Sends the queued statements and `last` in one pipeline; `last`'s rows.
  Result<Rows> Pipeline(Deferred last);

  static constexpr size_t kMaxPrepared = 2000;
  pg_conn* conn_;
  // (sql, parameter types) -> statement name, at most kMaxPrepared.
  std::unordered_map<std::string, std::string> prepared_;
  uint64_t prepared_serial_ = 0;
  std::vector<Deferred> deferred_;
};

}  // namespace crs::store::postgres
