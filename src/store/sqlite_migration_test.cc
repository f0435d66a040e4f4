// SQLite schema migrations that rewrite rows (store/sqlite/schema.h), run on
// a database put back to the version before.
#include <gtest/gtest.h>
#include <sqlite3.h>

#include <filesystem>
#include <string>

#include "store/sqlite/own_rows.h"
#include "store/sqlite/schema.h"
#include "store/store.h"

namespace crs::store {
namespace {

class SqliteMigrationTest : public ::testing::Test {
 protected:
  void SetUp() override {
    char tmpl[] = "/tmp/crs-migrate-XXXXXX";
    dir_ = mkdtemp(tmpl);
  }
  void TearDown() override { std::filesystem::remove_all(dir_); }

  void Open() {
    StoreOptions o;
    o.data_dir = dir_;
    auto s = OpenStore(o);
    ASSERT_TRUE(s.ok()) << s.status().ToString();
  }
  // Runs `sql` on the closed store's file; the first column of the last
  // row, as text.
  std::string Sql(const std::string& sql) {
    sqlite3* db = nullptr;
    EXPECT_EQ(sqlite3_open((dir_ + "/crs.db").c_str(), &db), SQLITE_OK);
    EXPECT_EQ(sqlite::RegisterOwnRowFunctions(db), SQLITE_OK);
    std::string out;
    auto keep = [](void* o, int n, char** v, char**) {
      *static_cast<std::string*>(o) = n > 0 && v[0] ? v[0] : "";
      return 0;
    };
    char* error = nullptr;
    EXPECT_EQ(sqlite3_exec(db, sql.c_str(), keep, &out, &error), SQLITE_OK)
        << (error ? error : "");
    sqlite3_free(error);
    sqlite3_close(db);
    return out;
  }

