#!/usr/bin/env bash
# Read by NHS number and trace, over HTTP, against an existing data dir (a
# `crs import` of `crs gen` output: bench/RESULTS.md, issue 4). Each line
# runs twice with wrk (2 threads, 16 connections, 3 s warm-up first):
# flat out, which gives the node's throughput, and paced (bench/wrk/pace.lua:
# Poisson arrivals), which gives the latency at a given load: reads at RATE
# (default 7,000/s, twice the national peak of NHS Spine, about 3,500/s),
# exact traces at TRACE_RATE (default 3,500/s), fuzzy ones at FUZZY_RATE
# (default 500/s; a fuzzy trace is a fallback, a small part of the load).
#
#   bash bench/node_load.sh DATA_DIR POPULATION.ndjson [--trace-keys]
#
# The 20,000 NHS numbers and trace rows are every Kth Patient of the file.
# Env: CRS (binary, default build/crs), DURATION (8s), RATE, TRACE_RATE,
# FUZZY_RATE, PORT (18124), KINDS ("read exact fuzzy fuzzy-error fuzzy-year";
# bench/wrk/trace.lua describes them).
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
data=$1
population=$2
shift 2
CRS=${CRS:-$root/build/crs}
DURATION=${DURATION:-8s}
RATE=${RATE:-7000}
TRACE_RATE=${TRACE_RATE:-3500}
FUZZY_RATE=${FUZZY_RATE:-500}
PORT=${PORT:-18124}
KINDS=${KINDS:-read exact fuzzy fuzzy-error fuzzy-year}
work=$(mktemp -d /tmp/crs-node-load-XXXXXX)
crs_pid=""
cleanup() { [[ -n "$crs_pid" ]] && kill "$crs_pid" 2>/dev/null || true; wait 2>/dev/null; rm -rf "$work"; }
trap cleanup EXIT

# Every Kth Patient: NHS number, and family, first given, birth date, gender, postcode.
python3 - "$population" "$work/ids.txt" "$work/trace.tsv" <<'PY'
import json, os, sys
size = os.path.getsize(sys.argv[1])
step = max(1, size // 700 // 20000)  # ~700 bytes a line
ids, rows = open(sys.argv[2], "w"), open(sys.argv[3], "w")
n = 0
for i, line in enumerate(open(sys.argv[1])):
    if i % step or n >= 20000 or '"resourceType":"Patient"' not in line.replace(" ", ""):
        continue
    r = json.loads(line)
    name = next((x for x in r.get("name", []) if x.get("use") == "official"), None)
    home = next((a for a in r.get("address", []) if a.get("use") == "home"), None)
    if not (name and home and name.get("given") and r.get("birthDate")):
        continue
    ids.write(r["id"] + "\n")
    rows.write("\t".join([name["family"], name["given"][0], r["birthDate"], r["gender"],
                          home["postalCode"]]) + "\n")
    n += 1
PY

echo "machine: $(nproc) cores, $(free -g | awk '/Mem:/{print $2}') GiB RAM; $(du -sh "$data" | cut -f1) in $data; $(wc -l <"$work/ids.txt") ids"
"$CRS" serve --data "$data" --listen "127.0.0.1:$PORT" "$@" >"$work/crs.out" 2>"$work/crs.err" &
crs_pid=$!
for _ in $(seq 300); do curl -sf "http://127.0.0.1:$PORT/readyz" >/dev/null && break; sleep 0.2; done
token=$("$CRS" token --data "$data" --user bench --role system --org BENCH \
        --scope 'system/*.cruds' --ttl 8h | tail -1)
export CRS_BENCH_IDS="$work/ids.txt" CRS_TRACE_QUERIES="$work/trace.tsv" CRS_CONNECTIONS=16

run() {  # kind, rate ("" flat out)
  local kind=$1 rate=$2 script=trace.lua
  [[ "$kind" == read ]] && script=read.lua
  local out="$work/$kind-${rate:-max}.txt"
  CRS_TRACE=$kind CRS_RATE=$rate wrk -t2 -c16 -d3s -H "Authorization: Bearer $token" \
    -s "$root/bench/wrk/$script" "http://127.0.0.1:$PORT" >/dev/null 2>&1
  CRS_TRACE=$kind CRS_RATE=$rate wrk -t2 -c16 -d"$DURATION" --latency -H "Authorization: Bearer $token" \
    -s "$root/bench/wrk/$script" "http://127.0.0.1:$PORT" >"$out" 2>&1
  printf '%-12s %-10s %10s req/s  p50 %-8s p90 %-8s p99 %-8s non-2xx %s\n' "$kind" "${rate:-max}" \
    "$(awk '/Requests\/sec/{print $2}' "$out")" "$(awk '$1=="50%"{print $2}' "$out")" \
    "$(awk '$1=="90%"{print $2}' "$out")" "$(awk '$1=="99%"{print $2}' "$out")" \
    "$(awk '/Non-2xx/{print $5}' "$out")"
}
printf '%-12s %-10s %16s  %-12s %-12s %-12s\n' line "offered" "rate" p50 p90 p99
for kind in $KINDS; do
  run "$kind" ""
  case $kind in
    read) run "$kind" "$RATE" ;;
    exact) run "$kind" "$TRACE_RATE" ;;
    *) run "$kind" "$FUZZY_RATE" ;;
  esac
done
