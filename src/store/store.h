// The Store contract: durable, versioned storage of FHIR resources.
//
// One interface, two backends (store/sqlite/, store/postgres/);
// callers obtain one from OpenStore() and never see the concrete class.
//
// The model is optimistic concurrency. The API layer reads the current
// version, prepares the next version's bytes (with meta.versionId and
// meta.lastUpdated already set), and submits a WriteBatch whose every Write
// names the version it expects to replace. Commit() applies the whole batch
// atomically or not at all: if any expectation fails nothing is written and
// Conflict is returned, so the caller can re-read and retry. Because the body
// bytes are final when they reach the store, a read returns them untouched.
//
// Durability: when Commit() returns OK the batch is on stable storage and
// survives a crash of the process or the machine.
//
// Thread safety: every method may be called concurrently from any thread.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/status.h"
#include "fhir/index/index_entries.h"
#include "store/search_query.h"

namespace crs::store {

// How a version came to be, for history's Bundle.entry.request.method.
// kPurge is not a FHIR interaction: it erases a resource and every one of its
// versions, as if it had never been stored (a patient's withdrawn consent
// withholds their summary: not stored, not merely hidden). A purge ignores
// expected_version and succeeds when there is nothing to erase.
// kReindex is not an interaction either, and never becomes a version: it
// replaces what the store derives from the current version (search-index
// rows, access facts, relationships) with the write's `index` and `access`,
// as `crs reindex` does after the extraction rules change. It applies only
// when expected_version is still the current, non-deleted version, and is
// otherwise a no-op (a newer write has derived its own rows); its `body`
// is ignored.
enum class Method : char {
  kCreate = 'C',
  kUpdate = 'U',
  kDelete = 'D',
  kPatch = 'P',
  kPurge = 'X',
  kReindex = 'R',
};

// Who a resource concerns and how it is labelled: what the access layer
// (src/access/) needs to decide who may see it, stored beside the resource so
// that searches apply the decision inside the query. Computed from the body
// by access::ComputeFacts when the API prepares a write.
struct AccessFacts {
  // The patient (id) the resource belongs to: the Patient itself, or the one
  // patient its patient-compartment references name. "" when it concerns no
  // patient (Organization, Practitioner, ...); "*" when it names several
  // (visible only to callers who may see any patient).
  std::string patient;
  // Bit flags from meta.security.
  enum Label : uint32_t {
    kSealed = 1,      // confidentiality R on a clinical resource (sealed envelope)
    kLocked = 2,      // confidentiality V (sealed and locked)
    kVip = 4,         // CEL or EMP: every access alerts the privacy officer
    kRestricted = 8,  // R on a Patient: restricted demographics (PDS "sensitive")
  };
  uint32_t labels = 0;
  std::string author_org;  // ODS code of the organisation that wrote it first
  // Organisations this resource gives a legitimate relationship with
  // `patient`: a registration (Patient.generalPractitioner), an active
  // episode of care, an open encounter, an active referral.
  std::vector<std::string> relationship_orgs;
};

struct ResourceVersion {
  std::string type;
  std::string id;
  int64_t version = 0;          // 1, 2, ...
  int64_t last_updated_ms = 0;  // milliseconds since the Unix epoch
  Method method = Method::kCreate;
  bool deleted = false;         // a delete marker: no body
  std::string body;             // the resource's JSON text; empty when deleted
  int64_t seq = 0;              // position in the store-wide history order
  // The resource's current access facts (patient, labels, author_org;
  // relationship_orgs is not read back).
  AccessFacts access;
};

struct Write {
  std::string type;
  std::string id;
  // The version this write replaces: 0 when the resource must not exist yet
  // (not even as deleted). The stored version becomes expected_version + 1.
  int64_t expected_version = 0;
  int64_t last_updated_ms = 0;
  Method method = Method::kCreate;
  std::string body;  // final JSON text; ignored for kDelete
  // Search-index rows of `body`, replacing the resource's previous rows in the
  // same transaction. Shared (not unique) because a prepared write is copied
  // into its batch and may be retried. Null for deletes (rows are removed).
  std::shared_ptr<const fhir::index::IndexEntries> index;
  // Access facts of `body`; null leaves the resource invisible to every
  // caller that is restricted to patients (patient "?").
  std::shared_ptr<const AccessFacts> access;
};

// One audit record to append to the hash-chained audit log (docs/audit.md).
// The store treats `record` as opaque bytes: it hashes them into the chain
// exactly as given; the other fields feed the query indexes only.
struct AuditInput {
  int64_t time_ms = 0;                // when the interaction happened (ms since the epoch)
  std::string record;                 // the record's JSON (audit/record.h), hashed as is
  std::vector<std::string> patients;  // patient ids (NHS numbers) it concerns; indexed
  std::string alert_org;              // non-empty: an alert for this org's privacy officer
  int64_t reviews_alert = 0;          // non-zero: this record marks alert <seq> reviewed
  // Alerts only, for the alert list's filters (AuditQuery): the alert codes
  // as kAlertBit* flags, and the user whose access raised it (id and name).
  int64_t alert_codes = 0;
  std::string alert_user;
  std::string alert_user_name;
};

// The alert codes as the alert index keeps them (audit_alert.codes, a bit
// set; docs/audit.md): break-glass, self-claimed, sealed-access, vip,
// volume, patient-reported. audit/record.h maps the codes onto these.
inline constexpr int64_t kAlertBitBreakGlass = 1;
inline constexpr int64_t kAlertBitSelfClaimed = 2;
inline constexpr int64_t kAlertBitSealedAccess = 4;
inline constexpr int64_t kAlertBitVip = 8;
inline constexpr int64_t kAlertBitVolume = 16;
inline constexpr int64_t kAlertBitPatientReported = 32;

struct WriteBatch {
  std::vector<Write> writes;
  // Audit records appended in the same transaction as `writes`: a write's
  // audit record costs no extra fsync. When the batch fails (Conflict)
  // nothing of it is written, audit included; when it is an idempotent
  // replay (already_applied) the audit records are still appended.
  std::vector<AuditInput> audit;
  // Optional idempotency key (X-Request-ID of the request that made it):
  // a batch whose key was already committed is not applied again, and
  // Commit() reports already_applied in CommitResult.
  std::string idempotency_key;
};

struct VersionRef {
  std::string type;
  std::string id;
  int64_t version = 0;
};

struct CommitResult {
  // True when the idempotency key had been committed before: nothing was
  // written now, and `applied` describes what the earlier commit wrote.
  bool already_applied = false;
  std::vector<VersionRef> applied;  // one per write, in batch order
};

struct HistoryQuery {
  std::optional<std::string> type;  // absent: system-level history
  std::optional<std::string> id;    // requires type
  std::optional<int64_t> since_ms;  // only versions with last_updated >= since
  int64_t before_seq = 0;           // keyset cursor: only versions with seq < this (0: newest)
  int count = 50;
  // Only versions of resources the caller may see (null: unrestricted).
  std::shared_ptr<const AccessFilter> access;
};

struct HistoryPage {
  std::vector<ResourceVersion> versions;  // newest first
  int64_t next_before_seq = 0;            // 0 when there is no further page
};

// An audit record as stored: its position in the chain and its chain hash.
struct StoredAudit {
  int64_t seq = 0;          // 1, 2, ... with no gaps: the chain's total order
  int64_t time_ms = 0;      // AuditInput::time_ms (an index column, not hashed)
  std::string record;       // the appended bytes, untouched
  std::string hash;         // 32 bytes: SHA-256(prev hash || seq BE64 || record)
  std::string alert_org;    // non-empty when the record is an alert
  int64_t reviewed_by = 0;  // for alerts: seq of the record that reviewed it, 0 if none
};

// One audit record as a streaming scan sees it (Store::ScanAuditRows). The
// views point into the backend's row buffers: valid only inside the callback
// that receives them, never to be kept.
struct AuditRowView {
  int64_t seq = 0;
  int64_t time_ms = 0;
  std::string_view record;  // StoredAudit::record
  std::string_view hash;    // StoredAudit::hash
};

// A signed statement "the chain through `seq` has head `head_hash`"
// (message: store/audit_chain.h CheckpointMessage).
struct AuditCheckpoint {
  int64_t seq = 0;
  int64_t time_ms = 0;
  std::string head_hash;  // 32 bytes: StoredAudit::hash of record `seq`
  std::string key_id;     // which signing key (audit/signing.h KeyId)
  std::string signature;  // 64 bytes Ed25519
};

// Records about one patient, or alerts for one organisation, newest first.
// At least one of `patient` and `alert_org` is set; with both, the alerts
// concerning that patient.
struct AuditQuery {
  std::string patient;
  std::string alert_org;
  bool unreviewed_only = false;  // alerts only: skip reviewed ones
  int64_t before_seq = 0;        // keyset cursor: only seq < this (0: newest)
  int count = 50;
  // Alerts only; every filter set must hold:
  bool reviewed_only = false;    // skip open ones
  // Each entry: the alert carries at least one of these kAlertBit* codes.
  std::vector<int64_t> code_masks;
  // The user whose access raised the alert: their id equals this, or their
  // name contains it (ASCII letters in either case).
  std::string user;
  int64_t from_ms = INT64_MIN;  // record time >= this
  int64_t to_ms = INT64_MAX;    // record time < this
};

struct AuditPage {
  std::vector<StoredAudit> records;  // newest first
  int64_t next_before_seq = 0;       // 0 when there is no further page
};

struct StoreStats {
  int64_t resources = 0;
  int64_t versions = 0;
  int64_t replica_reads = 0;  // reads answered by a read replica since the store opened
};

class Store {
 public:
  virtual ~Store() = default;

