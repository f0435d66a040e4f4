// The PostgreSQL schema, versioned (docs/storage.md). The same tables and
// columns as the SQLite schema (store/sqlite/schema.h), so that the shared
// query builders (store/sql/) serve both, with PostgreSQL's types: bigint
// identities for rid/seq/pid, bytea bodies and hashes, and text in the "C"
// collation so that ordering and prefix ranges are byte-wise as in SQLite.
// The audit log shares the database: one transaction covers a write and its
// audit record.
#pragma once

namespace crs::store::postgres {

inline constexpr int kSchemaVersion = 10;

// Advisory lock keys: migrations, and the writer (one group transaction at
// a time across every process sharing the database, so that seq order is
// commit order and each group extends the audit chain head it read).
inline constexpr long long kMigrateLock = 0x6372730001;
inline constexpr long long kWriterLock = 0x6372730002;

// Migration i (1-based) brings a database from version i-1 to version i.
inline constexpr const char* kMigrations[] = {
    // 1: everything the SQLite schema has at its version 5, and the audit log.
    R"sql(
CREATE TABLE resources (
  rid        bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  type       text COLLATE "C" NOT NULL,
  id         text COLLATE "C" NOT NULL,
  version    bigint NOT NULL,
  cur_seq    bigint NOT NULL,
  deleted    smallint NOT NULL,
  patient    text COLLATE "C" NOT NULL DEFAULT '?',
  labels     bigint NOT NULL DEFAULT 0,
  author_org text COLLATE "C" NOT NULL DEFAULT '',
  UNIQUE (type, id)
);
CREATE INDEX resources_by_type ON resources (type, deleted);
CREATE INDEX resources_by_patient ON resources (patient, type);
CREATE TABLE versions (
  seq          bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  rid          bigint NOT NULL,
  type         text COLLATE "C" NOT NULL,
  version      bigint NOT NULL,
  last_updated bigint NOT NULL,
  method       bigint NOT NULL,
  body         bytea
);
CREATE UNIQUE INDEX versions_by_resource ON versions (rid, version);
CREATE INDEX versions_by_type ON versions (type, seq);
CREATE TABLE idempotency (key text PRIMARY KEY, created bigint NOT NULL, result text NOT NULL);
CREATE TABLE sp (
  pid  bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  type text COLLATE "C" NOT NULL,
  code text COLLATE "C" NOT NULL,
  UNIQUE (type, code)
);
CREATE TABLE ix_string (pid bigint NOT NULL, norm text COLLATE "C" NOT NULL,
                        exact text COLLATE "C" NOT NULL, rid bigint NOT NULL);
CREATE INDEX ix_string_by_value ON ix_string (pid, norm, rid);
CREATE INDEX ix_string_by_exact ON ix_string (pid, exact);
CREATE INDEX ix_string_by_rid ON ix_string (rid, pid);
CREATE TABLE ix_token (pid bigint NOT NULL, code text COLLATE "C" NOT NULL,
                       system text COLLATE "C" NOT NULL, text text COLLATE "C" NOT NULL,
                       type_system text COLLATE "C" NOT NULL, type_code text COLLATE "C" NOT NULL,
                       rid bigint NOT NULL);
CREATE INDEX ix_token_by_value ON ix_token (pid, code, system, rid);
CREATE INDEX ix_token_by_rid ON ix_token (rid, pid);
CREATE TABLE ix_date (pid bigint NOT NULL, lo bigint NOT NULL, hi bigint NOT NULL,
                      rid bigint NOT NULL);
CREATE INDEX ix_date_by_value ON ix_date (pid, lo, hi, rid);
CREATE INDEX ix_date_by_rid ON ix_date (rid, pid);
CREATE TABLE ix_number (pid bigint NOT NULL, val double precision, lo double precision NOT NULL,
                        hi double precision NOT NULL, rid bigint NOT NULL);
CREATE INDEX ix_number_by_value ON ix_number (pid, val, rid);
CREATE INDEX ix_number_by_rid ON ix_number (rid, pid);
CREATE TABLE ix_quantity (pid bigint NOT NULL, system text COLLATE "C" NOT NULL,
                          code text COLLATE "C" NOT NULL, unit text COLLATE "C" NOT NULL,
                          val double precision, lo double precision NOT NULL,
                          hi double precision NOT NULL, rid bigint NOT NULL);
CREATE INDEX ix_quantity_by_value ON ix_quantity (pid, val, rid);
CREATE INDEX ix_quantity_by_rid ON ix_quantity (rid, pid);
CREATE TABLE ix_ref (pid bigint NOT NULL, tid text COLLATE "C" NOT NULL,
                     ttype text COLLATE "C" NOT NULL, url text COLLATE "C" NOT NULL,
                     rid bigint NOT NULL);
CREATE INDEX ix_ref_by_target ON ix_ref (pid, tid, ttype, rid);
CREATE INDEX ix_ref_by_url ON ix_ref (pid, url) WHERE url <> '';
CREATE INDEX ix_ref_by_rid ON ix_ref (rid, pid);
CREATE TABLE ix_uri (pid bigint NOT NULL, uri text COLLATE "C" NOT NULL, rid bigint NOT NULL);
CREATE INDEX ix_uri_by_value ON ix_uri (pid, uri, rid);
CREATE INDEX ix_uri_by_rid ON ix_uri (rid, pid);
CREATE TABLE rel (org text COLLATE "C" NOT NULL, patient text COLLATE "C" NOT NULL,
                  rid bigint NOT NULL, PRIMARY KEY (org, patient, rid));
CREATE INDEX rel_by_rid ON rel (rid);
CREATE TABLE sequences (name text PRIMARY KEY, next bigint NOT NULL);
CREATE TABLE audit (
  seq    bigint PRIMARY KEY,
  time   bigint NOT NULL,
  record bytea  NOT NULL,
  hash   bytea  NOT NULL
);
CREATE TABLE audit_patient (patient text COLLATE "C" NOT NULL, seq bigint NOT NULL,
                            PRIMARY KEY (patient, seq));
CREATE TABLE audit_alert (
  seq         bigint PRIMARY KEY,
  org         text COLLATE "C" NOT NULL,
  reviewed_by bigint NOT NULL DEFAULT 0
);
CREATE INDEX audit_alert_by_org ON audit_alert (org, seq);
CREATE INDEX audit_alert_open ON audit_alert (org, seq) WHERE reviewed_by = 0;
CREATE TABLE audit_checkpoint (
  seq       bigint PRIMARY KEY,
  time      bigint NOT NULL,
  head      bytea  NOT NULL,
  key_id    text   NOT NULL,
  signature bytea  NOT NULL
);
)sql",
    // 2: composite parameters, as SQLite's version 6 (store/sqlite/schema.h).
    R"sql(
CREATE TABLE ix_comp (pid bigint NOT NULL, rid bigint NOT NULL, tup bigint NOT NULL,
                      comp bigint NOT NULL, system text COLLATE "C" NOT NULL,
                      code text COLLATE "C" NOT NULL, norm text COLLATE "C" NOT NULL,
                      exact text COLLATE "C" NOT NULL, val double precision,
                      unit text COLLATE "C" NOT NULL, lo bigint NOT NULL, hi bigint NOT NULL,
                      ttype text COLLATE "C" NOT NULL, tid text COLLATE "C" NOT NULL,
                      url text COLLATE "C" NOT NULL, uri text COLLATE "C" NOT NULL,
                      PRIMARY KEY (rid, pid, tup, comp));
CREATE INDEX ix_comp_by_code ON ix_comp (pid, comp, code, system);
)sql",
    // 3: the value indexes on text a client writes hold its first 256
    // characters (at most 1 KB), not the whole text: btree refuses an entry
    // over ~2.7 KB, which failed the write of a long value. The rows keep
    // the whole value; the search SQL tests left(column, 256) through the
    // index and the column itself when the value is that long
    // (sql::Dialect::index_key_chars). Only indexes change.
    R"sql(
