// Distances on the Earth for the special search parameter `near`
// (Location.position, WGS84 degrees; docs/search-index.md "near"), on a
// sphere of the Earth's mean radius.
//
// A search first keeps the positions inside a bounding box of the circle
// (an index range), then tests the great-circle distance exactly with
// arithmetic only (SQLite has no trigonometry in SQL): two points are within
// `km` of each other when the chord between their unit vectors is at most
// ChordSquaredForKm(km), which is the haversine test squared.
//
// Thread safety: pure functions.
#pragma once

#include <string_view>

namespace crs::fhir::index {

// The code of Location's special parameter, as GeoRow::param.
inline constexpr std::string_view kNearParam = "near";

inline constexpr double kEarthRadiusKm = 6371.0088;

// Great-circle distance by the haversine formula.
double HaversineKm(double lat1, double lon1, double lat2, double lon2);

struct UnitVector {
  double x = 0, y = 0, z = 0;
};
UnitVector ToUnitVector(double lat, double lon);

// The squared chord length between two unit vectors `km` apart on the
// surface (4 for the antipode and beyond).
double ChordSquaredForKm(double km);

// Latitudes and longitudes that hold every point within `km` of (lat, lon).
// `all_longitudes` when the circle reaches a pole or crosses the
// antimeridian (then only the latitude bounds apply).
struct GeoBox {
  double min_lat = 0, max_lat = 0, min_lon = 0, max_lon = 0;
  bool all_longitudes = false;
};
GeoBox BoundingBox(double lat, double lon, double km);

}  // namespace crs::fhir::index
