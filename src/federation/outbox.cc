#include "federation/outbox.h"

#include "core/time.h"
#include "store/sqlite/db.h"

namespace crs::federation {

using store::sqlite::Db;
using store::sqlite::Stmt;

namespace {

constexpr const char* kSchema = R"sql(
CREATE TABLE IF NOT EXISTS cursors (
  feed TEXT PRIMARY KEY,
  seq  INTEGER NOT NULL
);
CREATE TABLE IF NOT EXISTS dead (
  id       INTEGER PRIMARY KEY AUTOINCREMENT,
  created  INTEGER NOT NULL,
  feed     TEXT NOT NULL,
  method   TEXT NOT NULL,
  target   TEXT NOT NULL,
  body     TEXT NOT NULL,
  error    TEXT NOT NULL,
  attempts INTEGER NOT NULL,
  replay   INTEGER NOT NULL DEFAULT 0
);
)sql";

constexpr const char* kCursor = "SELECT seq FROM cursors WHERE feed = ?1";
constexpr const char* kSetCursor =
    "INSERT INTO cursors (feed, seq) VALUES (?1, ?2) "
    "ON CONFLICT (feed) DO UPDATE SET seq = excluded.seq";
constexpr const char* kAddDead =
    "INSERT INTO dead (created, feed, method, target, body, error, attempts) "
    "VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)";
constexpr const char* kListDead =
    "SELECT id, created, feed, method, target, body, error, attempts, replay FROM dead ORDER BY id";
constexpr const char* kReplayOne = "UPDATE dead SET replay = 1 WHERE id = ?1";
constexpr const char* kReplayAll = "UPDATE dead SET replay = 1";
constexpr const char* kTakeReplays =
    "SELECT id, created, feed, method, target, body, error, attempts, replay FROM dead "
    "WHERE replay = 1 ORDER BY id";
constexpr const char* kRemoveDead = "DELETE FROM dead WHERE id = ?1";
constexpr const char* kFailedAgain =
    "UPDATE dead SET replay = 0, attempts = attempts + 1, error = ?2 WHERE id = ?1";

Result<std::vector<DeadLetter>> Letters(Db& db, const char* sql) {
  CRS_ASSIGN_OR_RETURN(Stmt * s, db.Prepare(sql));
  std::vector<DeadLetter> out;
  while (true) {
    CRS_ASSIGN_OR_RETURN(bool row, s->Step());
    if (!row) break;
    DeadLetter d;
    d.id = s->Int(0);
    d.created_ms = s->Int(1);
    d.feed = s->Text(2);
    d.method = s->Text(3);
    d.target = s->Text(4);
    d.body = s->Text(5);
    d.error = s->Text(6);
    d.attempts = static_cast<int>(s->Int(7));
    d.replay = s->Int(8) != 0;
    out.push_back(std::move(d));
  }
  s->Reset();
  return out;
}

// Runs a statement that returns no rows.
Status Run(Stmt* s) {
  auto r = s->Step();
  s->Reset();
  return r.ok() ? Status::Ok() : r.status();
}

}  // namespace

Outbox::Outbox(std::unique_ptr<Db> db) : db_(std::move(db)) {}
Outbox::~Outbox() = default;

Result<std::unique_ptr<Outbox>> Outbox::Open(const std::string& data_dir) {
  CRS_ASSIGN_OR_RETURN(auto db, Db::Open(data_dir + "/outbox.db", /*create=*/true));
  CRS_RETURN_IF_ERROR(db->Exec(kSchema));
  return std::unique_ptr<Outbox>(new Outbox(std::move(db)));
}

Result<int64_t> Outbox::Cursor(const std::string& feed) {
  std::lock_guard<std::mutex> lock(mu_);
  CRS_ASSIGN_OR_RETURN(Stmt * s, db_->Prepare(kCursor));
  s->Bind(1, feed);
  CRS_ASSIGN_OR_RETURN(bool row, s->Step());
  int64_t seq = row ? s->Int(0) : 0;
  s->Reset();
  return seq;
}

Status Outbox::SetCursor(const std::string& feed, int64_t seq) {
  std::lock_guard<std::mutex> lock(mu_);
  CRS_ASSIGN_OR_RETURN(Stmt * s, db_->Prepare(kSetCursor));
  s->Bind(1, feed);
  s->Bind(2, seq);
  return Run(s);
}

Status Outbox::AddDead(const DeadLetter& d) {
  std::lock_guard<std::mutex> lock(mu_);
  CRS_ASSIGN_OR_RETURN(Stmt * s, db_->Prepare(kAddDead));
  s->Bind(1, d.created_ms);
  s->Bind(2, d.feed);
  s->Bind(3, d.method);
  s->Bind(4, d.target);
  s->Bind(5, d.body);
  s->Bind(6, d.error);
  s->Bind(7, static_cast<int64_t>(d.attempts));
  return Run(s);
}

Result<std::vector<DeadLetter>> Outbox::ListDead() {
  std::lock_guard<std::mutex> lock(mu_);
  return Letters(*db_, kListDead);
}

Result<int> Outbox::MarkReplay(int64_t id) {
  std::lock_guard<std::mutex> lock(mu_);
  CRS_ASSIGN_OR_RETURN(Stmt * s, db_->Prepare(id > 0 ? kReplayOne : kReplayAll));
  if (id > 0) s->Bind(1, id);
  CRS_RETURN_IF_ERROR(Run(s));
  return static_cast<int>(db_->Changes());
}

Result<std::vector<DeadLetter>> Outbox::TakeReplays() {
  std::lock_guard<std::mutex> lock(mu_);
  return Letters(*db_, kTakeReplays);
}

Status Outbox::RemoveDead(int64_t id) {
  std::lock_guard<std::mutex> lock(mu_);
  CRS_ASSIGN_OR_RETURN(Stmt * s, db_->Prepare(kRemoveDead));
  s->Bind(1, id);
  return Run(s);
}

Status Outbox::FailedAgain(int64_t id, const std::string& error) {
  std::lock_guard<std::mutex> lock(mu_);
  CRS_ASSIGN_OR_RETURN(Stmt * s, db_->Prepare(kFailedAgain));
  s->Bind(1, id);
  s->Bind(2, error);
  return Run(s);
}

}  // namespace crs::federation