DROP INDEX ix_string_by_value;
CREATE INDEX ix_string_by_value ON ix_string (pid, left(norm, 256), rid);
DROP INDEX ix_string_by_exact;
CREATE INDEX ix_string_by_exact ON ix_string (pid, left(exact, 256));
DROP INDEX ix_token_by_value;
CREATE INDEX ix_token_by_value ON ix_token (pid, left(code, 256), left(system, 256), rid);
DROP INDEX ix_ref_by_target;
CREATE INDEX ix_ref_by_target ON ix_ref (pid, left(tid, 256), ttype, rid);
DROP INDEX ix_ref_by_url;
CREATE INDEX ix_ref_by_url ON ix_ref (pid, left(url, 256)) WHERE url <> '';
DROP INDEX ix_uri_by_value;
CREATE INDEX ix_uri_by_value ON ix_uri (pid, left(uri, 256), rid);
DROP INDEX ix_comp_by_code;
CREATE INDEX ix_comp_by_code ON ix_comp (pid, comp, left(code, 256), left(system, 256));
)sql",
    // 4: sealed or locked resources by type, as SQLite's version 7.
    R"sql(
CREATE INDEX resources_labelled ON resources (type, rid) WHERE (labels & 3) <> 0;
)sql",
    // 5: the alert list's filters (docs/audit.md), as the SQLite audit
    // file's version 2 (store/sqlite/schema.h): each alert's codes as a bit
    // set (store::kAlertBit*), and the user whose access raised it (for a
    // patient's report, the user of the access reported), filled in from
    // the records.
    R"sql(
ALTER TABLE audit_alert ADD COLUMN codes bigint NOT NULL DEFAULT 0,
  ADD COLUMN user_id text COLLATE "C" NOT NULL DEFAULT '',
  ADD COLUMN user_name text COLLATE "C" NOT NULL DEFAULT '';
