#include "fhir/index/fulltext.h"

#include <gtest/gtest.h>

#include <boost/json.hpp>

namespace crs::fhir::index {
namespace {

using Words = std::vector<std::string>;

TEST(FullTextWordsTest, FoldsAndSplitsLikeTheStringParameters) {
  EXPECT_EQ(FullTextWords("Müller-Lüdenscheidt, ÅSA"), (Words{"muller", "ludenscheidt", "asa"}));
  EXPECT_EQ(FullTextWords("O'Brien  2020-01-02"), (Words{"o", "brien", "2020", "01", "02"}));
  EXPECT_EQ(FullTextWords("ﬁne Straße"), (Words{"fine", "strasse"}));
  EXPECT_EQ(FullTextWords("Łódź"), (Words{"łodz"}));  // no decomposition: kept
  EXPECT_EQ(FullTextWords(" ,;-- "), Words{});
  EXPECT_EQ(FullTextWords(std::string(300, 'a')).front().size(), kMaxFullTextWordBytes);
}

TEST(XhtmlToTextTest, TagsBreakWordsAndEntitiesAreDecoded) {
  EXPECT_EQ(
      FullTextWords(XhtmlToText(
          "<div xmlns=\"http://www.w3.org/1999/xhtml\"><p>Fish &amp; chips</p><td>a</td>"
          "<td>b</td><!-- hidden note --> &lt;x&gt; caf&#233; &#xE9;t&#xe9; &bogus; &nbsp;</div>")),
      (Words{"fish", "chips", "a", "b", "x", "cafe", "ete", "bogus"}));
  EXPECT_EQ(XhtmlToText("a &#0; &#xD800; &#99999999; b"), "a &#0; &#xD800; &#99999999; b");
  EXPECT_EQ(XhtmlToText("unclosed <b"), "unclosed  ");
}

TEST(ExtractFullTextTest, NarrativeAndEveryStringValue) {
  auto r = boost::json::parse(R"J({"resourceType":"Condition","id":"c1",
    "meta":{"versionId":"3","tag":[{"display":"hidden tag"}]},
    "text":{"status":"generated","div":"<div><b>Chronic</b> asthma</div>"},
    "code":{"coding":[{"system":"http://snomed.info/sct","code":"195967001","display":"Asthma"}],
            "text":"Asthma (disorder)"},
    "onsetAge":{"value":7,"unit":"years"},
    "note":[{"text":"Uses a \"blue\" inhaler"}],
    "contained":[{"resourceType":"Binary","data":"QUJDREVGRw=="}]})J");
  FullTextRow row = ExtractFullText(r);
  EXPECT_EQ(row.narrative, "chronic asthma");
  EXPECT_EQ(
      row.content,
      "c1 generated chronic asthma http snomed info sct 195967001 asthma asthma disorder years "
      "uses a blue inhaler");
  EXPECT_EQ(ExtractFullText(boost::json::parse(R"({"resourceType":"Binary","data":"QUJD"})")),
            FullTextRow{});
}

TEST(ExtractFullTextTest, LongTextsAreCut) {
  std::string many;
  for (int i = 0; i < 20000; ++i) many += "w" + std::to_string(i) + " ";
  boost::json::object o{{"resourceType", "Basic"}, {"text", {{"div", "<div>" + many + "</div>"}}}};
  FullTextRow row = ExtractFullText(o);
  EXPECT_EQ(std::count(row.narrative.begin(), row.narrative.end(), ' ') + 1,
            static_cast<long>(kMaxFullTextWords));
  // Long distinct words: cut by bytes first.
  std::string wide;
  for (int i = 0; i < 10000; ++i) wide += std::string(90, 'x') + std::to_string(i) + " ";
  row = ExtractFullText(boost::json::object{{"resourceType", "Basic"}, {"id", wide}});
  EXPECT_LE(row.content.size(), kMaxFullTextBytes);
  EXPECT_GT(row.content.size(), kMaxFullTextBytes - 100);
}

TEST(ParseFullTextQueryTest, WordsPhrasesAndPrefixes) {
  using T = FullTextTerm;
  auto q = ParseFullTextQuery(R"Q(Heart  "blood Pressure" diab* "right wri"* "o'brien")Q");
  ASSERT_TRUE(q.ok()) << q.status().ToString();
  EXPECT_EQ(*q, (std::vector<T>{{{"heart"}, false},
                                {{"blood", "pressure"}, false},
                                {{"diab"}, true},
                                {{"right", "wri"}, true},
                                {{"o", "brien"}, false}}));
  // A word that splits is a phrase; a '*' inside quotes is a prefix too.
  EXPECT_EQ(*ParseFullTextQuery("café-au-lait"), (std::vector<T>{{{"cafe", "au", "lait"}, false}}));
  EXPECT_EQ(*ParseFullTextQuery("\"heart att*\""), (std::vector<T>{{{"heart", "att"}, true}}));
  EXPECT_EQ(*ParseFullTextQuery("a - b"), (std::vector<T>{{{"a"}, false}, {{"b"}, false}}));
}

TEST(ParseFullTextQueryTest, RefusesWhatHasNoWords) {
  EXPECT_FALSE(ParseFullTextQuery("").ok());
  EXPECT_FALSE(ParseFullTextQuery("  * ").ok());
  EXPECT_FALSE(ParseFullTextQuery("\"\"").ok());
  EXPECT_FALSE(ParseFullTextQuery("\"unclosed phrase").ok());
  std::string many;
  for (size_t i = 0; i <= kMaxFullTextTerms; ++i) many += "w ";
  EXPECT_FALSE(ParseFullTextQuery(many).ok());
}

}  // namespace
}  // namespace crs::fhir::index