  // The current version of a resource, including a delete marker (deleted=true).
  // NotFound when it never existed.
  virtual Result<ResourceVersion> Read(std::string_view type, std::string_view id) = 0;

  // A specific version. NotFound when there is no such version.
  virtual Result<ResourceVersion> ReadVersion(std::string_view type, std::string_view id,
                                              int64_t version) = 0;

  // Versions newest first, paged by a keyset cursor that stays stable while writes land.
  virtual Result<HistoryPage> History(const HistoryQuery& query) = 0;

  // The change feed: every stored version with seq > after_seq (delete
  // markers included, purged ones gone), oldest first, at most `limit`.
  // A version becomes visible here only once committed, and in seq order:
  // a reader that has seen seq N never later finds a new version below N,
  // so a consumer may keep just the last seq it handled as its cursor
  // (federation's outbox does: docs/federation.md).
  virtual Result<std::vector<ResourceVersion>> Changes(int64_t after_seq, int limit) = 0;

  // Applies `batch` atomically and durably. Conflict when a write's expected
  // version does not match (nothing is applied); Unavailable on I/O failure.
  virtual Result<CommitResult> Commit(const WriteBatch& batch) = 0;

  // Commit without waiting: `done` gets what Commit would have returned,
  // once the batch is durable or has failed. It runs on the store's writer
  // thread (or on the caller's, when the store refuses the batch at once or
  // has no writer thread), so, as AppendAudit's, it must be cheap and must
  // not call back into the store synchronously. The default commits on the
  // caller's thread.
  virtual void CommitAsync(WriteBatch batch, std::function<void(Result<CommitResult>)> done) {
    done(Commit(batch));
  }

