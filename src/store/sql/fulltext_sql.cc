#include "store/sql/fulltext_sql.h"

#include <variant>

namespace crs::store::sql {

namespace {

// `s` between `quote`s, each `quote` inside doubled (FTS5 strings; tsquery
// lexemes also escape backslashes).
std::string Quoted(const std::string& s, char quote, bool escape_backslash) {
  std::string out(1, quote);
  for (char c : s) {
    if (c == quote || (escape_backslash && c == '\\')) out.push_back(c == '\\' ? '\\' : quote);
    out.push_back(c);
  }
  out.push_back(quote);
  return out;
}

std::string Join(const std::vector<std::string>& words) {
  std::string s;
  for (const auto& w : words) s += (s.empty() ? "" : " ") + w;
  return s;
}

}  // namespace

std::string Fts5Query(const std::vector<const TextCond*>& alternatives, const std::string& column) {
  std::string ors;
  for (const TextCond* c : alternatives) {
    std::string ands;
    for (const auto& t : c->terms) {
      if (t.words.empty()) continue;
      if (!ands.empty()) ands += " AND ";
      // FTS5's `ascii` tokenizer splits the quoted string into the phrase's
      // words; a '*' after it makes the last one a prefix.
      ands += Quoted(Join(t.words), '"', false) + (t.prefix ? " *" : "");
    }
    if (ands.empty()) continue;
    ors += (ors.empty() ? "(" : " OR (") + ands + ")";
  }
  // An alternative without words cannot come from the parser; match nothing.
  if (ors.empty()) return "{" + column + "} : \"\"";
  return "{" + column + "} : (" + ors + ")";
}

std::string TsQuery(const std::vector<const TextCond*>& alternatives) {
  std::string ors;
  for (const TextCond* c : alternatives) {
    std::string ands;
    for (const auto& t : c->terms) {
      if (t.words.empty()) continue;
      std::string phrase;
      for (size_t i = 0; i < t.words.size(); ++i) {
        if (i) phrase += " <-> ";
        phrase += Quoted(t.words[i], '\'', true);
        if (t.prefix && i + 1 == t.words.size()) phrase += ":*";
      }
      if (!ands.empty()) ands += " & ";
      ands += t.words.size() > 1 ? "(" + phrase + ")" : phrase;
    }
    if (ands.empty()) continue;
    ors += (ors.empty() ? "(" : " | (") + ands + ")";
  }
  return ors;
}

std::string TextRidsSql(const Predicate& p, ArgList& args) {
  std::vector<const TextCond*> alternatives;
  for (const Condition& c : p.any_of) {
    if (auto* t = std::get_if<TextCond>(&c)) alternatives.push_back(t);
  }
  std::string column = p.param == "_text" ? "narrative" : "content";
  if (args.dialect().tsvector) {
    std::string q = TsQuery(alternatives);
    if (q.empty()) return "SELECT rid FROM ix_text WHERE FALSE";
    return "SELECT rid FROM ix_text WHERE " + column + " @@ CAST(" + args.Add(q) + " AS tsquery)";
  }
  return "SELECT rowid AS rid FROM ix_text WHERE ix_text MATCH " +
         args.Add(Fts5Query(alternatives, column));
}

}  // namespace crs::store::sql
