// Clocks and FHIR/HTTP time formats. Time is carried as milliseconds since
// the Unix epoch (UTC) throughout the server.
//
// Thread safety: functions are pure; SystemClock is stateless.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace crs {

class Clock {
 public:
  virtual ~Clock() = default;
  virtual int64_t NowMs() const = 0;
};

// The real wall clock.
class SystemClock final : public Clock {
 public:
  int64_t NowMs() const override;
  static const SystemClock& Get();
};

// "2026-11-21T10:04:05.123Z" (a FHIR instant).
std::string FormatInstant(int64_t ms);
// "Sat, 21 Nov 2026 10:04:05 GMT" (RFC 9110 IMF-fixdate, for Last-Modified).
std::string FormatHttpDate(int64_t ms);

// Parses a FHIR date, dateTime or instant ("2026", "2026-11", "2026-11-21",
// "2026-11-21T10:04:05Z", "...+01:00", fractional seconds) into the first
// millisecond it denotes, UTC. A date-time without offset is taken as UTC.
// nullopt when malformed.
std::optional<int64_t> ParseFhirDateTime(std::string_view text);

}  // namespace crs
