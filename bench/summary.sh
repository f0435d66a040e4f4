#!/usr/bin/env bash
# Summary Care Record view benchmark (issue 6): N generated patients with
# summaries (`crs gen --summaries`, loaded by `crs import` exactly as uploads
# are kept), then wrk on GET /fhir/Patient/{nhs}/$summary by a GP of the
# largest practice: bearer token, access decision (relationship and
# X-Permission-To-View) and a durable audit record on every request. For
# comparison, the same GP reading each stored document by id
# (GET /fhir/Bundle/scr-{nhs}), in the same run.
#
#   bash bench/summary.sh                      # N=1000000, 10 s per line
#   CRS_BENCH_N=20000 DURATION=5s bash bench/summary.sh
#   CRS_BENCH_KEEP=/tmp/scr-1m bash bench/summary.sh   # keep the loaded node there,
#                                              # and reuse it when it exists
#   CONNS=16 ...                               # fewer connections (latency at lower load)
#
# Needs: build/crs (CRS=path overrides), wrk, python3, curl. Output in
# bench/out/summary/ and on stdout.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"
CRS=${CRS:-build/crs}
N=${CRS_BENCH_N:-1000000}
DURATION=${DURATION:-10s}
WARMUP=${WARMUP:-3s}
CONNS=${CONNS:-64}
THREADS=${THREADS:-2}
PORT=${PORT:-18200}
base="http://127.0.0.1:$PORT"

KEEP=${CRS_BENCH_KEEP:-}
if [[ -n "$KEEP" ]]; then
  work=$KEEP
  mkdir -p "$work"
else
  work=$(mktemp -d /tmp/crs-summary-bench-XXXXXX)
fi
out="$root/bench/out/summary"
mkdir -p "$out"
crs_pid=""
failures=()
cleanup() {
  [[ -n "$crs_pid" ]] && { kill "$crs_pid" 2>/dev/null || true; wait "$crs_pid" 2>/dev/null || true; }
  cp "$work/crs.err" "$out/crs.err" 2>/dev/null || true
  [[ -n "$KEEP" ]] || rm -rf "$work"
}
trap cleanup EXIT
fail() { echo "ERROR: $*" >&2; failures+=("$*"); }
curl_code() { curl -s -o /dev/null -w '%{http_code}' "$@"; }
expect_code() {  # want, description, curl args...
  local want=$1 what=$2; shift 2
  local got; got=$(curl_code "$@")
  [[ "$got" == "$want" ]] || fail "$what: HTTP $got, expected $want"
}

echo "machine: $(nproc) cores, $(free -g | awk '/Mem:/{print $2}') GiB RAM; load average:$(uptime | sed 's/.*load average://'); N=$N (unless reused); wrk -t$THREADS -c$CONNS -d$DURATION (after a $WARMUP warm-up)"

if [[ -f "$work/ids.txt" ]]; then
  echo "reusing the node loaded in $work ($(wc -l <"$work/ids.txt") summaries of practice $(cat "$work/ods.txt"))"
else
start=$(date +%s.%N)
"$CRS" gen --patients "$N" --summaries --seed 1 --out "$work/pop.ndjson"
echo "gen: $(echo "$(date +%s.%N) - $start" | bc) s, $(wc -l <"$work/pop.ndjson") lines, $(du -h "$work/pop.ndjson" | cut -f1)"

/usr/bin/time -v "$CRS" import --data "$work/data" --org BENCH --report "$work/import-report.txt" \
  "$work/pop.ndjson" >"$work/import.out" 2>"$work/import.time" || {
  cat "$work/import.out" "$work/import.time" >&2; exit 1; }
tail -2 "$work/import.out"
wall=$(awk -F': ' '/Elapsed \(wall clock\)/{print $2}' "$work/import.time")
rss=$(awk -F': ' '/Maximum resident set size/{print $2}' "$work/import.time")
echo "import: wall $wall, peak RSS $((rss / 1024)) MB, data dir $(du -sh "$work/data" | cut -f1)"

# The largest practice's patients who have a summary, in a fixed shuffled order.
python3 - "$work/pop.ndjson" "$work" <<'PY'
import json, random, sys
from collections import defaultdict
practice, documents = {}, set()
with open(sys.argv[1]) as f:
    for line in f:
        if line.startswith('{"resourceType":"Patient"'):
            p = json.loads(line)
            practice[p["id"]] = p["generalPractitioner"][0]["reference"].split("/")[1]
        elif line.startswith('{"resourceType":"Bundle"'):
            documents.add(line[line.index('"id":"') + 6:][:10])
