#include "store/sql/search_sql.h"

#include <algorithm>

#include "fhir/index/geo.h"
#include "store/sql/covered_rows.h"
#include "store/sql/fulltext_sql.h"

namespace crs::store::sql {
namespace {

}  // namespace

std::string AccessSql(const AccessFilter& f, const std::string& a, ArgList& args) {
  auto arg = [&args](SqlArg v) { return args.Add(std::move(v)); };
  // Labels: locked only for the author; sealed for the author or when allowed.
  std::string s = "((" + a + ".labels & 3) = 0" +
                  (f.org.empty() ? std::string() : " OR " + a + ".author_org = " + arg(f.org)) +
                  (f.sealed ? " OR (" + a + ".labels & 3) = 1" : std::string()) + ")";
  if (f.types) {
    if (f.types->empty()) return "FALSE";
    s += " AND " + a + ".type IN (";
    for (size_t i = 0; i < f.types->size(); ++i) s += (i ? ", " : "") + arg((*f.types)[i]);
    s += ")";
  }
  if (f.any_patient) return s;
  std::string who;
  auto alt = [&](const std::string& c) { who += (who.empty() ? "" : " OR ") + c; };
  if (f.unbound) alt(a + ".patient = ''");
  if (!f.any_patient_types.empty()) {
    std::string in;
    for (const auto& t : f.any_patient_types) in += (in.empty() ? "" : ", ") + arg(t);
    alt(a + ".type IN (" + in + ")");
  }
  if (!f.patients.empty()) {
    std::string in;
    for (const auto& p : f.patients) in += (in.empty() ? "" : ", ") + arg(p);
    alt(a + ".patient IN (" + in + ")");
  }
  if (f.related && !f.org.empty()) {
    alt("EXISTS (SELECT 1 FROM rel WHERE rel.org = " + arg(f.org) + " AND rel.patient = " + a +
        ".patient)");
  }
  return s + " AND (" + (who.empty() ? "FALSE" : who) + ")";
}

namespace {

class Builder {
 public:
  Builder(const SearchQuery& q, const Dialect& d) : q_(q), d_(d), args_(d) {}

  // A placeholder bound to `v`.
  template <typename T>
  std::string Arg(T v) {
    return args_.Add(SqlArg(std::move(v)));
  }

  // The predicate that should drive the query (most selective first, as
  // far as the kind of condition tells), or -1 to scan the type.
  int PickDriver() const {
    int best = -1, best_rank = 100;
    for (size_t i = 0; i < q_.all_of.size(); ++i) {
      int rank = Rank(q_.all_of[i]);
      if (rank < best_rank) {
        best_rank = rank;
        best = static_cast<int>(i);
      }
    }
    return best;
  }

  // Predicate `driver` checked on the index rows of the resource r: "EXISTS (...)".
  std::string DriverHolds(int driver) {
    const Predicate& d = q_.all_of[driver];
    return "EXISTS (SELECT 1 FROM " + OwnRowsFrom(TableName(d.table), "= r.rid", d_) +
           " AND x.pid " + PidOf(d.param) + " AND (" + Ors(d) + "))";
  }

  // "FROM <table> x WHERE <predicate `driver`>" over the index rows.
  std::string DriverRows(int driver) {
    const Predicate& d = q_.all_of[driver];
    return "FROM " + std::string(TableName(d.table)) + " x WHERE x.pid " + PidOf(d.param) +
           " AND (" + Ors(d) + ")";
  }

  // "FROM ..." and the WHERE conditions, with predicate `driver` (if any) as
  // the row source: its matching rids, joined to their resources.
  std::string FromWhere(int driver, int64_t after_rid, bool join_versions) {
    std::string from;
    if (driver >= 0 && q_.all_of[driver].table == IndexTable::kText) {
      from = "FROM (" + TextRidsSql(q_.all_of[driver], args_) + ") d JOIN resources r ON r.rid = d.rid ";
    } else if (driver >= 0) {
      std::string rids = DriverRids(q_.all_of[driver], after_rid);
      for (size_t i = 0; i < q_.all_of.size(); ++i) {
        if (static_cast<int>(i) == driver || !Intersects(q_.all_of[i])) continue;
        std::string n = std::to_string(i);
        rids = "SELECT a" + n + ".rid FROM (" + rids + ") a" + n + " INTERSECT SELECT b" + n +
               ".rid FROM (" + DriverRids(q_.all_of[i], after_rid) + ") b" + n;
      }
      from = "FROM (" + rids + ") d JOIN resources r ON r.rid = d.rid ";
    } else {
      from = "FROM resources r ";
    }
    if (join_versions) from += "JOIN versions v ON v.seq = r.cur_seq ";
    std::string w = "WHERE " + TypeSql() + "r.deleted = 0";
    if (after_rid > 0) w += " AND r.rid > " + Arg(after_rid);
    w += Access("r");
    for (size_t i = 0; i < q_.all_of.size(); ++i) {
      if (static_cast<int>(i) == driver) continue;
      if (driver >= 0 && q_.all_of[driver].table != IndexTable::kText &&
          Intersects(q_.all_of[i])) {
        continue;  // in the driver's rids above
      }
      // With a driving predicate, each candidate row is checked through the
      // (rid, pid) index; without one, a predicate's matches are listed once.
      w += " AND " + (driver >= 0 ? CorrelatedSql(q_.all_of[i]) : PredicateSql(q_.all_of[i]));
    }
    return from + w;
  }