  // Current, non-deleted resources of query.type matching every predicate,
  // in a stable order, paged by a keyset cursor (query.after_rid).
  virtual Result<SearchResult> Search(const SearchQuery& query) = 0;

  // The members of a compartment (SearchMatch.type is set on every match).
  virtual Result<SearchResult> Compartment(const CompartmentQuery& query) = 0;

  // Durably advances the counter `name` (created at 0 on first use) by
  // `count` and returns its value before the advance: the caller owns the
  // values [first, first + count). No value is ever handed out twice, by
  // this process or any other sharing the store, even across crashes (a
  // crash may leave values of a reserved block unused, never reused).
  // Invalid when count < 1 or name is empty; Unavailable on I/O failure.
  virtual Result<int64_t> ReserveSequence(std::string_view name, int64_t count) = 0;

  // The ids, in byte order, of the first `limit` resources of `type`
  // (current or deleted) with lo <= id <= hi. An index range on the
  // primary. The NHS-number allocator walks past the numbers an import or
  // another writer took with it (api/nhs_allocator.h).
  virtual Result<std::vector<std::string>> IdsBetween(std::string_view type, std::string_view lo,
                                                      std::string_view hi, int limit) = 0;

  // Whether some current resource gives organisation `org` a legitimate
  // relationship with `patient` (AccessFacts::relationship_orgs).
  virtual Result<bool> HasRelationship(std::string_view org, std::string_view patient) = 0;

  // Appends audit records asynchronously: they are queued for the writer and
  // committed with its next group (sharing its fsync); `done` runs once they
  // are durable (OK) or could not be written (Unavailable, also when the
  // store is closing). Never blocks the caller on I/O. `done` runs on the
  // writer thread, or on the caller's thread when the store refuses the
  // records at once; it must be cheap and must not call back into the
  // store synchronously. Records of one call stay contiguous and in order.
  virtual void AppendAudit(std::vector<AuditInput> records,
                           std::function<void(Status)> done) = 0;

