#!/usr/bin/env bash
# Search benchmark: a `crs gen` population (patients plus their summary
# items) loaded through transactions, then wrk (keep-alive, 64 connections,
# 2 threads) on selective searches, and _summary=count of a common code.
#
#   CRS_BENCH_PATIENTS=100000 bash bench/search.sh
#   CRS_BENCH_STORE=postgres bash bench/search.sh   # on PostgreSQL (bench/postgres.sh)
#   LOAD=import CRS_BENCH_PATIENTS=1000000 bash bench/search.sh  # load with crs import
#   CONNS=16 bash bench/search.sh                   # fewer connections (latency below saturation)
#   CRS_BENCH_KEEP=/tmp/search-1m LOAD=import ...  # keep the loaded node there (SQLite),
#                                                   # and reuse it when it exists
#   OBSERVATIONS=3 ...                              # vital signs per patient (default 3: with the
#                                                   # records, about 5 clinical resources per patient)
#
# Every request carries a backend-service bearer token (role system, scope
# system/*.cruds) minted from the server's data dir. CRS=path overrides
# build/crs.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"
CRS=${CRS:-build/crs}
N=${CRS_BENCH_PATIENTS:-100000}
DURATION=${DURATION:-10s}
PORT=${PORT:-18090}
CONNS=${CONNS:-64}
OBSERVATIONS=${OBSERVATIONS:-3}
KEEP=${CRS_BENCH_KEEP:-}
LOAD=${LOAD:-http}  # http: transactions of 1,000 through the API; import: crs import first
if [[ -n "$KEEP" ]]; then
  [[ "$LOAD" == import && "${CRS_BENCH_STORE:-sqlite}" == sqlite ]] ||
    { echo "CRS_BENCH_KEEP needs LOAD=import on SQLite" >&2; exit 2; }
  work=$KEEP
  mkdir -p "$work"
else
  work=$(mktemp -d /tmp/crs-search-bench-XXXXXX)
fi
reuse=""
[[ -n "$KEEP" && -f "$work/loaded" ]] && reuse=1
crs_pid=""
source bench/postgres.sh
cleanup() {
  [[ -n "$crs_pid" ]] && kill "$crs_pid" 2>/dev/null || true
  sleep 0.5
  bench_store_stop
  [[ -n "$KEEP" ]] || rm -rf "$work"
}
trap cleanup EXIT

echo "machine: $(nproc) cores, $(free -g | awk '/Mem:/{print $2}') GiB RAM; load average:$(uptime | sed 's/.*load average://'); patients=$N; wrk -t2 -c$CONNS -d$DURATION"
if [[ -z "$reuse" ]]; then
  "$CRS" gen --patients "$N" --seed 1 --records --observations "$OBSERVATIONS" --out "$work/pop.ndjson"
  # Transaction Bundles for the HTTP load; with crs import, the query sample only.
  python3 bench/ndjson_to_bundles.py "$work/pop.ndjson" "$work/bundles" 1000 \
    $([[ "$LOAD" == import ]] && echo --queries-only)
else
  echo "reusing the node loaded in $work"
fi
echo "resources: $(wc -l <"$work/pop.ndjson")"
bench_store_start "$work" $((PORT + 2))
echo "store: ${STORE%%@*}"
if [[ "$LOAD" == import && -z "$reuse" ]]; then
  start=$(date +%s.%N)
  "$CRS" import --data "$work/data" --store "$STORE" --report "$work/import-report.txt" \
    "$work/pop.ndjson" | tail -1
  echo "imported in $(echo "$(date +%s.%N) - $start" | bc) s"
  [[ -z "$KEEP" ]] || touch "$work/loaded"
fi
"$CRS" serve --data "$work/data" --listen "127.0.0.1:$PORT" --store "$STORE" "${replica_args[@]}" \
  >"$work/crs.out" 2>"$work/crs.err" &
crs_pid=$!
for _ in $(seq 50); do curl -sf "http://127.0.0.1:$PORT/readyz" >/dev/null && break; sleep 0.1; done
# Minted after the server is up: it signs with the node key it created in DIR/keys/.
token=$("$CRS" token --data "$work/data" --user bench --role system --org BENCH \
        --scope 'system/*.cruds' --ttl 8h | tail -1)
auth="Authorization: Bearer $token"
start=$(date +%s.%N)
[[ "$LOAD" == import ]] || for f in "$work"/bundles/bundle-*.json; do
  code=$(curl -s -o /dev/null -w '%{http_code}' -X POST -H "$auth" -H 'Content-Type: application/fhir+json' \
    --data-binary @"$f" "http://127.0.0.1:$PORT/fhir")
  [[ "$code" == 200 ]] || { echo "load failed ($code) on $f" >&2; exit 1; }
done
[[ "$LOAD" == import ]] || echo "loaded in $(echo "$(date +%s.%N) - $start" | bc) s"

export CRS_QUERIES="$work/bundles/queries.tsv"
for kind in identifier family-birthdate patient-conditions patient-observations; do
  CRS_SEARCH=$kind wrk -t2 -c"$CONNS" -d"$DURATION" --latency -H "$auth" -s bench/wrk/search.lua \
    "http://127.0.0.1:$PORT" >"$work/$kind.txt" 2>&1
  printf '%-20s %10s req/s  p50 %-8s p99 %-8s non-2xx %s\n' "$kind" \
    "$(awk '/Requests\/sec/{print $2}' "$work/$kind.txt")" \
    "$(awk '$1=="50%"{print $2}' "$work/$kind.txt")" "$(awk '$1=="99%"{print $2}' "$work/$kind.txt")" \
    "$(awk '/Non-2xx/{print $5}' "$work/$kind.txt")"
done
# Counts of common values: the best of five single requests each, as index
# entries counted per second (every request audited, as above).
count() {
  local query=$1 best="" total t
  for _ in 1 2 3 4 5; do
    t=$(curl -s -o "$work/count.json" -w '%{time_total}' -H "$auth" \
        "http://127.0.0.1:$PORT/fhir/$query&_summary=count")
    if [[ -z "$best" ]] || (( $(echo "$t < $best" | bc) )); then best=$t; fi
  done
  total=$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["total"])' "$work/count.json")
  printf 'count %-70s %9s matches in %6.4f s: %s entries/s\n' "$query" "$total" "$best" \
    "$(echo "$total / $best" | bc)"
}
count "Patient?gender=female"
count "Condition?clinical-status=http://terminology.hl7.org/CodeSystem/condition-clinical%7Cactive"
count "AllergyIntolerance?clinical-status=http://terminology.hl7.org/CodeSystem/allergyintolerance-clinical%7Cactive"
[[ "$OBSERVATIONS" == 0 ]] || count "Observation?code=http://loinc.org%7C85354-9"
du -sh "$work/data" | awk '{print "data dir: " $1}'
if [[ -n "$pg_data" ]]; then du -sh "$pg_data" | awk '{print "PostgreSQL cluster: " $1}'; fi