  // Whether a condition on `t` is a range of its value index's key.
  static bool KeyRanges(IndexTable t) {
    return t == IndexTable::kString || t == IndexTable::kToken || t == IndexTable::kDate ||
           t == IndexTable::kReference || t == IndexTable::kUri;
  }

  // Whether `p` asks to be intersected with the driver's rids
  // (Predicate::intersect) and can be listed as DriverRids lists a driver's.
  static bool Intersects(const Predicate& p) {
    return p.intersect && !p.negate && p.chain.empty() && !p.last_updated && !p.any_of.empty() &&
           KeyRanges(p.table) && !std::holds_alternative<IdCond>(p.any_of.front()) &&
           !std::holds_alternative<MissingCond>(p.any_of.front());
  }

  // The distinct rids matching driving predicate `d` (above `after_rid`).
  // Several values of a predicate of the tables whose values are ranges of
  // the key (`family=smith,jones`, a trace's keys) are a UNION of one index
  // range each: neither SQLite nor PostgreSQL drives an OR of ranges on one
  // column by the index (SQLite scans every row of the parameter).
  std::string DriverRids(const Predicate& d, int64_t after_rid) {
    std::string rows = "FROM " + std::string(TableName(d.table)) + " x WHERE x.pid ";
    if (d.any_of.size() < 2 || !KeyRanges(d.table)) {
      return "SELECT DISTINCT x.rid AS rid " + rows + PidOf(d.param) + " AND (" + Ors(d) + ")" +
             (after_rid > 0 ? " AND x.rid > " + Arg(after_rid) : std::string());
    }
    std::string s;
    for (const Condition& c : d.any_of) {
      if (!s.empty()) s += " UNION ";
      s += "SELECT x.rid AS rid " + rows + PidOf(d.param) + " AND (" + ConditionSql(c) + ")" +
           (after_rid > 0 ? " AND x.rid > " + Arg(after_rid) : std::string());
    }
    return s;
  }

  // "SELECT count(...)" of the distinct rids matching predicate `driver`.
  std::string DriverCount(int driver) {
    const Predicate& d = q_.all_of[driver];
    if (d.any_of.size() > 1) return "SELECT count(*) FROM (" + DriverRids(d, 0) + ") d";
    return "SELECT count(DISTINCT x.rid) " + DriverRows(driver);
  }

  std::vector<SqlArg> TakeArgs() { return args_.Take(); }
  ArgList& args() { return args_; }

  // " AND <access conditions on alias>" when the query carries an access filter.
  std::string Access(const std::string& alias) {
    if (!q_.access) return "";
    return " AND " + AccessSql(*q_.access, alias, args_);
  }

  // The value a resource sorts by for key `k` (see SortKey); ascending keys
  // map "no value" to a sentinel that sorts after every number and text.
  std::string SortExpr(const SortKey& k) {
    if (k.param == "_id") return "r.id";
    if (k.param == "_lastUpdated") return "v.last_updated";
    const char* col = "code";
    switch (k.table) {
      case IndexTable::kString: col = "norm"; break;
      case IndexTable::kToken: col = "code"; break;
      case IndexTable::kDate: col = k.descending ? "hi" : "lo"; break;
      case IndexTable::kNumber:
      case IndexTable::kQuantity: col = "val"; break;
      case IndexTable::kReference: col = "tid"; break;
      case IndexTable::kUri: col = "uri"; break;
      case IndexTable::kComposite:
      case IndexTable::kNone:
      case IndexTable::kText:
      case IndexTable::kGeo: break;  // not sortable (search_parse refuses them)
    }
    std::string e = std::string("(SELECT ") + (k.descending ? "max" : "min") + "(x." + col +
                    ") FROM " + OwnRowsFrom(TableName(k.table), "= r.rid", d_) + " AND x.pid " +
                    PidOf(k.param) + ")";
    if (k.descending || d_.nulls_last) return e;
    return "IFNULL(" + e + ", " + Arg(std::string(kNoSortValue)) + ")";
  }