  // Records concerning query.patient, or alerts for query.alert_org (with
  // the query's filters). Invalid when neither is set, or when a filter
  // is set without alert_org.
  virtual Result<AuditPage> QueryAudit(const AuditQuery& query) = 0;

  // One record. NotFound when there is no record `seq`.
  virtual Result<StoredAudit> ReadAudit(int64_t seq) = 0;

  // Up to `limit` records with seq > after_seq, oldest first (verification,
  // copying a node). An empty result means the end of the log.
  virtual Result<std::vector<StoredAudit>> ScanAudit(int64_t after_seq, int limit) = 0;

  // Calls `fn` on each record with seq > after_seq, oldest first, without
  // copying it, until the log ends or `fn` returns false. One call reads one
  // consistent snapshot, which a long scan keeps open (on SQLite it holds
  // back WAL checkpoints): a caller walking a large live log stops now and
  // then and resumes after the last seq it saw. `fn` runs on the caller's
  // thread and must not call back into the store. Returns the store's error
  // if it could not be read (`fn` may have seen some records by then).
  virtual Status ScanAuditRows(int64_t after_seq,
                               const std::function<bool(const AuditRowView&)>& fn) = 0;

  // Up to `limit` checkpoints with seq > after_seq, oldest first.
  virtual Result<std::vector<AuditCheckpoint>> ScanAuditCheckpoints(int64_t after_seq,
                                                                    int limit) = 0;

  // Whether writes keep the full-text index (StoreOptions::fulltext kOn or
  // kRebuild): callers then fill IndexEntries::fulltext, and searches may
  // use _text and _content. Constant for the store's life.
  virtual bool KeepsFullText() const = 0;

  // Records that every current resource has its full-text rows (`crs
  // reindex` calls it after a complete pass), so that nodes started with
  // --fulltext accept the store. Invalid when the store does not keep the
  // index.
  virtual Status MarkFullTextComplete() = 0;

  // Whether writes keep the trace keys (StoreOptions::trace_keys kOn):
  // callers then add them to a Patient's IndexEntries (AddTraceKeys).
  // Constant for the store's life.
  virtual bool KeepsTraceKeys() const = 0;
  // Whether the store keeps them and every Patient in it has them
  // (fhir/index/trace_keys.h): a trace relies on them only then. True for a
  // store that held no Patient when it was first opened keeping them, and
  // after `crs reindex --trace-keys` over Patients (which calls
  // MarkTraceKeysComplete). Read at open; on PostgreSQL, while it was true
  // then, read again on every call: another node sharing the database
  // without them lowers it when it opens, before it writes a Patient.
  virtual bool TraceKeysComplete() = 0;
  // Invalid when the store does not keep them.
  virtual Status MarkTraceKeysComplete() = 0;

  // A store opened with StoreOptions::defer_index: puts the search-index
  // rows its writes deferred into the index, calling `progress` now and
  // then (a table's name, rows done, rows in all). Until then searches miss
  // them. Other stores: nothing to do.
  virtual Status FinishBulkLoad(
      const std::function<void(std::string_view table, int64_t done, int64_t total)>& progress) {
    (void)progress;
    return Status::Ok();
  }

  // OK when the store can serve requests (used by /readyz).
  virtual Status Ping() = 0;

