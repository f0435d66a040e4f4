#!/usr/bin/env bash
# Patient trace benchmark (docs/trace.md): a `crs gen` population (patients
# only) loaded through transactions, then wrk (keep-alive, 16 connections,
# 2 threads) on non-fuzzy traces, fuzzy traces, fuzzy traces with a
# family-name typo and day/month of birth swapped, and fuzzy traces a year
# off (bench/wrk/trace.lua).
#
#   CRS_BENCH_PATIENTS=100000 bash bench/trace.sh   # TRACE_KEYS=0: without --trace-keys
#
# Requests carry a backend-service token minted from the server's data dir.
# CRS=path overrides build/crs.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"
CRS=${CRS:-build/crs}
N=${CRS_BENCH_PATIENTS:-100000}
DURATION=${DURATION:-10s}
PORT=${PORT:-18091}
work=$(mktemp -d /tmp/crs-trace-bench-XXXXXX)
crs_pid=""
cleanup() { [[ -n "$crs_pid" ]] && kill "$crs_pid" 2>/dev/null || true; sleep 0.5; rm -rf "$work"; }
trap cleanup EXIT

echo "machine: $(nproc) cores, $(free -g | awk '/Mem:/{print $2}') GiB RAM; patients=$N; wrk -t2 -c16 -d$DURATION"
"$CRS" gen --patients "$N" --seed 11 --out "$work/pop.ndjson"
python3 bench/ndjson_to_bundles.py "$work/pop.ndjson" "$work/bundles" 1000
# Trace values: official family and first given name, birth date, gender, home postcode.
python3 - "$work/pop.ndjson" "$work/trace.tsv" <<'PY'
import json, sys
out = open(sys.argv[2], "w")
n = 0
for line in open(sys.argv[1]):
    r = json.loads(line)
    if r["resourceType"] != "Patient" or n >= 20000:
        continue
    name = next((x for x in r.get("name", []) if x.get("use") == "official"), None)
    home = next((a for a in r.get("address", []) if a.get("use") == "home"), None)
    if name and home and name.get("given") and r.get("birthDate"):
        out.write("\t".join([name["family"], name["given"][0], r["birthDate"], r["gender"],
                             home["postalCode"]]) + "\n")
        n += 1
PY
# A national demographics node keeps trace keys (docs/trace.md); TRACE_KEYS=0
# measures a node without them.
keys=(); [[ "${TRACE_KEYS:-1}" == 1 ]] && keys=(--trace-keys)
"$CRS" serve --data "$work/data" --listen "127.0.0.1:$PORT" "${keys[@]}" >"$work/crs.out" 2>"$work/crs.err" &
crs_pid=$!
for _ in $(seq 50); do curl -sf "http://127.0.0.1:$PORT/readyz" >/dev/null && break; sleep 0.1; done
token=$("$CRS" token --data "$work/data" --user bench --role system --org BENCH \
        --scope 'system/*.cruds' --ttl 8h | tail -1)
auth="Authorization: Bearer $token"
start=$(date +%s.%N)
for f in "$work"/bundles/bundle-*.json; do
  code=$(curl -s -o /dev/null -w '%{http_code}' -X POST -H "$auth" -H 'Content-Type: application/fhir+json' \
    --data-binary @"$f" "http://127.0.0.1:$PORT/fhir")
  [[ "$code" == 200 ]] || { echo "load failed ($code) on $f" >&2; exit 1; }
done
echo "loaded in $(echo "$(date +%s.%N) - $start" | bc) s"

# One request of each kind, to show what is measured.
IFS=$'\t' read -r fam giv dob sex pc <"$work/trace.tsv"
curl -s -H "$auth" "http://127.0.0.1:$PORT/fhir/Patient?family=$fam&given=$giv&birthdate=$dob&gender=$sex&_fuzzy-match=true&_max-results=10" |
  python3 -c 'import json,sys; b=json.load(sys.stdin); print("sample fuzzy trace:", b.get("total"), [e["search"]["score"] for e in b.get("entry", [])])'

export CRS_TRACE_QUERIES="$work/trace.tsv"
for kind in exact fuzzy fuzzy-error fuzzy-year; do
  CRS_TRACE=$kind wrk -t2 -c16 -d"$DURATION" --latency -H "$auth" -s bench/wrk/trace.lua \
    "http://127.0.0.1:$PORT" >"$work/$kind.txt" 2>&1
  printf '%-12s %10s req/s  p50 %-8s p99 %-8s non-2xx %s\n' "$kind" \
    "$(awk '/Requests\/sec/{print $2}' "$work/$kind.txt")" \
    "$(awk '$1=="50%"{print $2}' "$work/$kind.txt")" "$(awk '$1=="99%"{print $2}' "$work/$kind.txt")" \
    "$(awk '/Non-2xx/{print $5}' "$work/$kind.txt")"
done
du -sh "$work/data" | awk '{print "data dir: " $1}'
