#include "store/sql/includes.h"

#include <set>
#include <utility>

#include "store/sql/search_sql.h"

namespace crs::store::sql {
namespace {

struct Ref {
  std::string type;
  int64_t rid;
  std::string id;
};

// "pid = (...)" or, for "*", every reference parameter of the type.
std::string PidClause(const Include& inc, ArgList& args) {
  std::string type_arg = args.Add(inc.source_type);
  if (inc.param == "*") {
    return "x.pid IN (SELECT pid FROM sp WHERE type = " + type_arg + ")";
  }
  return "x.pid = (SELECT pid FROM sp WHERE type = " + type_arg +
         " AND code = " + args.Add(inc.param) + ")";
}

// A placeholder list for `values`.
template <typename T>
std::string List(const std::vector<T>& values, ArgList& args) {
  std::string s;
  for (const T& v : values) s += (s.empty() ? "" : ", ") + args.Add(v);
  return s;
}

constexpr const char* kColumns =
    "r.rid, r.id, r.version, v.last_updated, v.body, r.patient, r.labels, r.author_org, r.type "
    "FROM resources r "
    "JOIN versions v ON v.seq = r.cur_seq";

}  // namespace

Status LoadIncludes(const SearchQuery& q, const Dialect& dialect, const RunMatches& run,
                    SearchResult* result) {
  if (q.includes.empty() || result->matches.empty()) return Status::Ok();
  std::set<std::pair<std::string, std::string>> seen;  // (type, id) already in the bundle
  std::vector<Ref> frontier;
  for (const auto& m : result->matches) {
    const std::string& type = m.type.empty() ? q.type : m.type;
    seen.insert({type, m.id});
    frontier.push_back({type, m.rid, m.id});
  }
  constexpr int kMaxRounds = 4;
  for (int round = 0; round < kMaxRounds && !frontier.empty(); ++round) {
    std::vector<Ref> next;
    for (const Include& inc : q.includes) {
      if (round > 0 && !inc.iterate) continue;
      ArgList args(dialect);
      std::string sql;
      if (!inc.reverse) {
        // Resources referenced from frontier members of source_type.
        std::vector<int64_t> rids;
        for (const auto& f : frontier) {
          if (f.type == inc.source_type) rids.push_back(f.rid);
        }
        if (rids.empty()) continue;
        std::string pid = PidClause(inc, args);
        sql = std::string("SELECT ") + kColumns +
              " WHERE r.deleted = 0 AND (r.type, r.id) IN (SELECT x.ttype, x.tid FROM " +
              OwnRowsFrom("ix_ref", "IN (" + List(rids, args) + ")", dialect) + " AND " + pid;
        if (!inc.target_type.empty()) sql += " AND x.ttype = " + args.Add(inc.target_type);
        sql += ")";
      } else {
        // Resources of source_type whose param references frontier members.
        std::set<std::string> types;
        for (const auto& f : frontier) types.insert(f.type);
        std::string union_sql;
        for (const std::string& t : types) {
          std::vector<std::string> tids;
          for (const auto& f : frontier) {
            if (f.type == t) tids.push_back(f.id);
          }
          std::string pid = PidClause(inc, args);
          std::string ttype = args.Add(t);
          if (!union_sql.empty()) union_sql += " UNION ";
          // Ids are shorter than the index key (fhir::IsValidId): key equals id iff tid does.
          union_sql += "SELECT x.rid FROM ix_ref x WHERE " + pid + " AND x.ttype = " + ttype +
                       " AND " + IndexKey("x.tid", args.dialect()) + " IN (" + List(tids, args) +
                       ")";
        }
        sql = std::string("SELECT ") + kColumns + " WHERE r.deleted = 0 AND r.rid IN (" +
              union_sql + ")";
      }
      if (q.access) {
        // Included resources are filtered like matches: the caller never
        // learns of a resource it may not see through an include.
        sql += " AND " + AccessSql(*q.access, "r", args);
      }
      CRS_ASSIGN_OR_RETURN(std::vector<SearchMatch> found, run({std::move(sql), args.Take()}));
      for (SearchMatch& m : found) {
        if (!seen.insert({m.type, m.id}).second) continue;
        if (static_cast<int>(result->included.size()) >= q.include_limit) {
          ++result->included_left_out;
          continue;
        }
        next.push_back({m.type, m.rid, m.id});
        result->included.push_back(std::move(m));
      }
    }
    frontier = std::move(next);
  }
  return Status::Ok();
}

}  // namespace crs::store::sql
