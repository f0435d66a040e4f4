// The SQLite schema, versioned. Documented in docs/storage.md.
#pragma once

namespace crs::store::sqlite {

inline constexpr int kSchemaVersion = 1;

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
CREATE TABLE idempotency (
  key     TEXT PRIMARY KEY,
  created INTEGER NOT NULL,
  result  TEXT NOT NULL
) WITHOUT ROWID;
)sql",
};

}  // namespace crs::store::sqlite