  // Rows strictly after the cursor in (sort keys..., rid) order.
  std::string KeysetSql() {
    const auto& keys = q_.sort;
    std::string ors;
    std::string prefix;  // "sk0 IS ?c0 AND ..."
    for (size_t i = 0; i <= keys.size(); ++i) {
      std::string after;
      if (i == keys.size()) {
        after = "rid > " + Arg(q_.after_rid);
      } else {
        const SortValue& c = q_.after_sort[i];
        std::string sk = "sk" + std::to_string(i);
        bool null_last = keys[i].descending || d_.nulls_last;
        if (!null_last) {
          after = sk + " > " + ValueArg(c, true);
        } else if (std::holds_alternative<std::monostate>(c)) {
          after = "FALSE";  // nothing sorts after "no value" when it sorts last
        } else {
          after = "(" + sk + (keys[i].descending ? " < " : " > ") + ValueArg(c, false) + " OR " +
                  sk + " IS NULL)";
        }
      }
      if (!ors.empty()) ors += " OR ";
      ors += "(" + prefix + (prefix.empty() ? "" : " AND ") + after + ")";
      if (i < keys.size()) {
        if (!prefix.empty()) prefix += " AND ";
        prefix += SameKeySql(i);
      }
    }
    return "(" + ors + ")";
  }

 private:
  // Sort key i equals the cursor's value ("no value" included).
  std::string SameKeySql(size_t i) {
    std::string sk = "sk" + std::to_string(i);
    const SortValue& c = q_.after_sort[i];
    bool sentinel = !q_.sort[i].descending && !d_.nulls_last;
    if (std::holds_alternative<std::monostate>(c) && !sentinel) return sk + " IS NULL";
    return sk + " = " + ValueArg(c, sentinel);
  }

  // "= <the parameter's pid>" on the searched type; a system-level search
  // takes the parameter of that code on any of its types ("IN (...)"): a
  // resource's index rows carry only its own type's pids. A covered
  // parameter (covered_rows.h) also reads the rows of the parameters
  // covering it.
  std::string PidOf(const std::string& code) {
    if (!q_.type.empty()) return PidTest(q_.type, code);
    std::string s = "IN (SELECT pid FROM sp WHERE (code = " + Arg(code);
    for (const CoveredParam& c : CoveredParams()) {
      if (c.code != code) continue;
      s += " OR (type = " + Arg(std::string(c.type)) + " AND code IN (" + CodeList(c.by) + "))";
    }
    s += ")";
    if (!q_.types.empty()) s += " AND type IN (" + TypeList() + ")";
    return s + ")";
  }

  // The test on x.pid for parameter `code` of `type`: "= (...)", or
  // "IN (...)" for a covered parameter.
  std::string PidTest(const std::string& type, const std::string& code) {
    std::span<const std::string_view> by = CoveringParams(type, code);
    if (by.empty()) return "= " + PidOf(type, code);
    return "IN (SELECT pid FROM sp WHERE type = " + Arg(type) + " AND code IN (" + Arg(code) +
           ", " + CodeList(by) + "))";
  }

  std::string CodeList(std::span<const std::string_view> codes) {
    std::string s;
    for (std::string_view c : codes) s += (s.empty() ? "" : ", ") + Arg(std::string(c));
    return s;
  }

  // "r.type = ? AND " (or IN the system search's types; nothing for all).
  std::string TypeSql() {
    if (!q_.type.empty()) return "r.type = " + Arg(q_.type) + " AND ";
    if (q_.types.empty()) return "";
    return "r.type IN (" + TypeList() + ") AND ";
  }

  std::string TypeList() {
    std::string s;
    for (const auto& t : q_.types) s += (s.empty() ? "" : ", ") + Arg(t);
    return s;
  }
  std::string PidOf(const std::string& type, const std::string& code) {
    return "(SELECT pid FROM sp WHERE type = " + Arg(type) + " AND code = " + Arg(code) + ")";
  }

  std::string PredicateSql(const Predicate& p) { return PredicateSql(p, q_.type, "r"); }

  // `p` over resources of `type` whose row alias is `alias`.
  std::string PredicateSql(const Predicate& p, const std::string& type, const std::string& alias) {
    if (!p.chain.empty()) return ChainSql(p, type, alias);
    if (alias != "r") return NestedSql(p, type, alias);
    if (p.any_of.empty()) return "TRUE";
    // _id and _lastUpdated live on the resource row itself.
    if (std::holds_alternative<IdCond>(p.any_of.front()) || p.last_updated) {
      std::string ors;
      for (const Condition& c : p.any_of) {
        if (!ors.empty()) ors += " OR ";
        if (auto* id = std::get_if<IdCond>(&c)) {
          ors += "r.id = " + Arg(id->id);
        } else if (auto* d = std::get_if<DateCond>(&c)) {
          ors += "(" + DateSql(*d, "v.last_updated", "(v.last_updated + 1)") + ")";
        }
      }
      std::string s = "(" + ors + ")";
      return p.negate ? "NOT " + s : s;
    }
    if (std::holds_alternative<MissingCond>(p.any_of.front())) {
      bool missing = std::get<MissingCond>(p.any_of.front()).missing;
      return std::string(missing ? "NOT " : "") + "EXISTS (SELECT 1 FROM " +
             OwnRowsFrom(TableName(p.table), "= r.rid", d_) + " AND x.pid " + PidOf(p.param) + ")";
    }
    if (p.table == IndexTable::kComposite) {
      return std::string("r.rid ") + (p.negate ? "NOT IN (" : "IN (") +
             CompositeSub(p, PidOf(p.param)) + ")";
    }
    if (p.table == IndexTable::kText) {
      return std::string("r.rid ") + (p.negate ? "NOT IN (" : "IN (") + TextRidsSql(p, args_) + ")";
    }
    const char* table = TableName(p.table);
    std::string sub = "SELECT x.rid FROM " + std::string(table) + " x WHERE x.pid " +
                      PidOf(p.param) + " AND (" + Ors(p) + ")";
    return std::string("r.rid ") + (p.negate ? "NOT IN (" : "IN (") + sub + ")";
  }

