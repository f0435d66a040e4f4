// The SQLite schema, versioned. Documented in docs/storage.md.
#pragma once

namespace crs::store::sqlite {

inline constexpr int kSchemaVersion = 14;

// Migration i (1-based) brings a database from version i-1 to version i.
inline constexpr const char* kMigrations[] = {
    // 1: resources, their versions, idempotency keys.
    R"sql(
CREATE TABLE resources (
  rid      INTEGER PRIMARY KEY,
  type     TEXT    NOT NULL,
  id       TEXT    NOT NULL,
  version  INTEGER NOT NULL,
  cur_seq  INTEGER NOT NULL,
  deleted  INTEGER NOT NULL,
  UNIQUE (type, id)
);
CREATE TABLE versions (
  seq          INTEGER PRIMARY KEY AUTOINCREMENT,
  rid          INTEGER NOT NULL,
  type         TEXT    NOT NULL,
  version      INTEGER NOT NULL,
  last_updated INTEGER NOT NULL,
  method       INTEGER NOT NULL,
  body         BLOB
);
CREATE UNIQUE INDEX versions_by_resource ON versions (rid, version);
CREATE INDEX versions_by_type ON versions (type, seq);
CREATE INDEX resources_by_type ON resources (type, deleted);
CREATE TABLE idempotency (
  key     TEXT PRIMARY KEY,
  created INTEGER NOT NULL,
  result  TEXT NOT NULL
) WITHOUT ROWID;
)sql",
    // Search index (docs/search-index.md): one table per row type, current
    // versions only. `pid` names a (resource type, parameter code) in `sp`.
    R"sql(
CREATE TABLE sp (
  pid  INTEGER PRIMARY KEY,
  type TEXT NOT NULL,
  code TEXT NOT NULL,
  UNIQUE (type, code)
);
CREATE TABLE ix_string (pid INTEGER NOT NULL, norm TEXT NOT NULL, exact TEXT NOT NULL,
                        rid INTEGER NOT NULL, PRIMARY KEY (pid, norm, exact, rid)) WITHOUT ROWID;
CREATE INDEX ix_string_by_rid ON ix_string (rid, pid);
CREATE TABLE ix_token (pid INTEGER NOT NULL, code TEXT NOT NULL, system TEXT NOT NULL,
                       text TEXT NOT NULL, type_system TEXT NOT NULL, type_code TEXT NOT NULL,
                       rid INTEGER NOT NULL,
                       PRIMARY KEY (pid, code, system, rid, text, type_system, type_code))
                       WITHOUT ROWID;
CREATE INDEX ix_token_by_rid ON ix_token (rid, pid);
CREATE TABLE ix_date (pid INTEGER NOT NULL, lo INTEGER NOT NULL, hi INTEGER NOT NULL,
                      rid INTEGER NOT NULL, PRIMARY KEY (pid, lo, hi, rid)) WITHOUT ROWID;
CREATE INDEX ix_date_by_rid ON ix_date (rid, pid);
CREATE TABLE ix_number (pid INTEGER NOT NULL, val REAL, lo REAL NOT NULL, hi REAL NOT NULL,
                        rid INTEGER NOT NULL);
CREATE INDEX ix_number_by_value ON ix_number (pid, val, rid);
CREATE INDEX ix_number_by_rid ON ix_number (rid, pid);
CREATE TABLE ix_quantity (pid INTEGER NOT NULL, system TEXT NOT NULL, code TEXT NOT NULL,
                          unit TEXT NOT NULL, val REAL, lo REAL NOT NULL, hi REAL NOT NULL,
                          rid INTEGER NOT NULL);
CREATE INDEX ix_quantity_by_value ON ix_quantity (pid, val, rid);
CREATE INDEX ix_quantity_by_rid ON ix_quantity (rid, pid);
CREATE TABLE ix_ref (pid INTEGER NOT NULL, tid TEXT NOT NULL, ttype TEXT NOT NULL,
                     url TEXT NOT NULL, rid INTEGER NOT NULL,
                     PRIMARY KEY (pid, tid, ttype, url, rid)) WITHOUT ROWID;
CREATE INDEX ix_ref_by_url ON ix_ref (pid, url) WHERE url != '';
CREATE INDEX ix_ref_by_rid ON ix_ref (rid, pid);
CREATE TABLE ix_uri (pid INTEGER NOT NULL, uri TEXT NOT NULL, rid INTEGER NOT NULL,
                     PRIMARY KEY (pid, uri, rid)) WITHOUT ROWID;
CREATE INDEX ix_uri_by_rid ON ix_uri (rid, pid);
)sql",
    // 3: access facts (docs/access.md). Each resource row records the patient
    // it belongs to ('' for none, '*' for several, '?' for not yet computed:
    // rows migrated from version 2 stay invisible to clinicians until
    // reindexed), its confidentiality labels (bit flags, see
    // store::AccessFacts) and the organisation that authored it. `rel` holds
    // the legitimate relationships (organisation, patient) that resources on
    // record establish: a registration, an active episode, an open encounter,
    // an active referral.
    R"sql(
