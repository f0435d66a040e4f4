// The official R4 examples (../shared/fhir-r4-examples): every one can be
// created and read back equal apart from id and meta.
#include <filesystem>

#include "e2e/fixture.h"

namespace crs::e2e {
namespace {

namespace json = boost::json;
namespace fs = std::filesystem;

std::vector<fs::path> Examples() {
  std::vector<fs::path> out;
  fs::path dir = fs::path(CRS_SHARED_DIR) / "fhir-r4-examples";
  std::error_code ec;
  for (const auto& e : fs::directory_iterator(dir, ec)) {
    if (e.path().extension() == ".json") out.push_back(e.path());
  }
  std::sort(out.begin(), out.end());
  return out;
}

json::value WithoutIdAndMeta(json::value v) {
  v.as_object().erase("id");
  v.as_object().erase("meta");
  return v;
}

using ExamplesTest = ServerTest;

TEST_F(ExamplesTest, EveryOfficialExampleRoundTrips) {
  auto files = Examples();
  if (files.empty()) GTEST_SKIP() << "no examples at " << CRS_SHARED_DIR;
  EXPECT_EQ(files.size(), 89u);
  for (const auto& f : files) {
    std::string text = ReadFile(f.string());
    auto original = json::parse(text);
    std::string type(original.at("resourceType").as_string());
    auto created = Post("/fhir/" + type, text);
    ASSERT_EQ(created.status, 201) << f.filename() << ": " << created.body;
    auto read = Get("/fhir/" + IdFromLocation(created.Header("location")));
    ASSERT_EQ(read.status, 200) << f.filename();
    EXPECT_EQ(WithoutIdAndMeta(read.Json()), WithoutIdAndMeta(original)) << f.filename();
    // Update with the client's id works too, and reads back equal.
    std::string id(original.at("id").as_string());
    auto put = Put("/fhir/" + type + "/" + id, text);
    ASSERT_EQ(put.status, 201) << f.filename() << ": " << put.body;
    EXPECT_EQ(WithoutIdAndMeta(Get("/fhir/" + type + "/" + id).Json()),
              WithoutIdAndMeta(original));
  }
}

TEST_F(ExamplesTest, OfficialTransactionsNeedingConditionalOpsFailWholeAndWriteNothing) {
  // Both official transaction examples use conditional create/update/delete,
  // which needs search (not implemented yet): the server must refuse the
  // whole transaction, say why, and write nothing.
  for (const char* name : {"Bundle-bundle-transaction.json", "Bundle-xds.json"}) {
    std::string text = ReadFile(std::string(CRS_SHARED_DIR) + "/fhir-r4-examples/" + name);
    if (text.empty()) GTEST_SKIP() << "missing " << name;
    auto r = Post("/fhir", text);
    EXPECT_EQ(r.status, 400) << name << ": " << r.body;
    EXPECT_NE(r.body.find("search"), std::string::npos) << r.body;
  }
  EXPECT_FALSE(Get("/fhir/_history").Json().as_object().contains("entry"));
}

TEST_F(ExamplesTest, OfficialBatchesAnswerEveryEntry) {
  std::string patient = ReadFile(std::string(CRS_SHARED_DIR) + "/fhir-r4-examples/Patient-example.json");
  for (const char* name :
       {"Bundle-bundle-request-medsallergies.json", "Bundle-bundle-request-simplesummary.json"}) {
    std::string text = ReadFile(std::string(CRS_SHARED_DIR) + "/fhir-r4-examples/" + name);
    if (text.empty()) GTEST_SKIP() << "missing " << name;
    auto request = json::parse(text);
    auto r = Post("/fhir", text);
    ASSERT_EQ(r.status, 200) << name << ": " << r.body;
    auto b = r.Json();
    EXPECT_EQ(b.at("type"), "batch-response");
    ASSERT_EQ(b.at("entry").as_array().size(), request.at("entry").as_array().size());
    // The first entry reads Patient/example, which is not loaded here: 404;
    // the searches are refused per entry until search exists.
    EXPECT_EQ(b.at("entry").at(0).at("response").at("status"), "404 Not Found");
    for (auto& e : b.at("entry").as_array()) {
      EXPECT_TRUE(e.at("response").as_object().contains("status"));
    }
  }
}

}  // namespace
}  // namespace crs::e2e