  std::string dir_;
};

// Version 9: a Patient's name, address and telecom rows that a family /
// given, address-* or phone / email row of the same resource repeats go.
TEST_F(SqliteMigrationTest, Version9DropsCoveredRows) {
  Open();
  Sql("INSERT INTO sp (type, code) VALUES ('Patient', 'name'), ('Patient', 'family'), "
      "('Patient', 'telecom'), ('Patient', 'phone'), ('Practitioner', 'name'), "
      "('Practitioner', 'family');"
      // Patient 5: Brown is its family name, Mrs is not; Patient 6's Brown
      // is not a family name of 6; a Practitioner keeps every row.
      "INSERT INTO ix_string SELECT pid, 'brown', 'Brown', 5 FROM sp WHERE type = 'Patient' "
      "  AND code IN ('name', 'family');"
      "INSERT INTO ix_string SELECT pid, 'mrs', 'Mrs', 5 FROM sp WHERE code = 'name' "
      "  AND type = 'Patient';"
      "INSERT INTO ix_string SELECT pid, 'brown', 'Brown', 6 FROM sp WHERE code = 'name' "
      "  AND type = 'Patient';"
      "INSERT INTO ix_string SELECT pid, 'brown', 'Brown', 7 FROM sp WHERE type = 'Practitioner';"
      "INSERT INTO ix_token SELECT pid, '0113', '', '', '', '', 5 FROM sp WHERE type = 'Patient' "
      "  AND code IN ('telecom', 'phone');"
      "INSERT INTO ix_token SELECT pid, '0114', '', '', '', '', 5 FROM sp WHERE code = 'telecom';"
      "UPDATE schema_meta SET value = 8 WHERE key = 'version';");
  Open();
  EXPECT_EQ(Sql("SELECT value FROM schema_meta WHERE key = 'version'"),
            std::to_string(sqlite::kSchemaVersion));
  EXPECT_EQ(Sql("SELECT group_concat(x.rid || ':' || sp.type || '.' || sp.code || '=' || x.exact, ' ') "
                "FROM (SELECT * FROM ix_string ORDER BY rid, pid, exact) x JOIN sp USING (pid)"),
            "5:Patient.name=Mrs 5:Patient.family=Brown 6:Patient.name=Brown "
            "7:Practitioner.name=Brown 7:Practitioner.family=Brown");
  EXPECT_EQ(Sql("SELECT group_concat(sp.code || '=' || x.code, ' ') "
                "FROM (SELECT * FROM ix_token ORDER BY pid, code) x JOIN sp USING (pid)"),
            "telecom=0114 phone=0113");
}

// Version 12: a store's trace keys are complete at once when it holds no
// Patient, and wait for `crs reindex` when it does (fhir/index/trace_keys.h).
// Resource rows without bodies, for the trace-key flag's migrations.
constexpr char kAnObservation[] =
    "INSERT INTO resources (rid, type, id, version, cur_seq, deleted) "
    "VALUES (1, 'Observation', 'o1', 1, 1, 0);";
constexpr char kAPatient[] =
    "INSERT INTO resources (rid, type, id, version, cur_seq, deleted) "
    "VALUES (2, 'Patient', '9990000018', 1, 2, 0);";

TEST_F(SqliteMigrationTest, Version12TraceKeysCompleteOnlyWithoutPatients) {
  Open();
  EXPECT_EQ(Sql("SELECT value FROM schema_meta WHERE key = 'trace_keys'"), "1");
  const std::string back_to_11 =
      "DELETE FROM schema_meta WHERE key = 'trace_keys';"
      "UPDATE schema_meta SET value = 11 WHERE key = 'version';";
  Sql(kAnObservation + back_to_11);
  Open();
  EXPECT_EQ(Sql("SELECT value FROM schema_meta WHERE key = 'version'"),
            std::to_string(sqlite::kSchemaVersion));
  EXPECT_EQ(Sql("SELECT value FROM schema_meta WHERE key = 'trace_keys'"), "1");
  Sql(kAPatient + back_to_11);
  Open();
  EXPECT_EQ(Sql("SELECT value FROM schema_meta WHERE key = 'trace_keys'"), "0");
  auto open = [&](TraceKeysMode mode) {
    StoreOptions o;
    o.data_dir = dir_;
    o.trace_keys = mode;
    return OpenStore(o);
  };
  {
    // A node keeping them: Patients without them stay in the way...
    auto s = open(TraceKeysMode::kOn);
    ASSERT_TRUE(s.ok()) << s.status().ToString();
    EXPECT_TRUE((*s)->KeepsTraceKeys());
    EXPECT_FALSE((*s)->TraceKeysComplete());
    // ...until crs reindex --trace-keys says they all have them.
    ASSERT_TRUE((*s)->MarkTraceKeysComplete().ok());
    EXPECT_TRUE((*s)->TraceKeysComplete());
  }
  EXPECT_EQ(Sql("SELECT value FROM schema_meta WHERE key = 'trace_keys'"), "1");
  {
    // A node not keeping them lowers the flag: its Patients will lack them.
    auto s = open(TraceKeysMode::kOff);
    ASSERT_TRUE(s.ok());
    EXPECT_FALSE((*s)->KeepsTraceKeys());
    EXPECT_FALSE((*s)->TraceKeysComplete());
    EXPECT_FALSE((*s)->MarkTraceKeysComplete().ok());
  }
  EXPECT_EQ(Sql("SELECT value FROM schema_meta WHERE key = 'trace_keys'"), "0");
  {
    auto s = open(TraceKeysMode::kOn);
    ASSERT_TRUE(s.ok());
    EXPECT_FALSE((*s)->TraceKeysComplete());
  }
  // With no Patient left, a node keeping them may rely on them at once.
  Sql("DELETE FROM resources WHERE type = 'Patient';");
  {
    auto s = open(TraceKeysMode::kOn);
    ASSERT_TRUE(s.ok());
    EXPECT_TRUE((*s)->TraceKeysComplete());
  }
  EXPECT_EQ(Sql("SELECT value FROM schema_meta WHERE key = 'trace_keys'"), "1");
}

// Version 13 (trace keys version 2): version 1's `_trace-sound` rows
// ("day sound") become `_trace-phonetic` rows ("sound day") and go; the
// flag stays up unless a Patient has a partial birth date (no version 1
// keys, so no phonetic keys until a reindex).
TEST_F(SqliteMigrationTest, Version13TurnsTheSoundKeysAround) {
  Open();
  const std::string back_to_12 = "UPDATE schema_meta SET value = 12 WHERE key = 'version';";
  const std::string phonetic =
      "SELECT group_concat(x.norm || '@' || x.rid, ' ') FROM (SELECT * FROM ix_string "
      "ORDER BY norm) x JOIN sp USING (pid) WHERE sp.code = ";
  Sql(std::string(kAPatient) +
      "INSERT INTO sp (type, code) VALUES ('Patient', '_trace-sound');"
      "INSERT OR IGNORE INTO sp (type, code) VALUES ('Patient', 'birthdate');"
      "INSERT INTO ix_string SELECT pid, '1980-03-07 s530', '', 2 FROM sp "
      "  WHERE code = '_trace-sound';"
      "INSERT INTO ix_string SELECT pid, '1980-03-07 j500', '', 2 FROM sp "
      "  WHERE code = '_trace-sound';"
      "INSERT INTO ix_date SELECT pid, 320716800000, 320803200000, 2 FROM sp "
      "  WHERE type = 'Patient' AND code = 'birthdate';"
      "UPDATE schema_meta SET value = 1 WHERE key = 'trace_keys';" + back_to_12);
  Open();
  EXPECT_EQ(Sql("SELECT value FROM schema_meta WHERE key = 'version'"), "14");
  EXPECT_EQ(Sql(phonetic + "'_trace-phonetic'"), "j500 1980-03-07@2 s530 1980-03-07@2");
  EXPECT_EQ(Sql(phonetic + "'_trace-sound'"), "");
  EXPECT_EQ(Sql("SELECT value FROM schema_meta WHERE key = 'trace_keys'"), "1");
  // Version 14 after it: the resource's blob lists the new rows.
  EXPECT_EQ(Sql("SELECT count(*) FROM ix_own o, crs_ix_string(o.rows) x WHERE o.rid = 2"), "2");
  // A Patient born in 1980 only: it had no keys, and now needs some.
  Sql("INSERT INTO resources (rid, type, id, version, cur_seq, deleted) "
      "VALUES (3, 'Patient', '9990000026', 1, 3, 0);"
      "INSERT INTO ix_date SELECT pid, 315532800000, 347155200000, 3 FROM sp "
      "  WHERE type = 'Patient' AND code = 'birthdate';" + back_to_12);
  Open();
  EXPECT_EQ(Sql("SELECT value FROM schema_meta WHERE key = 'trace_keys'"), "0");
}

// Version 14: each resource's rows of every value table become its blob in
// ix_own, and the (rid, pid) indexes go.
TEST_F(SqliteMigrationTest, Version14GathersEachResourcesRowsIntoItsBlob) {
  Open();
  Sql("INSERT INTO sp (type, code) VALUES ('Observation', 'code'), ('Observation', 'value'), "
      "('Observation', 'subject'), ('Observation', 'date'), ('Location', 'near'), "
      "('Observation', 'value-quantity'), ('Observation', 'uri'), ('Patient', 'family');"
      "CREATE INDEX ix_string_by_rid ON ix_string (rid, pid);"
      "CREATE INDEX ix_token_by_rid ON ix_token (rid, pid);"
      "INSERT INTO ix_string SELECT pid, 'smith', 'Smith', 9 FROM sp WHERE code = 'family';"
      "INSERT INTO ix_string SELECT pid, 'jones', 'Jones', 3 FROM sp WHERE code = 'family';"
      "INSERT INTO ix_token SELECT pid, '1234-5', 'http://loinc.org', 'Glucose', '', '', 3 "
      "  FROM sp WHERE code = 'code';"
      "INSERT INTO ix_date SELECT pid, 100, 200, 3 FROM sp WHERE code = 'date';"
      "INSERT INTO ix_number SELECT pid, NULL, -1.5, 2.5, 3 FROM sp WHERE code = 'value';"
      "INSERT INTO ix_quantity SELECT pid, 'http://unitsofmeasure.org', 'mg', 'mg', 4.5, 4.45, "
      "  4.55, 3 FROM sp WHERE code = 'value-quantity';"
      "INSERT INTO ix_ref SELECT pid, 'p1', 'Patient', '', 3 FROM sp WHERE code = 'subject';"
      "INSERT INTO ix_uri SELECT pid, 'urn:x', 3 FROM sp WHERE code = 'uri';"
      "INSERT INTO ix_geo SELECT pid, 51.5, -0.1, 0.6, 0.0, 0.8, 7 FROM sp WHERE code = 'near';"
      "DELETE FROM ix_own;"
      "UPDATE schema_meta SET value = 13 WHERE key = 'version';");
  Open();
  EXPECT_EQ(Sql("SELECT value FROM schema_meta WHERE key = 'version'"), "14");
  EXPECT_EQ(Sql("SELECT group_concat(rid, ' ') FROM (SELECT rid FROM ix_own ORDER BY rid)"),
            "3 7 9");
  auto own = [&](const std::string& table, const std::string& cols, int rid) {
    return Sql("SELECT group_concat(" + cols + ", ' ') FROM ix_own o, crs_" + table +
               "(o.rows) x JOIN sp ON sp.pid = x.pid WHERE o.rid = " + std::to_string(rid));
  };
  EXPECT_EQ(own("ix_string", "sp.code || '=' || x.norm || '/' || x.exact", 9), "family=smith/Smith");
  EXPECT_EQ(own("ix_string", "x.exact", 3), "Jones");
  EXPECT_EQ(own("ix_token", "x.system || '|' || x.code || '|' || x.text", 3),
            "http://loinc.org|1234-5|Glucose");
  EXPECT_EQ(own("ix_date", "x.lo || '-' || x.hi", 3), "100-200");
  EXPECT_EQ(own("ix_number", "ifnull(x.val, 'null') || ' ' || x.lo || ' ' || x.hi", 3),
            "null -1.5 2.5");
  EXPECT_EQ(own("ix_quantity", "x.code || ' ' || x.val || ' ' || x.lo", 3), "mg 4.5 4.45");
  EXPECT_EQ(own("ix_ref", "x.ttype || '/' || x.tid", 3), "Patient/p1");
  EXPECT_EQ(own("ix_uri", "x.uri", 3), "urn:x");
  EXPECT_EQ(own("ix_geo", "x.lat || ',' || x.lon || ',' || x.uz", 7), "51.5,-0.1,0.8");
  EXPECT_EQ(own("ix_token", "x.code", 9), "");  // only its own rows
  EXPECT_EQ(Sql("SELECT count(*) FROM sqlite_schema WHERE type = 'index' AND name LIKE 'ix_%_by_rid'"),
            "0");
}

}  // namespace
}  // namespace crs::store