ALTER TABLE resources ADD COLUMN patient TEXT NOT NULL DEFAULT '?';
ALTER TABLE resources ADD COLUMN labels INTEGER NOT NULL DEFAULT 0;
ALTER TABLE resources ADD COLUMN author_org TEXT NOT NULL DEFAULT '';
CREATE INDEX resources_by_patient ON resources (patient, type);
CREATE TABLE rel (org TEXT NOT NULL, patient TEXT NOT NULL, rid INTEGER NOT NULL,
                  PRIMARY KEY (org, patient, rid)) WITHOUT ROWID;
CREATE INDEX rel_by_rid ON rel (rid);
)sql",
    // 4: originally the audit log, which now lives in its own database file
    // (kAuditSchema below) so that appending audit records on every read does
    // not invalidate the resource readers' page caches. Nothing was released
    // with the tables here.
    R"sql(
SELECT 1;
)sql",
    // 5: named counters (Store::ReserveSequence), e.g. the NHS-number
    // allocator's serial: `next` is the first value not yet handed out.
    R"sql(
CREATE TABLE sequences (name TEXT PRIMARY KEY, next INTEGER NOT NULL) WITHOUT ROWID;
)sql",
    // 6: composite parameters (docs/search-index.md, CompositeRow): one row
    // per component of each tuple; `tup` numbers the resource's tuples and
    // `comp` is the component's position. The value columns are those of
    // the component's own table (unused ones empty), so the same conditions
    // apply: token system/code, string norm/exact, date lo/hi, number and
    // quantity val/system/code/unit, reference ttype/tid/url, uri.
    R"sql(
CREATE TABLE ix_comp (pid INTEGER NOT NULL, rid INTEGER NOT NULL, tup INTEGER NOT NULL,
                      comp INTEGER NOT NULL, system TEXT NOT NULL, code TEXT NOT NULL,
                      norm TEXT NOT NULL, exact TEXT NOT NULL, val REAL, unit TEXT NOT NULL,
                      lo INTEGER NOT NULL, hi INTEGER NOT NULL, ttype TEXT NOT NULL,
                      tid TEXT NOT NULL, url TEXT NOT NULL, uri TEXT NOT NULL,
                      PRIMARY KEY (rid, pid, tup, comp)) WITHOUT ROWID;
CREATE INDEX ix_comp_by_code ON ix_comp (pid, comp, code, system);
)sql",
    // 7: the few resources with a sealed or locked label, by type: a count
    // answered from the index alone subtracts those the caller may not see
    // (sql::CompileCount) instead of joining every match to its resource.
    R"sql(
CREATE INDEX resources_labelled ON resources (type, rid) WHERE (labels & 3) <> 0;
)sql",
    // 8: full text (_text, _content; docs/storage.md "Full-text index"): one
    // FTS5 row per resource, rowid = rid, written only when the node keeps
    // the index (crs serve --fulltext; schema_meta 'fulltext' says whether it
    // is complete). The columns hold fhir::index::FullTextWords joined by
    // spaces, which the `ascii` tokenizer splits back exactly.
    // Positions (Location.position) for the special parameter `near`: the
    // degrees for the bounding box and the unit vector for the exact
    // great-circle test (fhir/index/geo.h).
    R"sql(
