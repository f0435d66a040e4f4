// The GP2GP wire format (transfer_format.h) and the durable transfer state
// (transfer_log.h).
#include <gtest/gtest.h>
#include <stdlib.h>

#include <boost/json.hpp>
#include <filesystem>

#include "federation/transfer_format.h"
#include "federation/transfer_log.h"

namespace crs::federation {
namespace {

namespace json = boost::json;

TEST(FederationTransferFormatTest, IdsAreNamespacedDeterministicAndAtMost64Characters) {
  EXPECT_EQ(TransferredId("Y12345", "obs-1"), "Y12345-obs-1");
  std::string long_id(64, 'a');
  std::string hashed = TransferredId("Y12345", long_id);
  EXPECT_EQ(hashed.size(), std::string("Y12345-h-").size() + 40);
  EXPECT_TRUE(hashed.starts_with("Y12345-h-"));
  EXPECT_EQ(hashed, TransferredId("Y12345", long_id));
  EXPECT_NE(hashed, TransferredId("Y12345", std::string(64, 'b')));
  EXPECT_NE(TransferredId("Y12345", "x"), TransferredId("Y99999", "x"));
}

TEST(FederationTransferFormatTest, ARecordFollowsItsIdsAndSaysWhereItCameFrom) {
  std::set<std::pair<std::string, std::string>> manifest = {{"Encounter", "e1"},
                                                            {"Observation", "o1"}};
  std::string body = R"({"resourceType":"Observation","id":"o1",)"
                     R"("meta":{"versionId":"3","lastUpdated":"2026-01-01T00:00:00Z",)"
                     R"("security":[{"code":"R"}],)"
                     R"("tag":[{"system":"urn:opencrs:transferred-from","code":"Y00001|Observation/x"},)"
                     R"({"system":"urn:other","code":"keep"}]},)"
                     R"("subject":{"reference":"Patient/9990000018"},)"
                     R"("encounter":{"reference":"Encounter/e1"},)"
                     R"("performer":[{"reference":"Practitioner/p1"}],)"
                     R"("hasMember":[{"reference":"Observation/elsewhere"}]})";
  auto out = ForTransfer(body, "Y12345", "Observation", manifest);
  ASSERT_TRUE(out.ok()) << out.status().message();
  json::value v = json::parse(*out);
  EXPECT_EQ(v.at("id"), "Y12345-o1");
  EXPECT_EQ(v.at("encounter").at("reference"), "Encounter/Y12345-e1");
  // Outside the record: left as they were.
  EXPECT_EQ(v.at("subject").at("reference"), "Patient/9990000018");
  EXPECT_EQ(v.at("performer").at(0).at("reference"), "Practitioner/p1");
  EXPECT_EQ(v.at("hasMember").at(0).at("reference"), "Observation/elsewhere");
  EXPECT_FALSE(v.at("meta").as_object().contains("versionId"));
  EXPECT_FALSE(v.at("meta").as_object().contains("lastUpdated"));
  EXPECT_EQ(v.at("meta").at("security").at(0).at("code"), "R");  // labels travel
  const auto& tags = v.at("meta").at("tag").as_array();
  ASSERT_EQ(tags.size(), 2u);  // the earlier transfer's tag replaced, others kept
  auto from = TransferredFrom(*out);
  ASSERT_TRUE(from.has_value());
  EXPECT_EQ(from->first, "Y12345");
  EXPECT_EQ(from->second, "Observation/o1");
  EXPECT_FALSE(TransferredFrom(body.substr(0, 10)).has_value());
  EXPECT_FALSE(TransferredFrom(R"({"resourceType":"Observation"})").has_value());
  EXPECT_FALSE(ForTransfer("[1]", "Y12345", "Observation", manifest).ok());
}

TEST(FederationTransferLogTest, TransfersAndManifestsSurviveReopening) {
  char tmpl[] = "/tmp/crs-transfer-log-XXXXXX";
  ASSERT_NE(mkdtemp(tmpl), nullptr);
  std::string dir = tmpl;
  {
    auto log = TransferLog::Open(dir);
    ASSERT_TRUE(log.ok());
    Transfer t;
    t.id = "Y67890-1";
    t.direction = "out";
    t.nhs = "9990000018";
    t.peer = "Y67890";
    t.state = "sending";
    t.total = 3;
    t.chunks = 2;
    ASSERT_TRUE((*log)->Insert(t, {{"Encounter", "e1", 1}, {"Observation", "o1", 2},
                                   {"Observation", "o2", 1}}).ok());
    EXPECT_EQ((*log)->Insert(t, {}).code(), Code::kConflict);  // the id is taken
    Transfer in = t;
    in.id = "Y67890-2";
    in.direction = "in";
    in.state = "accepted";
    in.notified = true;
    ASSERT_TRUE((*log)->Insert(in, {}).ok());
  }
  auto log = TransferLog::Open(dir);
  ASSERT_TRUE(log.ok());
  auto t = (*log)->Get("Y67890-1");
  ASSERT_TRUE(t.ok());
  EXPECT_EQ(t->state, "sending");
  EXPECT_EQ(t->chunks, 2);
  auto items = (*log)->Items("Y67890-1", 1, 5);
  ASSERT_TRUE(items.ok());
  ASSERT_EQ(items->size(), 2u);
  EXPECT_EQ((*items)[0].id, "o1");
  EXPECT_EQ((*items)[0].version, 2);
  auto pending = (*log)->Pending();
  ASSERT_TRUE(pending.ok());
  ASSERT_EQ(pending->size(), 1u);  // the accepted and acknowledged one is done
  EXPECT_EQ((*pending)[0].id, "Y67890-1");
  t->state = "failed";
  t->reason = "no acknowledgement";
  ASSERT_TRUE((*log)->Update(*t).ok());
  EXPECT_TRUE((*log)->Pending()->empty());
  EXPECT_EQ((*log)->Get("nope").status().code(), Code::kNotFound);
  json::value listed = json::parse(TransfersJson(*(*log)->List()));
  EXPECT_EQ(listed.at("parameter").as_array().size(), 2u);
  std::filesystem::remove_all(dir);
}

}  // namespace
}  // namespace crs::federation
