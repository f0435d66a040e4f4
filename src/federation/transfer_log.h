// The durable state of GP2GP record transfers (docs/federation.md, "GP2GP"),
// kept beside the outbox in DATA/outbox.db.
//
// Each node keeps the transfers it takes part in:
//   - direction "in" (this node is the new practice): requested → receiving
//     → accepted, or failed/rejected with a reason; `notified` says whether
//     the old practice has heard the outcome;
//   - direction "out" (this node is the old practice): sending → sent →
//     accepted, or rejected/failed with a reason. Its manifest — the record
//     as it stood when the transfer began, one (type, id, version) per item
//     — is fixed in the same transaction as the transfer row, so every
//     chunk is served from the same snapshot, across restarts.
// The file is shared by `crs serve` and `crs transfer list`.
//
// Thread safety: every method may be called from any thread.
#pragma once

#include <cstdint>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "core/status.h"

namespace crs::store::sqlite {
class Db;
}

namespace crs::federation {

struct Transfer {
  std::string id;         // "<new practice ODS>-<uuid>"
  std::string direction;  // "in" | "out"
  std::string nhs;        // the patient's NHS number
  std::string peer;       // the other practice's ODS code
  std::string state;      // see the header comment
  std::string reason;     // why it failed or was rejected ("" otherwise)
  int64_t created_ms = 0;
  int64_t updated_ms = 0;
  int64_t total = 0;      // items in the record (as the old practice counted them)
  int64_t chunks = 0;     // chunks in the record (0: not yet known)
  int64_t next_chunk = 0; // "in": the next chunk to fetch; "out": chunks served so far
  int64_t received = 0;   // "in": items committed here
  int64_t withheld = 0;   // items sealed and locked by their author: not transferred
  int64_t attempts = 0;   // transient failures so far
  std::string last_error;
  bool notified = false;  // "in": the old practice acknowledged the outcome
};

struct TransferItem {
  std::string type, id;
  int64_t version = 0;
};

// Transfers as a FHIR Parameters resource (JSON): one "transfer" parameter
// per transfer, its fields as parts (id, direction, patient, peer, state,
// reason, total, received, withheld, chunks, chunksDone, created, updated,
// attempts, lastError, notified).
std::string TransfersJson(const std::vector<Transfer>& transfers);

class TransferLog {
 public:
  // Opens (creating its tables in) DATA/outbox.db.
  static Result<std::unique_ptr<TransferLog>> Open(const std::string& data_dir);
  ~TransferLog();

  // Adds a transfer with its manifest (empty for "in"), atomically.
  // Conflict when the id exists.
  Status Insert(const Transfer& t, const std::vector<TransferItem>& manifest);
  Result<Transfer> Get(const std::string& id);  // NotFound when unknown
  Status Update(const Transfer& t);
  // Transfers still under way or whose outcome the peer has not heard.
  Result<std::vector<Transfer>> Pending();
  Result<std::vector<Transfer>> List();  // all, oldest first
  // The transfer dead letters: failed or rejected transfers (either
  // direction) not replayed yet, oldest first.
  Result<std::vector<Transfer>> Failed();
  // An operator's replay of failed or rejected transfer `id` of this
  // (the new) practice: a new transfer `new_id` of the same record from the
  // same practice, requested now; the running node's worker picks it up.
  // Invalid for a transfer that is not "in" or has not failed; Conflict
  // when it was replayed already or another transfer of the record is
  // under way.
  Result<Transfer> Replay(const std::string& id, const std::string& new_id, int64_t now_ms);
  // Items [first, first + count) of a transfer's manifest, in order.
  Result<std::vector<TransferItem>> Items(const std::string& id, int64_t first, int64_t count);

  static bool Final(const std::string& state) {
    return state == "accepted" || state == "rejected" || state == "failed";
  }

 private:
  explicit TransferLog(std::unique_ptr<store::sqlite::Db> db);
  Result<std::vector<Transfer>> Query(const char* sql);
  Result<std::vector<Transfer>> QueryLocked(const char* sql);  // mu_ held
  std::mutex mu_;
  std::unique_ptr<store::sqlite::Db> db_;  // GUARDED_BY(mu_)
};

}  // namespace crs::federation