  // `p` checked per row of r: an EXISTS over the resource's own index rows.
  std::string CorrelatedSql(const Predicate& p) {
    if (!p.chain.empty() || p.last_updated || p.any_of.empty() || p.table == IndexTable::kNone ||
        p.table == IndexTable::kComposite || p.table == IndexTable::kText ||
        std::holds_alternative<IdCond>(p.any_of.front()) ||
        std::holds_alternative<MissingCond>(p.any_of.front())) {
      return PredicateSql(p);
    }
    // On the driver's rid (d.rid), not the resource row's: the check then
    // runs before the candidate's resource row is read, so candidates it
    // rejects cost no read of the (large, cold) resources table.
    return std::string(p.negate ? "NOT " : "") + "EXISTS (SELECT 1 FROM " +
           OwnRowsFrom(TableName(p.table), "= d.rid", d_) + " AND x.pid " + PidOf(p.param) +
           " AND (" + Ors(p) + "))";
  }

  // A chain or reverse chain: the inner predicate runs over the other type
  // under a fresh alias.
  std::string ChainSql(const Predicate& p, const std::string& type, const std::string& alias) {
    std::string t = "t" + std::to_string(++depth_);
    if (!p.chain_type.empty()) {
      // Resource ids are at most 64 characters (fhir::IsValidId), shorter
      // than the index key, so the key equals an id only when tid does.
      return alias + ".rid IN (SELECT x.rid FROM ix_ref x WHERE x.pid = " + PidOf(type, p.param) +
             " AND x.ttype = " + Arg(p.chain_type) + " AND " + IndexKey("x.tid", d_) + " IN (SELECT " + t +
             ".id FROM resources " +
             t + " WHERE " + t + ".type = " + Arg(p.chain_type) + " AND " + t + ".deleted = 0" +
             Access(t) + " AND " + PredicateSql(p.chain.front(), p.chain_type, t) + "))";
    }
    return alias + ".id IN (SELECT x.tid FROM ix_ref x JOIN resources " + t + " ON " + t +
           ".rid = x.rid WHERE x.pid = " + PidOf(p.has_type, p.param) + " AND x.ttype = " +
           Arg(type) + " AND " + t + ".deleted = 0" + Access(t) + " AND " +
           PredicateSql(p.chain.front(), p.has_type, t) + ")";
  }

  // A plain predicate inside a chain (alias other than r): the same
  // conditions, correlated to `alias`.
  std::string NestedSql(const Predicate& p, const std::string& type, const std::string& alias) {
    if (p.any_of.empty()) return "TRUE";
    if (std::holds_alternative<IdCond>(p.any_of.front()) || p.last_updated) {
      std::string lu = "(SELECT lv.last_updated FROM versions lv WHERE lv.seq = " + alias + ".cur_seq)";
      std::string ors;
      for (const Condition& c : p.any_of) {
        if (!ors.empty()) ors += " OR ";
        if (auto* id = std::get_if<IdCond>(&c)) {
          ors += alias + ".id = " + Arg(id->id);
        } else if (auto* d = std::get_if<DateCond>(&c)) {
          ors += "(" + DateSql(*d, lu, "(" + lu + " + 1)") + ")";
        }
      }
      return (p.negate ? "NOT (" : "(") + ors + ")";
    }
    if (std::holds_alternative<MissingCond>(p.any_of.front())) {
      bool missing = std::get<MissingCond>(p.any_of.front()).missing;
      return std::string(missing ? "NOT " : "") + "EXISTS (SELECT 1 FROM " +
             OwnRowsFrom(TableName(p.table), "= " + alias + ".rid", d_) + " AND x.pid " +
             PidTest(type, p.param) + ")";
    }
    if (p.table == IndexTable::kComposite) {
      return alias + ".rid " + (p.negate ? "NOT IN (" : "IN (") +
             CompositeSub(p, "= " + PidOf(type, p.param)) + ")";
    }
    if (p.table == IndexTable::kText) {
      return alias + ".rid " + (p.negate ? "NOT IN (" : "IN (") + TextRidsSql(p, args_) + ")";
    }
    return alias + ".rid " + (p.negate ? "NOT IN (" : "IN (") + "SELECT x.rid FROM " +
           TableName(p.table) + " x WHERE x.pid " + PidTest(type, p.param) + " AND (" + Ors(p) +
           "))";
  }

