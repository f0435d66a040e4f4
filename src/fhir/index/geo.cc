#include "fhir/index/geo.h"

#include <algorithm>
#include <cmath>
#include <numbers>

namespace crs::fhir::index {

namespace {

double Radians(double deg) { return deg * std::numbers::pi / 180.0; }
double Degrees(double rad) { return rad * 180.0 / std::numbers::pi; }

}  // namespace

double HaversineKm(double lat1, double lon1, double lat2, double lon2) {
  double dlat = Radians(lat2 - lat1), dlon = Radians(lon2 - lon1);
  double a = std::sin(dlat / 2) * std::sin(dlat / 2) + std::cos(Radians(lat1)) *
                                                           std::cos(Radians(lat2)) *
                                                           std::sin(dlon / 2) * std::sin(dlon / 2);
  return 2 * kEarthRadiusKm * std::asin(std::min(1.0, std::sqrt(a)));
}

UnitVector ToUnitVector(double lat, double lon) {
  double phi = Radians(lat), lambda = Radians(lon);
  return {std::cos(phi) * std::cos(lambda), std::cos(phi) * std::sin(lambda), std::sin(phi)};
}

double ChordSquaredForKm(double km) {
  double angle = km / kEarthRadiusKm;
  if (angle >= std::numbers::pi) return 4.0;
  double chord = 2 * std::sin(angle / 2);
  return chord * chord;
}

GeoBox BoundingBox(double lat, double lon, double km) {
  GeoBox b;
  double dlat = Degrees(km / kEarthRadiusKm);
  b.min_lat = std::max(-90.0, lat - dlat);
  b.max_lat = std::min(90.0, lat + dlat);
  if (lat + dlat >= 90.0 || lat - dlat <= -90.0) {
    b.all_longitudes = true;
    return b;
  }
  // The widest longitude span of the circle (at the latitude where it is
  // tangent to a meridian), not the span at the centre's latitude.
  double s = std::sin(km / kEarthRadiusKm) / std::cos(Radians(lat));
  if (s >= 1.0) {
    b.all_longitudes = true;
    return b;
  }
  double dlon = Degrees(std::asin(s));
  b.min_lon = lon - dlon;
  b.max_lon = lon + dlon;
  if (b.min_lon < -180.0 || b.max_lon > 180.0) b.all_longitudes = true;
  return b;
}

}  // namespace crs::fhir::index
