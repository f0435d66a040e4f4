#include "fhir/index/phonetic.h"

#include <gtest/gtest.h>

namespace crs::fhir::index {
namespace {

TEST(SoundexTest, ReferenceCodes) {
  // The classic examples of the US National Archives rules.
  const std::pair<const char*, const char*> kCases[] = {
      {"Robert", "r163"},   {"Rupert", "r163"},  {"Rubin", "r150"},   {"Ashcraft", "a261"},
      {"Ashcroft", "a261"}, {"Tymczak", "t522"}, {"Pfister", "p236"}, {"Honeyman", "h555"},
      {"Lee", "l000"},      {"A", "a000"}};
  for (const auto& [name, key] : kCases) EXPECT_EQ(Soundex(name), key) << name;
}

TEST(SoundexTest, SpellingsOfOneNameShareAKey) {
  const std::vector<std::vector<const char*>> kGroups = {
      {"Smith", "Smyth", "Smithe", "SMITH"},
      {"Jonathan", "Jonathon"},
      {"Catherine", "Katherine", "Kathryn"},
      {"Philip", "Phillip", "Filip"},
      {"Müller", "Muller", "mueller"},
      {"O'Brien", "OBrien", "obrien"}};
  for (const auto& group : kGroups) {
    auto want = PhoneticKeys(group[0]);
    for (const char* name : group) EXPECT_EQ(PhoneticKeys(name), want) << name << " vs " << group[0];
  }
  EXPECT_NE(Soundex("Smith"), Soundex("Jones"));
}

TEST(SoundexTest, WordsAndJoined) {
  EXPECT_EQ(PhoneticKeys("Smith-Jones"), (std::vector<std::string>{"j520", "s530", "s532"}));
  EXPECT_TRUE(PhoneticKeys("").empty());
  EXPECT_TRUE(PhoneticKeys("--- 123").empty());
  EXPECT_EQ(Soundex("1234"), "");
}

}  // namespace
}  // namespace crs::fhir::index
