#include "store/sqlite/includes.h"

#include <set>
#include <utility>

#include "store/sqlite/search_sql.h"

namespace crs::store::sqlite {
namespace {

struct Ref {
  std::string type;
  int64_t rid;
  std::string id;
};

std::string Placeholders(size_t first, size_t n) {
  std::string s;
  for (size_t i = 0; i < n; ++i) {
    if (i) s += ", ";
    s += "?" + std::to_string(first + i);
  }
  return s;
}

// "pid = (...)" or, for "*", every reference parameter of the type.
std::string PidClause(const Include& inc, std::vector<SqlArg>* args) {
  args->push_back(inc.source_type);
  std::string type_arg = "?" + std::to_string(args->size());
  if (inc.param == "*") {
    return "x.pid IN (SELECT pid FROM sp WHERE type = " + type_arg + ")";
  }
  args->push_back(inc.param);
  return "x.pid = (SELECT pid FROM sp WHERE type = " + type_arg + " AND code = ?" +
         std::to_string(args->size()) + ")";
}

constexpr const char* kColumns =
    "r.rid, r.id, r.version, v.last_updated, v.body, r.patient, r.labels, r.author_org, r.type "
    "FROM resources r "
    "JOIN versions v ON v.seq = r.cur_seq";

}  // namespace

Status LoadIncludes(Db& db, const SearchQuery& q, SearchResult* result) {
  if (q.includes.empty() || result->matches.empty()) return Status::Ok();
  std::set<std::pair<std::string, std::string>> seen;  // (type, id) already in the bundle
  std::vector<Ref> frontier;
  for (const auto& m : result->matches) {
    seen.insert({q.type, m.id});
    frontier.push_back({q.type, m.rid, m.id});
  }
  constexpr int kMaxRounds = 4;
  for (int round = 0; round < kMaxRounds && !frontier.empty(); ++round) {
    std::vector<Ref> next;
    for (const Include& inc : q.includes) {
      if (round > 0 && !inc.iterate) continue;
      std::vector<SqlArg> args;
      std::string sql;
      if (!inc.reverse) {
        // Resources referenced from frontier members of source_type.
        std::vector<int64_t> rids;
        for (const auto& f : frontier) {
          if (f.type == inc.source_type) rids.push_back(f.rid);
        }
        if (rids.empty()) continue;
        std::string pid = PidClause(inc, &args);
        size_t first = args.size() + 1;
        for (int64_t rid : rids) args.push_back(rid);
        sql = std::string("SELECT ") + kColumns +
              " WHERE r.deleted = 0 AND (r.type, r.id) IN (SELECT x.ttype, x.tid FROM ix_ref x "
              "WHERE " + pid + " AND x.rid IN (" + Placeholders(first, rids.size()) + ")";
        if (!inc.target_type.empty()) {
          args.push_back(inc.target_type);
          sql += " AND x.ttype = ?" + std::to_string(args.size());
        }
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
          std::string pid = PidClause(inc, &args);
          args.push_back(t);
          std::string ttype = "?" + std::to_string(args.size());
          size_t first = args.size() + 1;
          for (auto& id : tids) args.push_back(id);
          if (!union_sql.empty()) union_sql += " UNION ";
          union_sql += "SELECT x.rid FROM ix_ref x WHERE " + pid + " AND x.ttype = " + ttype +
                       " AND x.tid IN (" + Placeholders(first, tids.size()) + ")";
        }
        sql = std::string("SELECT ") + kColumns + " WHERE r.deleted = 0 AND r.rid IN (" +
              union_sql + ")";
      }
      if (q.access) {
        // Included resources are filtered like matches: the caller never
        // learns of a resource it may not see through an include.
        sql += " AND " + AccessSql(*q.access, "r", [&args](SqlArg v) {
          args.push_back(std::move(v));
          return "?" + std::to_string(args.size());
        });
      }
      CRS_ASSIGN_OR_RETURN(Stmt * s, db.PrepareDynamic(sql));
      BindArgs(s, args);
      Status st = Status::Ok();
      while (st.ok()) {
        auto row = s->Step();
        if (!row.ok()) {
          st = row.status();
          break;
        }
        if (!*row) break;
        std::string type(s->Text(5)), id(s->Text(1));
        if (!seen.insert({type, id}).second) continue;
        if (static_cast<int>(result->included.size()) >= q.include_limit) {
          ++result->included_left_out;
          continue;
        }
        auto m = MatchFromRow(*s, 8);
        if (!m.ok()) {
          st = m.status();
          break;
        }
        next.push_back({m->type, m->rid, m->id});
        result->included.push_back(std::move(*m));
      }
      s->Reset();
      CRS_RETURN_IF_ERROR(st);
    }
    frontier = std::move(next);
  }
  return Status::Ok();
}

}  // namespace crs::store::sqlite