UPDATE audit_alert al SET codes = x.codes, user_id = x.user_id, user_name = lower(x.user_name)
FROM (
  SELECT a.seq,
         (SELECT coalesce(sum(DISTINCT CASE c WHEN 'break-glass' THEN 1 WHEN 'self-claimed' THEN 2
                                       WHEN 'sealed-access' THEN 4 WHEN 'vip' THEN 8
                                       WHEN 'volume' THEN 16 WHEN 'patient-reported' THEN 32
                                       ELSE 0 END), 0)
            FROM json_array_elements_text(coalesce(j.rec->'alerts', '[]'::json)) c) AS codes,
         coalesce(r.rec->>'user', j.rec->>'user', '') AS user_id,
         coalesce(r.rec->>'user_name', j.rec->>'user_name', '') COLLATE "C" AS user_name
  FROM audit_alert al2 JOIN audit a ON a.seq = al2.seq
  CROSS JOIN LATERAL (SELECT convert_from(a.record, 'UTF8')::json AS rec) j
  LEFT JOIN LATERAL (SELECT convert_from(ra.record, 'UTF8')::json AS rec FROM audit ra
                     WHERE ra.seq = (j.rec->>'reports')::bigint) r ON true
) x
WHERE x.seq = al.seq;
)sql",
    // 6: full text and positions, as SQLite's version 8. The tsvectors are
    // built by crs from fhir::index::FullTextWords (word:position literals),
    // not by a text search configuration, so both backends split and fold
    // words the same way. No unique key on rid, like the other index
    // tables: one statement deletes a resource's old row and inserts its
    // new one (PgWriteOps::ReplaceIndex), and a unique index would see both.
    R"sql(
CREATE TABLE ix_text (rid bigint NOT NULL, narrative tsvector NOT NULL,
                      content tsvector NOT NULL);
CREATE INDEX ix_text_by_rid ON ix_text (rid);
CREATE INDEX ix_text_narrative ON ix_text USING gin (narrative);
CREATE INDEX ix_text_content ON ix_text USING gin (content);
CREATE TABLE ix_geo (pid bigint NOT NULL, lat double precision NOT NULL,
                     lon double precision NOT NULL, ux double precision NOT NULL,
                     uy double precision NOT NULL, uz double precision NOT NULL,
                     rid bigint NOT NULL);
CREATE INDEX ix_geo_by_position ON ix_geo (pid, lat, lon);
CREATE INDEX ix_geo_by_rid ON ix_geo (rid, pid);
)sql",
    // 7: covered index rows no longer stored, as SQLite's version 9
    // (store/sql/covered_rows.h).
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
    // 8: bodies compressed with the built-in zstd dictionary, as SQLite's
    // version 10 (store/body_codec.h): only the version changes, so that
    // binaries that cannot read dictionary frames refuse the database.
    R"sql(
SELECT 1;
)sql",
    // 9: trace keys, as SQLite's version 12: schema_meta 'trace_keys' is 1
    // while every Patient has them (at once for a database holding none).
    R"sql(
INSERT INTO schema_meta (key, value)
  SELECT 'trace_keys', CASE WHEN EXISTS (SELECT 1 FROM resources WHERE type = 'Patient')
                            THEN 0 ELSE 1 END
ON CONFLICT (key) DO UPDATE SET value = EXCLUDED.value;
)sql",
    // 10: trace keys version 2, as SQLite's version 13: version 1's
    // `_trace-sound` rows ("day sound") become `_trace-phonetic` rows
    // ("sound day"); a complete flag drops only when a Patient has a partial
    // birth date (no version 1 keys; its phonetic keys need a reindex).
    R"sql(
DO $$
DECLARE
  old_pid bigint;
  new_pid bigint;
BEGIN
  SELECT pid INTO old_pid FROM sp WHERE type = 'Patient' AND code = '_trace-sound';
  IF old_pid IS NOT NULL THEN
    INSERT INTO sp (type, code) VALUES ('Patient', '_trace-phonetic') ON CONFLICT DO NOTHING;
    SELECT pid INTO new_pid FROM sp WHERE type = 'Patient' AND code = '_trace-phonetic';
    INSERT INTO ix_string (pid, norm, exact, rid)
      SELECT new_pid, substr(norm, 12) || ' ' || substr(norm, 1, 10), '', rid
      FROM ix_string WHERE pid = old_pid ORDER BY 2, 4;
    DELETE FROM ix_string WHERE pid = old_pid;
  END IF;
END $$;
UPDATE schema_meta SET value = 0 WHERE key = 'trace_keys' AND value = 1 AND EXISTS
  (SELECT 1 FROM ix_date WHERE pid = (SELECT pid FROM sp WHERE type = 'Patient'
                                      AND code = 'birthdate') AND hi - lo > 86400000);
)sql",
};

}  // namespace crs::store::postgres