  // The rids with a tuple of composite `p` (pid test `pid`) whose every
  // component matches, for any of p's values: one ix_comp row per component
  // (c0, c1, ...), joined on the tuple.
  std::string CompositeSub(const Predicate& p, const std::string& pid) {
    size_t n = 0;
    for (const Condition& c : p.any_of) {
      if (auto* comp = std::get_if<CompositeCond>(&c)) n = std::max(n, comp->components.size());
    }
    if (n == 0) return "SELECT NULL WHERE FALSE";
    std::string from = "ix_comp c0";
    for (size_t i = 1; i < n; ++i) {
      std::string c = "c" + std::to_string(i);
      from += " JOIN ix_comp " + c + " ON " + c + ".rid = c0.rid AND " + c + ".pid = c0.pid AND " +
              c + ".tup = c0.tup AND " + c + ".comp = " + std::to_string(i);
    }
    std::string ors;
    for (const Condition& c : p.any_of) {
      auto* comp = std::get_if<CompositeCond>(&c);
      if (comp == nullptr || comp->components.size() != n) continue;
      std::string ands;
      for (size_t i = 0; i < n; ++i) {
        cx_ = "c" + std::to_string(i);
        ands += (i ? " AND (" : "(") +
                std::visit([this](const auto& v) { return Sql(v); }, comp->components[i]) + ")";
      }
      cx_ = "x";
      ors += (ors.empty() ? "(" : " OR (") + ands + ")";
    }
    if (ors.empty()) ors = "FALSE";
    return "SELECT c0.rid FROM " + from + " WHERE c0.pid " + pid + " AND c0.comp = 0 AND (" + ors +
           ")";
  }

  // The alias of the index row the condition SQL tests ("x", or a
  // composite's component row).
  const std::string& X() const { return cx_; }

  // A cursor value as a bound argument; "no value" of an ascending key is the sentinel.
  std::string ValueArg(const SortValue& v, bool ascending) {
    if (auto* i = std::get_if<int64_t>(&v)) return Arg(*i);
    if (auto* d = std::get_if<double>(&v)) return Arg(*d);
    if (auto* t = std::get_if<std::string>(&v)) return Arg(*t);
    return ascending ? Arg(std::string(kNoSortValue)) : "NULL";
  }

  std::string Ors(const Predicate& p) {
    std::string ors;
    for (const Condition& c : p.any_of) {
      if (!ors.empty()) ors += " OR ";
      ors += "(" + ConditionSql(c) + ")";
    }
    return ors;
  }

  // Lower is more selective; 100: cannot drive (negated, :missing, on the
  // resource row, or no conditions).
  static int Rank(const Predicate& p) {
    if (p.negate || p.last_updated || p.any_of.empty() || p.table == IndexTable::kNone ||
        p.table == IndexTable::kComposite || !p.chain.empty()) {
      return 100;
    }
    const Condition& c = p.any_of.front();
    if (std::holds_alternative<MissingCond>(c)) return 100;
    // Words are usually rarer than a resource type's common codes.
    if (std::holds_alternative<TextCond>(c)) return 3;
    if (std::holds_alternative<GeoCond>(c)) return 4;
    if (auto* t = std::get_if<TokenCond>(&c)) return t->code ? 1 : 6;
    if (std::holds_alternative<ReferenceCond>(c)) return 2;
    if (auto* d = std::get_if<DateCond>(&c)) {
      // A day or less, matched exactly (a birth date), is about as selective as a code.
      return d->prefix == Prefix::kEq && d->high_ms - d->low_ms <= 86400000 ? 2 : 5;
    }
    if (auto* st = std::get_if<StringCond>(&c)) {
      return st->mode == StringCond::Mode::kExact ? 3 : st->mode == StringCond::Mode::kPrefix ? 4 : 8;
    }
    if (auto* u = std::get_if<UriCond>(&c)) return u->mode == UriCond::Mode::kEq ? 3 : 7;
    return 5;
  }

  static const char* TableName(IndexTable t) {
    switch (t) {
      case IndexTable::kString: return "ix_string";
      case IndexTable::kToken: return "ix_token";
      case IndexTable::kDate: return "ix_date";
      case IndexTable::kNumber: return "ix_number";
      case IndexTable::kQuantity: return "ix_quantity";
      case IndexTable::kReference: return "ix_ref";
      case IndexTable::kUri: return "ix_uri";
      case IndexTable::kComposite:
        return "ix_comp";
      case IndexTable::kText: return "ix_text";
      case IndexTable::kGeo: return "ix_geo";
      case IndexTable::kNone: break;
    }
    return "ix_token";
  }

  std::string ConditionSql(const Condition& c) {
    return std::visit([this](const auto& v) { return Sql(v); }, c);
  }

  std::string Sql(const StringCond& c) {
    switch (c.mode) {
      case StringCond::Mode::kExact:
        return TextEq(X() + ".exact", c.value, args_);
      case StringCond::Mode::kContains:
        return Find(X() + ".norm", Arg(c.value)) + " > 0";
      case StringCond::Mode::kPrefix:
        return TextPrefix(X() + ".norm", c.value, args_);
    }
    return "FALSE";
  }

