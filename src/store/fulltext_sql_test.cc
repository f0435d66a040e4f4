#include "store/sql/fulltext_sql.h"

#include <gtest/gtest.h>

namespace crs::store::sql {
namespace {

TextCond Cond(std::vector<TextCond::Term> terms) { return TextCond{std::move(terms)}; }

TEST(FullTextSqlTest, Fts5AndTsQueryForms) {
  TextCond a = Cond({{{"heart"}, false}, {{"att"}, true}});
  TextCond b = Cond({{{"blood", "pressure"}, false}, {{"o'x\"y\\"}, true}});
  EXPECT_EQ(Fts5Query({&a, &b}, "content"),
            R"S({content} : (("heart" AND "att" *) OR ("blood pressure" AND "o'x""y\" *)))S");
  EXPECT_EQ(TsQuery({&a, &b}),
            R"S(('heart' & 'att':*) | (('blood' <-> 'pressure') & 'o''x"y\\':*))S");
  TextCond c = Cond({{{"right", "wri"}, true}});
  EXPECT_EQ(Fts5Query({&c}, "narrative"), R"S({narrative} : (("right wri" *)))S");
  EXPECT_EQ(TsQuery({&c}), "(('right' <-> 'wri':*))");
}

TEST(FullTextSqlTest, TheColumnFollowsTheParameter) {
  Predicate p;
  p.param = "_text";
  p.table = IndexTable::kText;
  p.any_of.push_back(Cond({{{"asthma"}, false}}));
  ArgList sqlite_args(kSqlite);
  EXPECT_EQ(TextRidsSql(p, sqlite_args), "SELECT rowid AS rid FROM ix_text WHERE ix_text MATCH ?1");
  EXPECT_EQ(std::get<std::string>(sqlite_args.Take()[0]), R"S({narrative} : (("asthma")))S");
  p.param = "_content";
  ArgList pg_args(kPostgres);
  EXPECT_EQ(TextRidsSql(p, pg_args),
            "SELECT rid FROM ix_text WHERE content @@ CAST($1 AS tsquery)");
  EXPECT_EQ(std::get<std::string>(pg_args.Take()[0]), "('asthma')");
}

}  // namespace
}  // namespace crs::store::sql
