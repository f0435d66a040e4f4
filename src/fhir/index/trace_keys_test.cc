// Trace keys (trace_keys.h): the rows a Patient gets so that a trace seeks
// the day's namesakes, sound-alikes and neighbours.
#include "fhir/index/trace_keys.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <algorithm>
#include <boost/json.hpp>

#include "fhir/index/extract.h"
#include "fhir/index/row_format.h"

namespace crs::fhir::index {
namespace {

using ::testing::ElementsAre;
using ::testing::IsEmpty;
using testing::StringsOf;

// ExtractIndex's rows plus the trace keys, as a node keeping them writes.
IndexEntries Extract(std::string_view text) {
  boost::json::value v = boost::json::parse(text);
  auto r = ExtractIndex(v);
  EXPECT_TRUE(r.ok()) << r.status().ToString();
  if (!r.ok()) return IndexEntries();
  EXPECT_THAT(StringsOf(*r, kTracePhonetic), IsEmpty()) << "only a node keeping them adds them";
  AddTraceKeys(v, &*r);
  return std::move(r).value();
}

TEST(TraceKeysTest, EveryNameSoundAndPostcodeOnTheBirthDay) {
  IndexEntries e = Extract(R"({"resourceType":"Patient","birthDate":"1980-03-07",
    "name":[{"use":"official","family":"O'Brien-Smith","given":["Zoë","Anne"]},
            {"use":"old","family":"Watson","period":{"end":"2010-06-01"}}],
    "address":[{"postalCode":"LS1 4AB"},{"use":"old","postalCode":"yo10  5dd"}]})");
  EXPECT_THAT(StringsOf(e, kTraceFamily),
              ElementsAre("1980-03-07 o'brien-smith|", "1980-03-07 watson|"));
  // Soundex of each word and of the words run together (phonetic.h), sound
  // first.
  EXPECT_THAT(StringsOf(e, kTracePhonetic),
              ElementsAre("a500 1980-03-07|", "o165 1980-03-07|",
                          "s530 1980-03-07|", "w325 1980-03-07|", "z000 1980-03-07|"));
  EXPECT_THAT(StringsOf(e, kTracePostcode),
              ElementsAre("1980-03-07 ls1 4ab|", "1980-03-07 yo10 5dd|"));
  // Not a search parameter: `:missing` knows nothing of them.
  for (std::string_view p : e.present) EXPECT_FALSE(p.starts_with("_trace-")) << p;
  // The rows stay sorted and unique, as extraction leaves them.
  EXPECT_TRUE(std::is_sorted(e.strings.begin(), e.strings.end()));
  EXPECT_EQ(std::adjacent_find(e.strings.begin(), e.strings.end()), e.strings.end());
}

TEST(TraceKeysTest, APartialBirthDateHasOnlyPhoneticKeysOtherTypesNone) {
  for (const char* birth : {"1980", "1980-03"}) {
    IndexEntries e = Extract(std::string(R"({"resourceType":"Patient","birthDate":")") + birth +
                             R"(","name":[{"family":"Smith"}],"address":[{"postalCode":"LS1"}]})");
    EXPECT_THAT(StringsOf(e, kTraceFamily), IsEmpty()) << birth;
    EXPECT_THAT(StringsOf(e, kTracePhonetic), ElementsAre("s530 " + std::string(birth) + "|"));
    EXPECT_THAT(StringsOf(e, kTracePostcode), IsEmpty()) << birth;
    EXPECT_THAT(StringsOf(e, "family"), ElementsAre("smith|Smith")) << birth;
  }
  for (const char* birth : {R"("birthDate":"198",)", R"("birthDate":"1980-3",)", ""}) {
    IndexEntries e = Extract(std::string(R"({"resourceType":"Patient",)") + birth +
                             R"("name":[{"family":"Smith"}]})");
    EXPECT_THAT(StringsOf(e, kTracePhonetic), IsEmpty()) << birth;
  }
  IndexEntries practitioner = Extract(R"({"resourceType":"Practitioner","birthDate":"1970-01-01",
    "name":[{"family":"Smith"}]})");
  EXPECT_THAT(StringsOf(practitioner, kTraceFamily), IsEmpty());
}

TEST(TraceKeysTest, FullDates) {
  EXPECT_TRUE(IsFullDate("2000-02-29"));
  for (const char* d : {"2000-02", "2000", "2000-02-2", "2000/02/29", "eq2000-02-29", "2000-0a-29"}) {
    EXPECT_FALSE(IsFullDate(d)) << d;
  }
  EXPECT_EQ(TraceKey("2000-02-29", "smith"), "2000-02-29 smith");
  EXPECT_EQ(PhoneticTraceKey("s530", "2000-02"), "s530 2000-02");
  for (const char* d : {"2000-02-29", "2000-02", "2000"}) EXPECT_TRUE(IsBirthDate(d)) << d;
  for (const char* d : {"200", "2000-2", "2000-02-2", "20000", "2000/02", "2000-0a"}) {
    EXPECT_FALSE(IsBirthDate(d)) << d;
  }
}

}  // namespace
}  // namespace crs::fhir::index
