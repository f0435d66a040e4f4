#include "fhir/index/geo.h"

#include <gtest/gtest.h>

#include <cmath>

namespace crs::fhir::index {
namespace {

// The exact test the search SQL runs (store/sql/search_sql.cc).
bool WithinByChord(double lat1, double lon1, double lat2, double lon2, double km) {
  UnitVector a = ToUnitVector(lat1, lon1), b = ToUnitVector(lat2, lon2);
  double dx = a.x - b.x, dy = a.y - b.y, dz = a.z - b.z;
  return dx * dx + dy * dy + dz * dz <= ChordSquaredForKm(km);
}

bool InBox(const GeoBox& b, double lat, double lon) {
  return lat >= b.min_lat && lat <= b.max_lat &&
         (b.all_longitudes || (lon >= b.min_lon && lon <= b.max_lon));
}

TEST(GeoTest, HaversineKnownDistances) {
  // Leeds General Infirmary to London Charing Cross: ~272 km.
  EXPECT_NEAR(HaversineKm(53.8018, -1.5519, 51.5074, -0.1278), 272.0, 2.0);
  // A degree of latitude: ~111.2 km; a quarter of the equator: ~10,007.5 km.
  EXPECT_NEAR(HaversineKm(0, 0, 1, 0), 111.195, 0.01);
  EXPECT_NEAR(HaversineKm(0, 0, 0, 90), 10007.5, 0.5);
  EXPECT_NEAR(HaversineKm(10, 179.9, 10, -179.9), 21.9, 0.1);  // across the antimeridian
  EXPECT_DOUBLE_EQ(HaversineKm(53, -1, 53, -1), 0);
}

TEST(GeoTest, TheChordTestAgreesWithHaversineAndTheBoxHoldsTheCircle) {
  const double centres[][2] = {{53.8, -1.55}, {0, 0}, {-33.9, 151.2}, {89.5, 10}, {10, 179.95}};
  for (const auto& c : centres) {
    for (double km : {0.5, 3.0, 50.0, 400.0}) {
      GeoBox box = BoundingBox(c[0], c[1], km);
      for (int i = 0; i < 72; ++i) {
        for (double f : {0.5, 0.98, 1.02, 1.5}) {
          // A point at distance f*km, bearing i*5 degrees (spherical destination formula).
          double d = f * km / kEarthRadiusKm, brg = i * 5 * M_PI / 180;
          double p1 = c[0] * M_PI / 180, l1 = c[1] * M_PI / 180;
          double p2 =
              std::asin(std::sin(p1) * std::cos(d) + std::cos(p1) * std::sin(d) * std::cos(brg));
          double l2 = l1 + std::atan2(std::sin(brg) * std::sin(d) * std::cos(p1),
                                      std::cos(d) - std::sin(p1) * std::sin(p2));
          double lat = p2 * 180 / M_PI, lon = std::remainder(l2 * 180 / M_PI, 360.0);
          bool inside = HaversineKm(c[0], c[1], lat, lon) <= km;
          EXPECT_EQ(inside, f < 1) << c[0] << "," << c[1] << " " << km << " km x" << f;
          EXPECT_EQ(WithinByChord(c[0], c[1], lat, lon, km), inside);
          if (inside) {
            EXPECT_TRUE(InBox(box, lat, lon)) << lat << "," << lon << " " << km << " km";
          }
        }
      }
    }
  }
  EXPECT_DOUBLE_EQ(ChordSquaredForKm(30000), 4.0);
  EXPECT_TRUE(BoundingBox(89.9, 0, 20).all_longitudes);
}

}  // namespace
}  // namespace crs::fhir::index
