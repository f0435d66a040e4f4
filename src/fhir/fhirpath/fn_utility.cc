// trace(), now(), today(), timeOfDay().
#include <chrono>

#include "fhir/fhirpath/evaluator.h"

namespace crs::fhirpath {
namespace {

DateTimeValue SystemNow() {
  using namespace std::chrono;
  auto now = system_clock::now();
  auto days = floor<std::chrono::days>(now);
  year_month_day ymd(days);
  auto ms = duration_cast<milliseconds>(now - days).count();
  DateTimeValue v;
  v.kind = DateTimeKind::kDateTime;
  v.precision = DatePrecision::kMillisecond;
  v.year = static_cast<int16_t>(static_cast<int>(ymd.year()));
  v.month = static_cast<uint8_t>(static_cast<unsigned>(ymd.month()));
  v.day = static_cast<uint8_t>(static_cast<unsigned>(ymd.day()));
  v.hour = static_cast<uint8_t>(ms / 3600000);
  v.minute = static_cast<uint8_t>(ms / 60000 % 60);
  v.second = static_cast<uint8_t>(ms / 1000 % 60);
  v.millisecond = static_cast<uint16_t>(ms % 1000);
  v.has_tz = true;
  v.tz_minutes = 0;
  return v;
}

}  // namespace

Result<Collection> FnTrace(Evaluator& ev, const Node& n, Span input, Args args,
                                           const Scope& scope) {
  CRS_ASSIGN_OR_RETURN(std::optional<std::string_view> name, SingleString(args[0], "trace()"));
  if (ev.ctx().trace) {
    Collection shown;
    if (n.args.size() > 1) {
      for (size_t i = 0; i < input.size(); ++i) {
        CRS_ASSIGN_OR_RETURN(Collection r, ev.Lambda(*n.args[1], input, i, scope));
        for (Item& item : r) shown.push_back(std::move(item));
      }
    } else {
      shown.assign(input.begin(), input.end());
    }
    ev.ctx().trace(name.value_or(""), shown);
  }
  return Collection(input.begin(), input.end());
}

Result<Collection> CallUtility(Evaluator& ev, const Node& n, Span input, Args args,
                              const Scope& scope) {
  switch (n.fn) {
    case Fn::kNow:
    case Fn::kToday:
    case Fn::kTimeOfDay: {
      DateTimeValue now = ev.ctx().now ? *ev.ctx().now : SystemNow();
      if (n.fn == Fn::kToday) {
        now.kind = DateTimeKind::kDate;
        now.has_tz = false;
        now.precision = DatePrecision::kDay;
      } else if (n.fn == Fn::kTimeOfDay) {
        now.kind = DateTimeKind::kTime;
        now.has_tz = false;
      }
      return Collection{Item::FromDateTime(now)};
    }
    default: break;
  }
  return EvalError("function " + n.name + " is not implemented");
}

}  // namespace crs::fhirpath