CREATE VIRTUAL TABLE ix_text USING fts5(narrative, content, tokenize = 'ascii');
CREATE TABLE ix_geo (pid INTEGER NOT NULL, lat REAL NOT NULL, lon REAL NOT NULL,
                     ux REAL NOT NULL, uy REAL NOT NULL, uz REAL NOT NULL, rid INTEGER NOT NULL);
CREATE INDEX ix_geo_by_position ON ix_geo (pid, lat, lon);
CREATE INDEX ix_geo_by_rid ON ix_geo (rid, pid);
)sql",
    // 9: a Patient's name, address and telecom rows that a family / given,
    // address-city / -country / -postalcode / -state, or phone / email row
    // of the same resource repeats are no longer stored (store/sql/
    // covered_rows.h; searches read the covering rows too): those written
    // before go. PostgreSQL's version 7.
    R"sql(
DELETE FROM ix_string WHERE pid IN (SELECT pid FROM sp WHERE type = 'Patient' AND code = 'name')
  AND EXISTS (SELECT 1 FROM ix_string c WHERE c.rid = ix_string.rid AND c.norm = ix_string.norm
                 AND c.exact = ix_string.exact
                 AND c.pid IN (SELECT pid FROM sp WHERE type = 'Patient'
                                 AND code IN ('family', 'given')));
DELETE FROM ix_string WHERE pid IN (SELECT pid FROM sp WHERE type = 'Patient' AND code = 'address')
  AND EXISTS (SELECT 1 FROM ix_string c WHERE c.rid = ix_string.rid AND c.norm = ix_string.norm
                 AND c.exact = ix_string.exact
                 AND c.pid IN (SELECT pid FROM sp WHERE type = 'Patient'
                                 AND code IN ('address-city', 'address-country',
                                              'address-postalcode', 'address-state')));
DELETE FROM ix_token WHERE pid IN (SELECT pid FROM sp WHERE type = 'Patient' AND code = 'telecom')
  AND EXISTS (SELECT 1 FROM ix_token c WHERE c.rid = ix_token.rid AND c.system = ix_token.system
                 AND c.code = ix_token.code AND c.text = ix_token.text
                 AND c.type_system = ix_token.type_system AND c.type_code = ix_token.type_code
                 AND c.pid IN (SELECT pid FROM sp WHERE type = 'Patient'
                                 AND code IN ('email', 'phone')));
)sql",
    // 10: resource bodies are compressed with the built-in zstd dictionary
    // (store/body_codec.h); bodies stored before stay as they are and still
    // read. Nothing in the file changes: the version only keeps binaries
    // that cannot read dictionary frames from opening it. PostgreSQL's 8.
    R"sql(
SELECT 1;
)sql",
    // 11: deferred index rows of a bulk import (store/sqlite/index_runs.h,
    // docs/storage.md "Index runs"): each run holds one transaction's rows
    // of one ix_* table (`tbl`: string 0, token 1, date 2, ref 3, uri 4),
    // sorted and encoded; `ix_run_kills` names resources whose rows in runs
    // up to seq `last` are superseded. Both are empty but during an import.
    // AUTOINCREMENT: a kill's `last` must never cover a later run.
    R"sql(
CREATE TABLE IF NOT EXISTS ix_runs (seq INTEGER PRIMARY KEY AUTOINCREMENT, tbl INTEGER NOT NULL,
                                    rows INTEGER NOT NULL, body BLOB NOT NULL);
CREATE TABLE IF NOT EXISTS ix_run_kills (rid INTEGER PRIMARY KEY, last INTEGER NOT NULL);
)sql",
    // 12: trace keys (fhir/index/trace_keys.h; docs/storage.md "Trace
    // keys"): Patients written from now on carry them. schema_meta
    // 'trace_keys' is 1 while every Patient has them: at once for a store
    // holding none, after `crs reindex` otherwise. PostgreSQL's version 9.
    R"sql(
INSERT OR REPLACE INTO schema_meta (key, value)
  SELECT 'trace_keys', NOT EXISTS (SELECT 1 FROM resources WHERE type = 'Patient');
)sql",
    // 13: trace keys version 2: the phonetic keys are `_trace-phonetic`,
    // sound first and for partial birth dates too (fhir/index/trace_keys.h),
    // which lets a fuzzy trace's third query seek a year instead of reading
    // every patient with the name's sound. The work is in C++ after this
    // (SqliteStore's TraceKeysVersion2): version 1's `_trace-sound` rows,
    // where there are any, become `_trace-phonetic` rows, and the flag
    // drops when a Patient with a partial birth date would lack its keys.
    // PostgreSQL's version 10.
    R"sql(