  virtual Result<StoreStats> Stats() = 0;
};

// The full-text index (_text, _content; docs/storage.md "Full-text index").
enum class FullTextMode {
  kUntouched,  // writes keep no full-text rows and the index's state is left
               // as it is: only for tools that write no resources
  kOff,      // writes keep no full-text rows; the index is marked incomplete
  kOn,       // writes keep them; opening fails (Unavailable) while the index
             // is incomplete and the store holds resources: run crs reindex
  kRebuild,  // writes keep them and opening never fails (crs reindex)
};

// Trace keys (fhir/index/trace_keys.h; docs/storage.md "Trace keys").
enum class TraceKeysMode {
  kUntouched,  // writes keep none and the keys' state is left as it is:
               // only for tools that write no Patient
  kOff,        // writes keep none; the keys are marked incomplete
  kOn,         // writes keep them; a store holding no Patient is marked
               // complete, any other stays as it was until crs reindex
};

// Why a store opened with FullTextMode::kOn refused an incomplete index.
inline constexpr std::string_view kFullTextIncomplete =
    "the full-text index is incomplete (the store holds resources written without it): stop the "
    "node and run `crs reindex --fulltext` first";

struct StoreOptions {
  // "sqlite:" (the default file inside data_dir), "sqlite:PATH", or
  // "postgres://user@host:port/db" (any libpq connection URI; builds with
  // the PostgreSQL backend only).
  std::string url = "sqlite:";
  std::string data_dir = "./data";
  // Group commit: the most batches one transaction may carry.
  int max_group = 256;
  // A bulk writer (`crs import`, `crs reindex` on a stopped node): SQLite's
  // writer keeps a page cache of a quarter of the machine's memory (at most
  // 4 GB) instead of 512 MB and lets the resource file's WAL grow to ~1 GB
  // between checkpoints instead of ~40 MB (docs/storage.md).
  bool bulk_load = false;
  // SQLite, with bulk_load (`crs import` on a stopped node): writes keep
  // their largest search-index rows aside as sorted runs, and
  // FinishBulkLoad merges them into the index in key order
  // (store/sqlite/index_runs.h). Opened without it, a store with runs left
  // by an interrupted import merges them before it serves.
  bool defer_index = false;
  // SQLite keeps part of the audit patient index in the writer's memory
  // until it writes a run (docs/audit.md, "The patient index"); at open it
  // re-derives what the last process left unwritten, and it writes runs.
  // False for a tool that may open a live node's store without the node's
  // lock (`crs audit verify`): it then leaves the index to the node.
  bool audit_index_owner = true;
  // PostgreSQL: the most reader connections open at once (the writer has
  // one more of its own), per server.
  int pool_size = 16;
  // PostgreSQL: hot-standby replicas (libpq URIs) that answer reads and
  // searches, each only once it has replayed every acknowledged write
  // (read-your-writes); the primary answers otherwise. Audit reads always go
  // to the primary.
  std::vector<std::string> replicas;
  // PostgreSQL: the most a replica may lag and still answer anyone: a read
  // needs every write acknowledged this long ago (and the caller's own
  // writes, whenever made), or the primary answers it. A replica that falls
  // further behind is out of rotation until it catches up.
  int64_t replica_max_lag_ms = 5000;
  FullTextMode fulltext = FullTextMode::kUntouched;
  TraceKeysMode trace_keys = TraceKeysMode::kUntouched;
  // zstd level for resource bodies (1 = fastest).
  int compression_level = 3;
  // Signs audit checkpoints: returns the 64-byte Ed25519 signature of a
  // message (audit/signing.h). Unset: no checkpoints are written (tests,
  // read-only tools). Called on the writer thread.
  std::function<std::string(std::string_view message)> audit_sign;
  std::string audit_key_id;  // stored with each checkpoint
  // A checkpoint is written once records have been appended after the last
  // one and either this much time has passed or this many records arrived;
  // also when the writer idles and at clean shutdown.
  int64_t audit_checkpoint_interval_ms = 1000;
  int64_t audit_checkpoint_records = 100000;
  // Commit delay for audit records (the analogue of PostgreSQL's
  // commit_delay): when the writer wakes to records of concurrent requests
  // (at least two queued, no write batch among them), it waits while more
  // keep arriving, at most this long and for at most audit_commit_group of
  // them, so that one commit and one fsync serve many reads
  // (docs/storage.md, "Write path"). A lone request is never delayed. 0: off.
  int64_t audit_commit_delay_us = 1000;
  size_t audit_commit_group = 64;
  // Clock for checkpoint times and intervals (ms since the epoch); unset: system clock.
  std::function<int64_t()> now_ms;
};

// Opens (creating and migrating if needed) the store named by options.url.
Result<std::unique_ptr<Store>> OpenStore(const StoreOptions& options);

// Creates or migrates the schema of the store named by options.url to the
// version this binary knows, without serving it; returns a one-line report
// ("PostgreSQL schema version 0 -> 1"). Unavailable when the store cannot be
// reached or its schema is newer than this binary.
Result<std::string> MigrateStore(const StoreOptions& options);

// Copies every resource, version, search-index row, relationship, counter
// and audit record (with its hashes and signed checkpoints, byte for byte)
// from the store `from` to the store `to`, which is created or migrated
// first and must hold no data (Conflict otherwise). Nothing may write
// either store meanwhile. Supported: from "sqlite:..." to "postgres://..."
// (Invalid otherwise). `progress` (optional) hears each table and its row
// count.
Status CopyStore(const StoreOptions& from, const StoreOptions& to,
                 const std::function<void(const std::string& table, int64_t rows)>& progress);

}  // namespace crs::store
