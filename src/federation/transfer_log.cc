#include "federation/transfer_log.h"

#include <boost/json.hpp>

#include "core/time.h"
#include "store/sqlite/db.h"

namespace crs::federation {

using store::sqlite::Db;
using store::sqlite::Stmt;

namespace {

constexpr const char* kSchema = R"sql(
CREATE TABLE IF NOT EXISTS transfers (
  id         TEXT PRIMARY KEY,
  direction  TEXT NOT NULL,
  nhs        TEXT NOT NULL,
  peer       TEXT NOT NULL,
  state      TEXT NOT NULL,
  reason     TEXT NOT NULL,
  created    INTEGER NOT NULL,
  updated    INTEGER NOT NULL,
  total      INTEGER NOT NULL,
  chunks     INTEGER NOT NULL,
  next_chunk INTEGER NOT NULL,
  received   INTEGER NOT NULL,
  withheld   INTEGER NOT NULL,
  attempts   INTEGER NOT NULL,
  last_error TEXT NOT NULL,
  notified   INTEGER NOT NULL
);
CREATE TABLE IF NOT EXISTS transfer_replays (
  failed TEXT PRIMARY KEY,
  replay TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS transfer_items (
  transfer TEXT NOT NULL,
  n        INTEGER NOT NULL,
  type     TEXT NOT NULL,
  id       TEXT NOT NULL,
  version  INTEGER NOT NULL,
  PRIMARY KEY (transfer, n)
);
)sql";

constexpr const char* kColumns =
    "id, direction, nhs, peer, state, reason, created, updated, total, chunks, next_chunk, "
    "received, withheld, attempts, last_error, notified";
constexpr const char* kInsert =
    "INSERT INTO transfers (id, direction, nhs, peer, state, reason, created, updated, total, "
    "chunks, next_chunk, received, withheld, attempts, last_error, notified) "
    "VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15, ?16)";
constexpr const char* kUpdate =
    "UPDATE transfers SET direction = ?2, nhs = ?3, peer = ?4, state = ?5, reason = ?6, "
    "created = ?7, updated = ?8, total = ?9, chunks = ?10, next_chunk = ?11, received = ?12, "
    "withheld = ?13, attempts = ?14, last_error = ?15, notified = ?16 WHERE id = ?1";
constexpr const char* kInsertItem =
    "INSERT INTO transfer_items (transfer, n, type, id, version) VALUES (?1, ?2, ?3, ?4, ?5)";
constexpr const char* kItems =
    "SELECT type, id, version FROM transfer_items WHERE transfer = ?1 AND n >= ?2 AND n < ?3 "
    "ORDER BY n";
const std::string kGet = std::string("SELECT ") + kColumns + " FROM transfers WHERE id = ?1";
const std::string kOpen = std::string("SELECT ") + kColumns +
                          " FROM transfers WHERE state NOT IN ('accepted', 'rejected', 'failed') "
                          "OR (direction = 'in' AND notified = 0) ORDER BY created";
const std::string kList = std::string("SELECT ") + kColumns + " FROM transfers ORDER BY created";
const std::string kFailed = std::string("SELECT ") + kColumns +
                            " FROM transfers WHERE state IN ('failed', 'rejected') AND id NOT IN "
                            "(SELECT failed FROM transfer_replays) ORDER BY created";

void BindTransfer(Stmt* s, const Transfer& t) {
  s->Bind(1, t.id);
  s->Bind(2, t.direction);
  s->Bind(3, t.nhs);
  s->Bind(4, t.peer);
  s->Bind(5, t.state);
  s->Bind(6, t.reason);
  s->Bind(7, t.created_ms);
  s->Bind(8, t.updated_ms);
  s->Bind(9, t.total);
  s->Bind(10, t.chunks);
  s->Bind(11, t.next_chunk);
  s->Bind(12, t.received);
  s->Bind(13, t.withheld);
  s->Bind(14, t.attempts);
  s->Bind(15, t.last_error);
  s->Bind(16, static_cast<int64_t>(t.notified ? 1 : 0));
}

Transfer ReadTransfer(const Stmt& s) {
  Transfer t;
  t.id = s.Text(0);
  t.direction = s.Text(1);
  t.nhs = s.Text(2);
  t.peer = s.Text(3);
  t.state = s.Text(4);
  t.reason = s.Text(5);
  t.created_ms = s.Int(6);
  t.updated_ms = s.Int(7);
  t.total = s.Int(8);
  t.chunks = s.Int(9);
  t.next_chunk = s.Int(10);
  t.received = s.Int(11);
  t.withheld = s.Int(12);
  t.attempts = s.Int(13);
  t.last_error = s.Text(14);
  t.notified = s.Int(15) != 0;
  return t;
}

Status Run(Stmt* s) {
  auto r = s->Step();
  s->Reset();
  return r.ok() ? Status::Ok() : r.status();
}

}  // namespace

std::string TransfersJson(const std::vector<Transfer>& transfers) {
  namespace json = boost::json;
  json::array list;
  for (const Transfer& t : transfers) {
    auto str = [](const char* name, const std::string& v) {
      return json::object{{"name", name}, {"valueString", v}};
    };
    auto num = [](const char* name, int64_t v) {
      return json::object{{"name", name}, {"valueInteger", v}};
    };
    auto when = [](const char* name, int64_t ms) {
      return json::object{{"name", name}, {"valueInstant", FormatInstant(ms)}};
    };
    json::array parts{str("id", t.id), str("direction", t.direction), str("patient", t.nhs),
                      str("peer", t.peer), str("state", t.state), num("total", t.total),
                      num("received", t.received), num("withheld", t.withheld),
                      num("chunks", t.chunks), num("chunksDone", t.next_chunk),
                      when("created", t.created_ms), when("updated", t.updated_ms),
                      num("attempts", t.attempts),
                      json::object{{"name", "notified"}, {"valueBoolean", t.notified}}};
    if (!t.reason.empty()) parts.push_back(str("reason", t.reason));
    if (!t.last_error.empty()) parts.push_back(str("lastError", t.last_error));
    list.push_back(json::object{{"name", "transfer"}, {"part", std::move(parts)}});
  }
  json::object params{{"resourceType", "Parameters"}};
  if (!list.empty()) params["parameter"] = std::move(list);
  return json::serialize(params);
}

TransferLog::TransferLog(std::unique_ptr<Db> db) : db_(std::move(db)) {}
TransferLog::~TransferLog() = default;

Result<std::unique_ptr<TransferLog>> TransferLog::Open(const std::string& data_dir) {
  CRS_ASSIGN_OR_RETURN(auto db, Db::Open(data_dir + "/outbox.db", /*create=*/true));
  CRS_RETURN_IF_ERROR(db->Exec(kSchema));
  return std::unique_ptr<TransferLog>(new TransferLog(std::move(db)));
}

Status TransferLog::Insert(const Transfer& t, const std::vector<TransferItem>& manifest) {
  std::lock_guard<std::mutex> lock(mu_);
  CRS_RETURN_IF_ERROR(db_->Exec("BEGIN IMMEDIATE"));
  auto rollback = [&](Status st) {
    (void)db_->Exec("ROLLBACK");
    return st;
  };
  auto insert = db_->Prepare(kInsert);
  if (!insert.ok()) return rollback(insert.status());
  BindTransfer(*insert, t);
  if (Status st = Run(*insert); !st.ok()) return rollback(st);
  auto item = db_->Prepare(kInsertItem);
  if (!item.ok()) return rollback(item.status());
  int64_t n = 0;
  for (const TransferItem& i : manifest) {
    (*item)->Bind(1, t.id);
    (*item)->Bind(2, n++);
    (*item)->Bind(3, i.type);
    (*item)->Bind(4, i.id);
    (*item)->Bind(5, i.version);
    if (Status st = Run(*item); !st.ok()) return rollback(st);
  }
  return db_->Exec("COMMIT");
}

Result<Transfer> TransferLog::Get(const std::string& id) {
  std::lock_guard<std::mutex> lock(mu_);
  CRS_ASSIGN_OR_RETURN(Stmt * s, db_->PrepareDynamic(kGet));
  s->Bind(1, id);
  CRS_ASSIGN_OR_RETURN(bool row, s->Step());
  if (!row) {
    s->Reset();
    return Status::NotFound("no such transfer");
  }
  Transfer t = ReadTransfer(*s);
  s->Reset();
  return t;
}

Status TransferLog::Update(const Transfer& t) {
  std::lock_guard<std::mutex> lock(mu_);
  CRS_ASSIGN_OR_RETURN(Stmt * s, db_->Prepare(kUpdate));
  BindTransfer(s, t);
  return Run(s);
}

Result<std::vector<Transfer>> TransferLog::Query(const char* sql) {
  std::lock_guard<std::mutex> lock(mu_);
  return QueryLocked(sql);
}

Result<std::vector<Transfer>> TransferLog::QueryLocked(const char* sql) {
  CRS_ASSIGN_OR_RETURN(Stmt * s, db_->PrepareDynamic(sql));
  std::vector<Transfer> out;
  CRS_RETURN_IF_ERROR(EachRow(s, [&](const Stmt& row) { out.push_back(ReadTransfer(row)); }));
  return out;
}

Result<std::vector<Transfer>> TransferLog::Pending() { return Query(kOpen.c_str()); }
Result<std::vector<Transfer>> TransferLog::Failed() { return Query(kFailed.c_str()); }

Result<Transfer> TransferLog::Replay(const std::string& id, const std::string& new_id,
                                     int64_t now_ms) {
  std::lock_guard<std::mutex> lock(mu_);
  CRS_RETURN_IF_ERROR(db_->Exec("BEGIN IMMEDIATE"));
  auto fail = [&](Status st) -> Result<Transfer> {
    (void)db_->Exec("ROLLBACK");
    return st;
  };
  auto transfers = QueryLocked(kList.c_str());
  if (!transfers.ok()) return fail(transfers.status());
  const Transfer* old = nullptr;
  for (const Transfer& t : *transfers) {
    if (t.id == id) old = &t;
  }
  if (!old) return fail(Status::NotFound("no transfer " + id));
  if (old->direction != "in") {
    return fail(Status::Invalid("transfer " + id + " was sent by this practice: the practice that "
                                "asked for it asks again"));
  }
  if (old->state != "failed" && old->state != "rejected") {
    return fail(Status::Invalid("transfer " + id + " has not failed (" + old->state + ")"));
  }
  auto replayed = db_->Prepare("SELECT replay FROM transfer_replays WHERE failed = ?1");
  if (!replayed.ok()) return fail(replayed.status());
  (*replayed)->Bind(1, id);
  auto found = (*replayed)->Step();
  std::string by = found.ok() && *found ? std::string((*replayed)->Text(0)) : "";
  (*replayed)->Reset();
  if (!by.empty()) return fail(Status::Conflict("transfer " + id + " was replayed already as " + by));
  for (const Transfer& t : *transfers) {
    if (t.direction == "in" && t.nhs == old->nhs && t.peer == old->peer && !Final(t.state)) {
      return fail(Status::Conflict("a transfer of this record from " + t.peer +
                                   " is under way: " + t.id));
    }
  }
  Transfer fresh;
  fresh.id = new_id;
  fresh.direction = "in";
  fresh.nhs = old->nhs;
  fresh.peer = old->peer;
  fresh.state = "requested";
  fresh.created_ms = fresh.updated_ms = now_ms;
  auto insert = db_->Prepare(kInsert);
  if (!insert.ok()) return fail(insert.status());
  BindTransfer(*insert, fresh);
  if (Status st = Run(*insert); !st.ok()) return fail(st);
  auto link = db_->Prepare("INSERT INTO transfer_replays (failed, replay) VALUES (?1, ?2)");
  if (!link.ok()) return fail(link.status());
  (*link)->Bind(1, id);
  (*link)->Bind(2, new_id);
  if (Status st = Run(*link); !st.ok()) return fail(st);
  CRS_RETURN_IF_ERROR(db_->Exec("COMMIT"));
  return fresh;
}
Result<std::vector<Transfer>> TransferLog::List() { return Query(kList.c_str()); }

Result<std::vector<TransferItem>> TransferLog::Items(const std::string& id, int64_t first,
                                                     int64_t count) {
  std::lock_guard<std::mutex> lock(mu_);
  CRS_ASSIGN_OR_RETURN(Stmt * s, db_->Prepare(kItems));
  s->Bind(1, id);
  s->Bind(2, first);
  s->Bind(3, first + count);
  std::vector<TransferItem> out;
  while (true) {
    auto row = s->Step();
    if (!row.ok()) {
      s->Reset();
      return row.status();
    }
    if (!*row) break;
    out.push_back({std::string(s->Text(0)), std::string(s->Text(1)), s->Int(2)});
  }
  s->Reset();
  return out;
}

}  // namespace crs::federation