by_practice = defaultdict(list)
for nhs in documents:
    by_practice[practice[nhs]].append(nhs)
ods, ids = max(by_practice.items(), key=lambda kv: len(kv[1]))
ids.sort()
random.Random(1).shuffle(ids)
open(sys.argv[2] + "/ids.txt", "w").write("\n".join(ids) + "\n")
open(sys.argv[2] + "/ods.txt", "w").write(ods + "\n")
other = next(o for o in by_practice if o != ods) if len(by_practice) > 1 else "A99999"
open(sys.argv[2] + "/other.txt", "w").write(other + "\n")
print(f"{len(documents)} summaries held; practice {ods}: {len(ids)} of them")
PY
rm -f "$work/pop.ndjson"
fi
ods=$(cat "$work/ods.txt")
first_id=$(head -1 "$work/ids.txt")

"$CRS" serve --data "$work/data" --listen "127.0.0.1:$PORT" >"$work/crs.out" 2>"$work/crs.err" &
crs_pid=$!
for _ in $(seq 100); do curl -sf "$base/readyz" >/dev/null && break; sleep 0.1; done
gp_token=$("$CRS" token --data "$work/data" --user bench-gp --role R8000 --org "$ods" --ttl 8h | tail -1)
other_token=$("$CRS" token --data "$work/data" --user bench-other --role R8000 --org "$(cat "$work/other.txt")" --ttl 8h | tail -1)
auth=(-H "Authorization: Bearer $gp_token")
ptv=(-H "X-Permission-To-View: granted")
expect_code 401 "no token" "$base/fhir/Patient/$first_id/\$summary"
expect_code 404 "GP without X-Permission-To-View" "${auth[@]}" "$base/fhir/Patient/$first_id/\$summary"
expect_code 404 "GP of another practice" -H "Authorization: Bearer $other_token" "${ptv[@]}" \
  "$base/fhir/Patient/$first_id/\$summary"
expect_code 200 "GP of the practice" "${auth[@]}" "${ptv[@]}" "$base/fhir/Patient/$first_id/\$summary"
curl -s "${auth[@]}" "${ptv[@]}" "$base/fhir/Patient/$first_id/\$summary" >"$work/one.json"
grep -q "Summary Care Record" "$work/one.json" || fail "the summary has no narrative heading"
echo "one summary: $(wc -c <"$work/one.json") bytes"

audit_count() {
  python3 -c 'import sqlite3, sys
db = sqlite3.connect("file:" + sys.argv[1] + "?mode=ro", uri=True)
print(db.execute("SELECT count(*) FROM audit").fetchone()[0])' "$work/data/crs-audit.db"
}

run() {  # name, path format
  local name=$1 format=$2
  CRS_BENCH_IDS="$work/ids.txt" CRS_BENCH_FORMAT="$format" \
    wrk -t"$THREADS" -c"$CONNS" -d"$WARMUP" -s bench/wrk/access.lua "${auth[@]}" "${ptv[@]}" "$base" \
    >/dev/null 2>&1
  local before after
  before=$(audit_count)
  CRS_BENCH_IDS="$work/ids.txt" CRS_BENCH_FORMAT="$format" \
    wrk -t"$THREADS" -c"$CONNS" -d"$DURATION" --latency -s bench/wrk/access.lua \
    "${auth[@]}" "${ptv[@]}" "$base" >"$out/$name.txt" 2>&1
  after=$(audit_count)
  local rps p50 p99 reqs non2xx
  rps=$(awk '/Requests\/sec/{print $2}' "$out/$name.txt")
  p50=$(awk '$1=="50%"{print $2}' "$out/$name.txt")
  p99=$(awk '$1=="99%"{print $2}' "$out/$name.txt")
  reqs=$(awk '/requests in/{print $1}' "$out/$name.txt")
  non2xx=$(awk '/Non-2xx/{print $5}' "$out/$name.txt")
  printf '%-24s %10s req/s   p50 %-8s p99 %-8s requests %-9s non-2xx %-5s audit records +%s\n' \
    "$name" "$rps" "$p50" "$p99" "$reqs" "${non2xx:-0}" "$((after - before))"
  [[ -n "$rps" ]] || fail "$name: wrk printed no figures (see $out/$name.txt)"
  [[ -z "$non2xx" ]] || fail "$name: $non2xx non-2xx responses"
  (( after - before >= ${reqs:-0} )) || fail "$name: fewer audit records than requests"
}

run summary '/fhir/Patient/%s/$summary'
run read-document '/fhir/Bundle/scr-%s'

if ((${#failures[@]})); then
  echo "FAILED: ${#failures[@]} check(s)" >&2
  exit 1
fi