  std::string Sql(const TokenCond& c) {
    std::string s = "TRUE";
    if (c.code) s += " AND " + TextEq(X() + ".code", *c.code, args_);
    if (c.system) s += " AND " + TextEq(X() + ".system", *c.system, args_);
    // :text matches anywhere in the display/text (so "height" finds "Body height").
    if (c.text) s += " AND " + Find(X() + ".text", Arg(*c.text)) + " > 0";
    if (c.type_system) s += " AND " + X() + ".type_system = " + Arg(*c.type_system);
    if (c.type_code) s += " AND " + X() + ".type_code = " + Arg(*c.type_code);
    return s;
  }

  // Row range [lo, hi) against query range [ql, qh) per the FHIR prefixes.
  std::string DateSql(const DateCond& c, const std::string& lo, const std::string& hi) {
    std::string ql = Arg(c.low_ms), qh = Arg(c.high_ms);
    switch (c.prefix) {
      // "lo < qh" follows from the others; it bounds the index range on lo.
      case Prefix::kEq: return lo + " >= " + ql + " AND " + lo + " < " + qh + " AND " + hi + " <= " + qh;
      case Prefix::kNe: return "NOT (" + lo + " >= " + ql + " AND " + hi + " <= " + qh + ")";
      case Prefix::kGt: return hi + " > " + qh;
      case Prefix::kLt: return lo + " < " + ql;
      case Prefix::kGe: return hi + " > " + ql;
      case Prefix::kLe: return lo + " < " + qh;
      case Prefix::kSa: return lo + " >= " + qh;
      case Prefix::kEb: return hi + " <= " + ql;
      case Prefix::kAp: {
        // Approximately: overlaps the query range widened by 10% of its span, at least a day.
        int64_t span = c.high_ms - c.low_ms;
        int64_t pad = std::max<int64_t>(span / 10, 86400000);
        return lo + " < " + Arg(c.high_ms + pad) + " AND " + hi + " > " + Arg(c.low_ms - pad);
      }
    }
    return "FALSE";
  }

  std::string Sql(const DateCond& c) { return DateSql(c, X() + ".lo", X() + ".hi"); }

  std::string NumberSql(const NumberCond& c) {
    std::string v = X() + ".val";
    switch (c.prefix) {
      case Prefix::kEq: return v + " >= " + Arg(c.low) + " AND " + v + " < " + Arg(c.high);
      case Prefix::kNe: return "NOT (" + v + " >= " + Arg(c.low) + " AND " + v + " < " + Arg(c.high) + ")";
      case Prefix::kGt:
      case Prefix::kSa: return v + " > " + Arg(c.value);
      case Prefix::kLt:
      case Prefix::kEb: return v + " < " + Arg(c.value);
      case Prefix::kGe: return v + " >= " + Arg(c.value);
      case Prefix::kLe: return v + " <= " + Arg(c.value);
      case Prefix::kAp: {
        double pad = c.value < 0 ? -c.value / 10 : c.value / 10;
        return v + " >= " + Arg(c.value - pad) + " AND " + v + " <= " + Arg(c.value + pad);
      }
    }
    return "FALSE";
  }

  std::string Sql(const NumberCond& c) {
    std::string s = NumberSql(c);
    if (!c.system.empty()) s += " AND " + X() + ".system = " + Arg(c.system);
    if (!c.code.empty()) {
      std::string code = Arg(c.code);
      s += " AND (" + X() + ".code = " + code + " OR " + X() + ".unit = " + code + ")";
    }
    return s;
  }

  std::string Sql(const ReferenceCond& c) {
    std::string s = "TRUE";
    if (c.id) s += " AND " + TextEq(X() + ".tid", *c.id, args_);
    if (c.type) s += " AND " + X() + ".ttype = " + Arg(*c.type);
    if (c.url) {
      s += " AND " + TextEq(X() + ".url", *c.url, args_);
      // Lets a generic plan use PostgreSQL's partial index on url (WHERE url <> '').
      if (!c.url->empty()) s += " AND " + X() + ".url <> ''";
    }
    return s;
  }

  std::string Sql(const UriCond& c) {
    switch (c.mode) {
      case UriCond::Mode::kEq:
        return TextEq(X() + ".uri", c.value, args_);
      case UriCond::Mode::kBelow:
        return TextPrefix(X() + ".uri", c.value, args_);
      case UriCond::Mode::kAbove:
        return Find(Arg(c.value), X() + ".uri") + " = 1";
    }
    return "FALSE";
  }

