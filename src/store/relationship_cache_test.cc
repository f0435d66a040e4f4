#include "store/relationship_cache.h"

#include <string>
#include <thread>
#include <vector>

#include <gtest/gtest.h>

namespace crs::store {
namespace {

TEST(RelationshipCacheTest, AnswersWhatWasPutUnderTheSameGeneration) {
  RelationshipCache cache(16);
  EXPECT_EQ(cache.Find(0, "Y12345", "9990000018"), std::nullopt);
  cache.Put(0, "Y12345", "9990000018", true);
  cache.Put(0, "Y12345", "9990000026", false);
  EXPECT_EQ(cache.Find(0, "Y12345", "9990000018"), true);
  EXPECT_EQ(cache.Find(0, "Y12345", "9990000026"), false);
  // Another organisation, or the same bytes split differently, is another key.
  EXPECT_EQ(cache.Find(0, "A81001", "9990000018"), std::nullopt);
  EXPECT_EQ(cache.Find(0, "Y123459", "990000018"), std::nullopt);
  // A new answer for the same key replaces the old one.
  cache.Put(0, "Y12345", "9990000026", true);
  EXPECT_EQ(cache.Find(0, "Y12345", "9990000026"), true);
}

TEST(RelationshipCacheTest, AGenerationChangeDropsEveryAnswer) {
  RelationshipCache cache(16);
  cache.Put(7, "Y12345", "9990000018", false);
  EXPECT_EQ(cache.Find(7, "Y12345", "9990000018"), false);
  // The writer changed `rel`: the answer from before may be wrong now.
  EXPECT_EQ(cache.Find(8, "Y12345", "9990000018"), std::nullopt);
  cache.Put(8, "Y12345", "9990000018", true);
  EXPECT_EQ(cache.Find(8, "Y12345", "9990000018"), true);
  // A slow reader's answer from the old generation does not pass for current.
  cache.Put(7, "Y12345", "9990000018", false);
  EXPECT_EQ(cache.Find(8, "Y12345", "9990000018"), std::nullopt);
}

TEST(RelationshipCacheTest, LongKeysAreNotKept) {
  RelationshipCache cache(16);
  std::string patient(RelationshipCache::kMaxKey, 'p');  // with the org: too long
  cache.Put(0, "Y12345", patient, true);
  EXPECT_EQ(cache.Find(0, "Y12345", patient), std::nullopt);
  std::string fits(RelationshipCache::kMaxKey - 6, 'p');
  cache.Put(0, "Y12345", fits, true);
  EXPECT_EQ(cache.Find(0, "Y12345", fits), true);
}

TEST(RelationshipCacheTest, AFullTableKeepsTheRecentAnswers) {
  // 4 sets of 4 ways: 16 answers at most. Put 1,000 keys: the last ones are
  // answered, every answer given is the one put, and nothing stops the
  // table from taking new keys once it is full.
  RelationshipCache cache(4);
  for (int i = 0; i < 1000; ++i) cache.Put(0, "Y12345", std::to_string(i), i % 3 == 0);
  int kept = 0;
  for (int i = 0; i < 1000; ++i) {
    std::optional<bool> got = cache.Find(0, "Y12345", std::to_string(i));
    if (!got) continue;
    ++kept;
    EXPECT_EQ(*got, i % 3 == 0) << i;
  }
  EXPECT_GT(kept, 0);
  EXPECT_LE(kept, 16);
  EXPECT_EQ(cache.Find(0, "Y12345", "999"), true);  // the last one put
}

TEST(RelationshipCacheTest, ConcurrentReadersAndWritersSeeOnlyAnswersPut) {
  RelationshipCache cache(64);
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&cache, t] {
      for (int i = 0; i < 20000; ++i) {
        std::string patient = std::to_string(i % 500);
        bool answer = (i % 500) % 2 == 0;  // the same answer for a key in every thread
        if ((i + t) % 2 == 0) {
          cache.Put(0, "Y12345", patient, answer);
        } else if (std::optional<bool> got = cache.Find(0, "Y12345", patient)) {
          ASSERT_EQ(*got, answer) << patient;
        }
      }
    });
  }
  for (auto& t : threads) t.join();
}

}  // namespace
}  // namespace crs::store
