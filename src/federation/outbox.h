// The node's outbox state (docs/federation.md): what this node still has to
// tell other nodes, and what it could not.
//
// Messages are not copied into the outbox: they are derived from the store's
// change feed (Store::Changes), which is durable and ordered already, so a
// write and the duty to publish it can never be separated by a crash. The
// outbox keeps, in DATA/outbox.db (SQLite, WAL):
//   - a cursor per feed: the last store seq a publisher has delivered;
//   - the dead-letter list: messages the receiver refused for good (a 4xx
//     other than 408/429), with the refusal, for an operator to inspect and
//     replay (`crs outbox list|replay`).
// The file is shared by `crs serve` and the `crs outbox` command.
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

struct DeadLetter {
  int64_t id = 0;
  int64_t created_ms = 0;
  std::string feed;     // e.g. "pointers"
  std::string method;   // PUT, DELETE, POST
  std::string target;   // path below the receiver's FHIR base, e.g. DocumentReference/Y12345-Encounter-1
  std::string body;     // request body (may be empty)
  std::string error;    // the receiver's answer (status and diagnostics)
  int attempts = 0;
  bool replay = false;  // an operator asked for it to be sent again
};

class Outbox {
 public:
  // Opens (creating) DATA/outbox.db.
  static Result<std::unique_ptr<Outbox>> Open(const std::string& data_dir);
  ~Outbox();

  Result<int64_t> Cursor(const std::string& feed);
  Status SetCursor(const std::string& feed, int64_t seq);

  Status AddDead(const DeadLetter& letter);
  Result<std::vector<DeadLetter>> ListDead();
  // Marks one dead letter (id > 0) or all of them (id == 0) for replay;
  // returns how many were marked.
  Result<int> MarkReplay(int64_t id);
  Result<std::vector<DeadLetter>> TakeReplays();
  Status RemoveDead(int64_t id);
  // Records another failed attempt of a replayed letter (and clears its
  // replay mark).
  Status FailedAgain(int64_t id, const std::string& error);

 private:
  explicit Outbox(std::unique_ptr<store::sqlite::Db> db);
  std::mutex mu_;
  std::unique_ptr<store::sqlite::Db> db_;
};

}  // namespace crs::federation