  // The bounding box (an index range on lat, and lon unless the circle
  // wraps), then the exact great-circle test as a chord between unit vectors
  // (fhir/index/geo.h).
  std::string Sql(const GeoCond& c) {
    namespace ix = fhir::index;
    ix::GeoBox box = ix::BoundingBox(c.latitude, c.longitude, c.km);
    std::string s = X() + ".lat >= " + Arg(box.min_lat) + " AND " + X() + ".lat <= " + Arg(box.max_lat);
    if (!box.all_longitudes) {
      s += " AND " + X() + ".lon >= " + Arg(box.min_lon) + " AND " + X() + ".lon <= " + Arg(box.max_lon);
    }
    ix::UnitVector u = ix::ToUnitVector(c.latitude, c.longitude);
    std::string dx = "(" + X() + ".ux - " + Arg(u.x) + ")", dy = "(" + X() + ".uy - " + Arg(u.y) + ")",
                dz = "(" + X() + ".uz - " + Arg(u.z) + ")";
    return s + " AND " + dx + " * " + dx + " + " + dy + " * " + dy + " + " + dz + " * " + dz +
           " <= " + Arg(ix::ChordSquaredForKm(c.km));
  }

  std::string Sql(const TextCond&) { return "FALSE"; }  // handled per predicate (TextRidsSql)
  std::string Sql(const MissingCond&) { return "FALSE"; }  // handled per predicate
  std::string Sql(const CompositeCond&) { return "FALSE"; }  // handled per predicate
  std::string Sql(const IdCond&) { return "FALSE"; }       // handled per predicate

  // The 1-based position of `needle` in `haystack`, 0 when absent.
  std::string Find(const std::string& haystack, const std::string& needle) {
    return std::string(d_.find_fn) + "(" + haystack + ", " + needle + ")";
  }