SELECT 1;
)sql",
    // 14: each resource's index rows also in one blob (store/sqlite/
    // own_rows.h), read wherever rows were looked up by rid, so the value
    // tables' (rid, pid) indexes go: a second B-tree entry for every index
    // row, 12-15% of create throughput and a third of the file. SqliteStore
    // (OwnRowsVersion) fills the table from the value tables, then drops the
    // indexes. PostgreSQL keeps its indexes.
    R"sql(
CREATE TABLE IF NOT EXISTS ix_own (rid INTEGER PRIMARY KEY, rows BLOB NOT NULL);
DELETE FROM ix_own;
)sql",
};

// The audit log's own database (docs/audit.md, docs/storage.md): the main
// database of every connection, with the resource file attached as `data`. `audit` is append-only: seq is the chain
// position (1, 2, ... no gaps) and `hash` the chain hash through the row.
// `audit_patient` and `audit_alert` are indexes derived from the appended
// records; `audit_alert.reviewed_by` is the seq of the record that reviewed
// the alert (that record is itself in the chain). `audit_checkpoint` holds
// the signed chain heads. Created if missing as version 1, then brought up
// to kAuditSchemaVersion by kAuditMigrations; the file's version is its
// `PRAGMA user_version` (0 counts as 1: files from before versioning).
inline constexpr const char* kAuditSchema = R"sql(
CREATE TABLE IF NOT EXISTS audit (
  seq    INTEGER PRIMARY KEY,
  time   INTEGER NOT NULL,
  record BLOB    NOT NULL,
  hash   BLOB    NOT NULL
);
CREATE TABLE IF NOT EXISTS audit_patient (patient TEXT NOT NULL, seq INTEGER NOT NULL,
                                              PRIMARY KEY (patient, seq)) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS audit_alert (
  seq         INTEGER PRIMARY KEY,
  org         TEXT    NOT NULL,
  reviewed_by INTEGER NOT NULL DEFAULT 0
);
CREATE INDEX IF NOT EXISTS audit_alert_by_org ON audit_alert (org, seq);
CREATE INDEX IF NOT EXISTS audit_alert_open ON audit_alert (org, seq) WHERE reviewed_by = 0;
CREATE TABLE IF NOT EXISTS audit_checkpoint (
  seq       INTEGER PRIMARY KEY,
  time      INTEGER NOT NULL,
  head      BLOB    NOT NULL,
  key_id    TEXT    NOT NULL,
  signature BLOB    NOT NULL
);
)sql";

inline constexpr int kAuditSchemaVersion = 4;