  const SearchQuery& q_;
  const Dialect& d_;
  ArgList args_;
  int depth_ = 0;  // for fresh aliases in chains
  std::string cx_ = "x";  // see X()
};

bool NeedsVersionJoin(const SearchQuery& q) {
  for (const auto& p : q.all_of) {
    if (p.last_updated) return true;
  }
  return false;
}

}  // namespace

CompiledSql CompilePage(const SearchQuery& query, const Dialect& dialect) {
  Builder b(query, dialect);
  CompiledSql out;
  if (query.sort.empty()) {
    std::string from_where = b.FromWhere(b.PickDriver(), query.after_rid, /*join_versions=*/true);
    out.sql =
        "SELECT r.rid, r.id, r.version, v.last_updated, v.body, r.patient, r.labels, "
        "r.author_org, r.type " +
        from_where + " ORDER BY r.rid LIMIT " + b.Arg(static_cast<int64_t>(query.count) + 1);
    out.args = b.TakeArgs();
    return out;
  }
  // Sorted: compute the keys per match, then page by (keys..., rid).
  std::string keys, order;
  for (size_t i = 0; i < query.sort.size(); ++i) {
    std::string sk = "sk" + std::to_string(i);
    keys += ", " + b.SortExpr(query.sort[i]) + " AS " + sk;
    order += sk + (query.sort[i].descending ? " DESC NULLS LAST, " : ", ");
  }
  std::string inner =
      "SELECT r.rid AS rid, r.id AS id, r.version AS version, "
      "v.last_updated AS last_updated, v.body AS body, r.patient AS patient, "
      "r.labels AS labels, r.author_org AS author_org, r.type AS type" +
      keys + " " + b.FromWhere(b.PickDriver(), 0, /*join_versions=*/true);
  std::string where = query.after_sort.empty() ? "" : " WHERE " + b.KeysetSql();
  out.sql = "SELECT * FROM (" + inner + ") page" + where + " ORDER BY " + order + "rid LIMIT " +
            b.Arg(static_cast<int64_t>(query.count) + 1);
  out.args = b.TakeArgs();
  return out;
}

CompiledSql CompileCount(const SearchQuery& query, const Dialect& dialect) {
  Builder b(query, dialect);
  CompiledSql out;
  int driver = b.PickDriver();
  // ix_text rows carry no parameter id (hence no type): counted through resources.
  if (driver >= 0 && query.all_of[driver].table == IndexTable::kText) driver = -1;
  if (driver >= 0 && query.all_of.size() == 1 && !query.access) {
    // Index rows exist only for current, non-deleted resources of the
    // parameter's type, so a lone predicate is counted from the index alone.
    out.sql = b.DriverCount(driver);
    out.args = b.TakeArgs();
    return out;
  }
  if (driver >= 0 && query.all_of.size() == 1 && !query.type.empty() && query.access->any_patient &&
      (!query.access->types || std::find(query.access->types->begin(), query.access->types->end(),
                                         query.type) != query.access->types->end())) {
    // A caller who may see any patient is kept only from sealed and locked
    // resources (AccessSql): count from the index alone, less the matches
    // among the type's few labelled resources (index resources_labelled)
    // that the caller may not see.
    std::string hidden = "SELECT count(*) FROM resources r WHERE r.type = " + b.Arg(query.type) +
                         " AND (r.labels & 3) <> 0 AND NOT (" +
                         AccessSql(*query.access, "r", b.args()) + ") AND " + b.DriverHolds(driver);
    out.sql = "SELECT (" + b.DriverCount(driver) + ") - (" + hidden + ")";
    out.args = b.TakeArgs();
    return out;
  }
  out.sql = "SELECT count(*) " + b.FromWhere(b.PickDriver(), 0, NeedsVersionJoin(query));
  out.args = b.TakeArgs();
  return out;
}

int64_t TrimPage(std::vector<SearchMatch>* rows, int count) {
  if (count < 0 || static_cast<int>(rows->size()) <= count) return 0;
  rows->resize(count);
  return rows->empty() ? 0 : rows->back().rid;
}

CompiledSql CompileCompartment(const CompartmentQuery& q, const Dialect& dialect) {
  ArgList args(dialect);
  std::string owner_type = args.Add(q.type), owner_id = args.Add(q.id);
  std::string links;
  for (const auto& [type, code] : q.links) {
    if (!links.empty()) links += ", ";
    links += "(" + args.Add(type) + ", " + args.Add(code) + ")";
  }
  std::string sql =
      "SELECT r.rid, r.id, r.version, v.last_updated, v.body, r.patient, r.labels, r.author_org, "
      "r.type FROM resources r "
      "JOIN versions v ON v.seq = r.cur_seq WHERE r.deleted = 0 AND r.rid > " +
      args.Add(q.after_rid) + " AND ((r.type = " + owner_type + " AND r.id = " + owner_id + ")";
  if (!links.empty()) {
    sql += " OR r.rid IN (SELECT x.rid FROM ix_ref x WHERE " + TextEq("x.tid", q.id, args) +
           " AND x.ttype = " + owner_type +
           " AND x.pid IN (SELECT pid FROM sp WHERE (type, code) IN (VALUES " + links + ")))";
  }
  sql += ")";
  if (!q.types.empty()) {
    sql += " AND r.type IN (";
    for (size_t i = 0; i < q.types.size(); ++i) sql += (i ? ", " : "") + args.Add(q.types[i]);
    sql += ")";
  }
  if (q.access) sql += " AND " + AccessSql(*q.access, "r", args);
  if (q.since_ms) sql += " AND v.last_updated >= " + args.Add(*q.since_ms);
  if ((q.care_low_ms || q.care_high_ms) && !q.care_dates.empty()) {
    std::string dated, pairs;
    for (const auto& [type, code] : q.care_dates) {
      dated += (dated.empty() ? "" : ", ") + args.Add(type);
      pairs += std::string(pairs.empty() ? "" : ", ") + "(" + args.Add(type) + ", " +
               args.Add(code) + ")";
    }
    std::string overlap;
    if (q.care_low_ms) overlap += " AND x.hi > " + args.Add(*q.care_low_ms);
    if (q.care_high_ms) overlap += " AND x.lo < " + args.Add(*q.care_high_ms);
    sql += " AND (r.type NOT IN (" + dated +
           ") OR EXISTS (SELECT 1 FROM " + OwnRowsFrom("ix_date", "= r.rid", dialect) +
           " AND x.pid IN (SELECT pid FROM sp WHERE (type, code) IN (VALUES " +
           pairs + "))" + overlap + "))";
  }
  sql += " ORDER BY r.rid LIMIT " + args.Add(static_cast<int64_t>(q.count) + 1);
  return {std::move(sql), args.Take()};
}

namespace {

constexpr const char* kHistoryColumns =
    "SELECT v.version, CASE WHEN v.body IS NULL THEN 1 ELSE 0 END, v.last_updated, v.method, "
    "v.body, v.seq, r.patient, r.labels, r.author_org, r.type, r.id ";

}  // namespace

CompiledSql CompileChanges(int64_t after_seq, int limit, const Dialect& dialect) {
  ArgList args(dialect);
  std::string sql = std::string(kHistoryColumns) +
                    "FROM versions v JOIN resources r ON r.rid = v.rid WHERE v.seq > " +
                    args.Add(after_seq) + " ORDER BY v.seq LIMIT " +
                    args.Add(static_cast<int64_t>(std::max(limit, 0)));
  return {std::move(sql), args.Take()};
}

CompiledSql CompileHistory(const HistoryQuery& q, const Dialect& dialect) {
  ArgList args(dialect);
  std::string sql = kHistoryColumns;
  if (q.id) {
    sql += "FROM resources r JOIN versions v ON v.rid = r.rid WHERE r.type = " +
           args.Add(q.type.value_or("")) + " AND r.id = " + args.Add(*q.id);
  } else if (q.type) {
    sql += "FROM versions v JOIN resources r ON r.rid = v.rid WHERE v.type = " + args.Add(*q.type);
  } else {
    sql += "FROM versions v JOIN resources r ON r.rid = v.rid WHERE TRUE";
  }
  if (q.before_seq > 0) sql += " AND v.seq < " + args.Add(q.before_seq);
  if (q.since_ms) sql += " AND v.last_updated >= " + args.Add(*q.since_ms);
  // Only versions of resources the caller may see (by their current facts).
  if (q.access) sql += " AND " + AccessSql(*q.access, "r", args);
  // One extra row tells whether more exist.
  sql += " ORDER BY v.seq DESC LIMIT " + args.Add(static_cast<int64_t>(q.count) + 1);
  return {std::move(sql), args.Take()};
}

}  // namespace crs::store::sql