// kAuditMigrations[i] brings the audit file from version i + 1 to i + 2.
inline constexpr const char* kAuditMigrations[] = {
    // 2: the alert list's filters (docs/audit.md): each alert's codes as a
    // bit set (store::kAlertBit*), and the user whose access raised it (for
    // a patient's report, the user of the access reported; the name in
    // ASCII lower case), filled in from the records. PostgreSQL's version 5.
    R"sql(
ALTER TABLE audit_alert ADD COLUMN codes INTEGER NOT NULL DEFAULT 0;
ALTER TABLE audit_alert ADD COLUMN user_id TEXT NOT NULL DEFAULT '';
ALTER TABLE audit_alert ADD COLUMN user_name TEXT NOT NULL DEFAULT '';
UPDATE audit_alert SET
  codes = (SELECT coalesce(sum(DISTINCT CASE c.value WHEN 'break-glass' THEN 1
                               WHEN 'self-claimed' THEN 2 WHEN 'sealed-access' THEN 4
                               WHEN 'vip' THEN 8 WHEN 'volume' THEN 16
                               WHEN 'patient-reported' THEN 32 ELSE 0 END), 0)
             FROM audit a, json_each(CAST(a.record AS TEXT), '$.alerts') c
            WHERE a.seq = audit_alert.seq),
  user_id = coalesce((SELECT json_extract(CAST(r.record AS TEXT), '$.user')
                        FROM audit a JOIN audit r
                          ON r.seq = json_extract(CAST(a.record AS TEXT), '$.reports')
                       WHERE a.seq = audit_alert.seq),
                     (SELECT json_extract(CAST(a.record AS TEXT), '$.user') FROM audit a
                       WHERE a.seq = audit_alert.seq), ''),
  user_name = lower(coalesce((SELECT json_extract(CAST(r.record AS TEXT), '$.user_name')
                                FROM audit a JOIN audit r
                                  ON r.seq = json_extract(CAST(a.record AS TEXT), '$.reports')
                               WHERE a.seq = audit_alert.seq),
                             (SELECT json_extract(CAST(a.record AS TEXT), '$.user_name')
                                FROM audit a WHERE a.seq = audit_alert.seq), ''));
)sql",
    // 3: the patient index as sorted runs (docs/audit.md, "The patient
    // index"). A (patient, seq) row per record and patient, inserted at its
    // patient's place, dirtied a random page per audited request; the writer
    // now keeps a group's entries in memory (store/sqlite/audit_sql.h) and
    // writes them as a run: rows keyed (run, patient, seq), appended in
    // order. Runs of one level are merged into one of the next level a few
    // rows per commit. `audit_run.state` is 1 for a run queries use, 0 for a
    // merge's target still being written, 2 for a merged run whose rows are
    // still being deleted; `merged_into` names the target of a source run.
    // `audit_patient` becomes a view over the live runs, so queries read as
    // before. `audit_meta` 'pidx_covered': every record up to that seq is in
    // a run; the writer re-reads the records after it at start.
    R"sql(
CREATE TABLE audit_meta (key TEXT PRIMARY KEY, value INTEGER NOT NULL) WITHOUT ROWID;
CREATE TABLE audit_run (run INTEGER PRIMARY KEY, level INTEGER NOT NULL, state INTEGER NOT NULL,
                        first_seq INTEGER NOT NULL, last_seq INTEGER NOT NULL,
                        merged_into INTEGER NOT NULL DEFAULT 0);
CREATE TABLE audit_pidx (run INTEGER NOT NULL, patient TEXT NOT NULL, seq INTEGER NOT NULL,
                         PRIMARY KEY (run, patient, seq)) WITHOUT ROWID;
INSERT INTO audit_run (run, level, state, first_seq, last_seq)
  SELECT 1, 3, 1, min(seq), max(seq) FROM audit_patient HAVING count(*) > 0;
INSERT INTO audit_pidx (run, patient, seq) SELECT 1, patient, seq FROM audit_patient
  ORDER BY patient, seq;
INSERT INTO audit_meta VALUES ('pidx_covered', (SELECT coalesce(max(seq), 0) FROM audit));
DROP TABLE audit_patient;
CREATE VIEW audit_patient AS
  SELECT patient, seq FROM audit_pidx WHERE run IN (SELECT run FROM audit_run WHERE state = 1);
)sql",
    // 4: the patient index in blocks (store/sqlite/audit_pblk.h): a run's
    // entries, in key order, 256 to a row keyed by the block's last entry,
    // so the writer inserts, merges and deletes a row per 256 entries.
    // `audit_patient` becomes the virtual table over the live runs' blocks
    // that every connection registers (the view is dropped). The entries'
    // text form is the one EncodeBlock writes.
    R"sql(
CREATE TABLE audit_pblk (run INTEGER NOT NULL, last_patient TEXT NOT NULL,
                         last_seq INTEGER NOT NULL, n INTEGER NOT NULL, entries BLOB NOT NULL,
                         PRIMARY KEY (run, last_patient, last_seq)) WITHOUT ROWID;
INSERT INTO audit_pblk (run, last_patient, last_seq, n, entries)
  SELECT run, patient, seq, n, entries FROM (
    SELECT run, max(i), patient, seq, count(*) AS n,
           group_concat(printf('%d:%s%d;', length(CAST(patient AS BLOB)), patient, seq), '')
             AS entries
      FROM (SELECT run, patient, seq,
                   row_number() OVER (PARTITION BY run ORDER BY patient, seq) - 1 AS i
              FROM audit_pidx)
     GROUP BY run, i / 256);
DROP VIEW audit_patient;
DROP TABLE audit_pidx;
)sql",
};

}  // namespace crs::store::sqlite
