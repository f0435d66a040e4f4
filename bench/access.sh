#!/usr/bin/env bash
# Access-control benchmark (issue 5): read by id with a bearer token, the
# access decision and a durable audit record, against the same read on the
# same data with none of them (`crs serve
# --benchmark-baseline-without-access-control`), in the same run.
#
# N Patients registered at Organization/Y12345, each with one
# AllergyIntolerance, are loaded through transactions (system token). Then,
# with wrk (keep-alive, 64 connections, 2 threads) and one Lua script for both
# servers (bench/wrk/access.lua, walking through the ids):
#   baseline server:  AllergyIntolerance by id (many ids, then one id), Patient by id
#   real server:      the same requests as a GP (R8000 at Y12345) with
#                     X-Permission-To-View: granted, and the many-ids read
#                     with the system token (audited, no relationship check)
# and prints req/s, p50, p99, real/baseline ratios and the issue's targets
# (ratio >= 0.70 and >= 20,000 req/s, judged on the worst of the three GP lines).
# Each real run must leave one audit record per request (counted in the
# `audit` table). Any non-2xx response, socket error or missing audit record
# fails the script (exit 1) after the figures are printed.
#
#   bash bench/access.sh                     # N=100000, 10 s per run
#   CRS_BENCH_N=20000 DURATION=5s bash bench/access.sh
#   CRS=build-bench/crs bash bench/access.sh
#
# Needs: build/crs (make build), wrk, python3, curl. wrk output goes to
# bench/out/access/, figures to stdout.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"
source bench/threads.sh
need_tools wrk curl python3
CRS=${CRS:-build/crs}
N=${CRS_BENCH_N:-100000}
DURATION=${DURATION:-10s}
WARMUP=${WARMUP:-3s}
CONNS=${CONNS:-64}
THREADS=${THREADS:-2}
PORT=${PORT:-18100}
ORG=Y12345
base="http://127.0.0.1:$PORT"

work=$(mktemp -d /tmp/crs-access-bench-XXXXXX)
out="$root/bench/out/access"
mkdir -p "$out"
crs_pid=""
failures=()
stop_server() {
  [[ -n "$crs_pid" ]] || return 0
  kill "$crs_pid" 2>/dev/null || true
  wait "$crs_pid" 2>/dev/null || true
  crs_pid=""
}
cleanup() { stop_server; cp "$work/crs.err" "$out/crs.err" 2>/dev/null || true; rm -rf "$work"; }
trap cleanup EXIT
fail() { echo "ERROR: $*" >&2; failures+=("$*"); }

start_server() {  # extra serve flags
  "$CRS" serve --data "$work/data" --listen "127.0.0.1:$PORT" "$@" >>"$work/crs.out" 2>>"$work/crs.err" &
  crs_pid=$!
  for _ in $(seq 100); do curl -sf "$base/readyz" >/dev/null && return 0; sleep 0.1; done
  echo "server did not become ready; stderr:" >&2; tail -20 "$work/crs.err" >&2; exit 1
}

audit_count() {
  python3 -c 'import sqlite3, sys
db = sqlite3.connect("file:" + sys.argv[1] + "?mode=ro", uri=True)
print(db.execute("SELECT count(*) FROM audit").fetchone()[0])' "$work/data/crs-audit.db"
}

# Records after seq $1 that are an allowed GET answered 200 for user $2.
audit_ok_since() {
  python3 -c 'import json, sqlite3, sys
db = sqlite3.connect("file:" + sys.argv[1] + "?mode=ro", uri=True)
ok = 0
for (rec,) in db.execute("SELECT record FROM audit WHERE seq > ?", (int(sys.argv[2]),)):
    r = json.loads(rec)
    ok += r.get("user") == sys.argv[3] and r.get("status") == 200 and r.get("outcome") == "allowed"
print(ok)' "$work/data/crs-audit.db" "$1" "$2"
}

curl_code() { curl -s -o /dev/null -w '%{http_code}' "$@"; }
expect_code() {  # want, description, curl args...
  local want=$1 what=$2; shift 2
  local got; got=$(curl_code "$@")
  [[ "$got" == "$want" ]] || fail "$what: HTTP $got, expected $want"
}

# Warm-up (fills the server's caches; not measured): path prefix, single id
# or "", extra wrk args (headers).
warm() {
  local prefix=$1 one=$2; shift 2
  CRS_BENCH_N=$N CRS_BENCH_PATH=$prefix CRS_BENCH_ONE=$one \
    wrk -t"$THREADS" -c"$CONNS" -d"$WARMUP" -s bench/wrk/access.lua "$@" "$base" >/dev/null 2>&1
}

# wrk: name, path prefix, single id or "", extra wrk args (headers).
# Prints one line and leaves req/s in $out/$name.rps and requests in $out/$name.count.
run() {
  local name=$1 prefix=$2 one=$3; shift 3
  local faults0 faults1 cpu0 cpu1
  faults0=$(minor_faults)
  cpu0=$(cpu_ticks)
  thread_ticks "$crs_pid" >"$out/$name.threads0"
  CRS_BENCH_N=$N CRS_BENCH_PATH=$prefix CRS_BENCH_ONE=$one \
    wrk -t"$THREADS" -c"$CONNS" -d"$DURATION" --latency -s bench/wrk/access.lua "$@" "$base" \
    >"$out/$name.txt" 2>&1
  faults1=$(minor_faults)
  cpu1=$(cpu_ticks)
  thread_ticks "$crs_pid" >"$out/$name.threads1"
  local rps p50 p99 reqs non2xx sockerr
  rps=$(awk '/Requests\/sec/{print $2}' "$out/$name.txt")
  p50=$(awk '$1=="50%"{print $2}' "$out/$name.txt")
  p99=$(awk '$1=="99%"{print $2}' "$out/$name.txt")
  reqs=$(awk '/requests in/{print $1}' "$out/$name.txt")
  non2xx=$(awk '/Non-2xx/{print $5}' "$out/$name.txt")
  sockerr=$(awk '/Socket errors/{sub(/.*Socket errors: /, ""); print}' "$out/$name.txt")
  # Server CPU per request: less sensitive than req/s to a busy machine.
  printf '%-28s %10s req/s   p50 %-8s p99 %-8s requests %-9s non-2xx %-4s faults/req %-5s cpu/req %s us\n' \
    "$name" "$rps" "$p50" "$p99" "$reqs" "${non2xx:-0}" \
    "$(echo "scale=2; ($faults1 - $faults0) / ${reqs:-1}" | bc)" \
    "$(echo "($cpu1 - $cpu0) * 1000000 / $(getconf CLK_TCK) / ${reqs:-1}" | bc)"
  # The same split by thread (src/core/thread_name.h): crs-http parses,
  # decides and answers, crs-writer appends the audit records, crs-checkpoint
  # copies the audit log's WAL into its file.
  printf '  %-26s %s\n' "cpu/req by thread (us)" \
    "$(thread_split "$out/$name.threads0" "$out/$name.threads1" "${reqs:-1}")"
  [[ -n "$rps" ]] || fail "$name: wrk printed no figures (see $out/$name.txt)"
  [[ -z "$non2xx" ]] || fail "$name: $non2xx non-2xx responses"
  [[ -z "$sockerr" ]] || fail "$name: socket errors: $sockerr"
  echo "$rps" >"$out/$name.rps"
  echo "${reqs:-0}" >"$out/$name.count"
}

# The server's minor page faults so far (field 10 of /proc/PID/stat).
minor_faults() { awk '{print $10}' "/proc/$crs_pid/stat"; }
# The server's CPU time so far (user + system), in clock ticks.
cpu_ticks() { awk '{print $14 + $15}' "/proc/$crs_pid/stat"; }

ratio() { echo "scale=3; $(cat "$out/$1.rps") / $(cat "$out/$2.rps")" | bc; }

echo "machine: $(nproc) cores, $(free -g | awk '/Mem:/{print $2}') GiB RAM; load average:$(uptime | sed 's/.*load average://'); N=$N; wrk -t$THREADS -c$CONNS -d$DURATION (after a $WARMUP warm-up)"
python3 bench/make_patients.py "$N" "$work/bundles" 1000 --allergies
export CRS_BENCH_IDS="$work/bundles/ids.txt"
first_id=$(head -1 "$CRS_BENCH_IDS")

# Load through the real server (a system token from the server's own key).
start_server
sys_token=$("$CRS" token --data "$work/data" --user bench-loader --role system --org BENCH \
            --scope 'system/*.cruds' --ttl 8h | tail -1)
gp_token=$("$CRS" token --data "$work/data" --user bench-gp --role R8000 --org "$ORG" --ttl 8h | tail -1)
start=$(date +%s.%N)
for f in "$work"/bundles/bundle-*.json; do
  code=$(curl_code -X POST -H "Authorization: Bearer $sys_token" -H 'Content-Type: application/fhir+json' \
    --data-binary @"$f" "$base/fhir")
  [[ "$code" == 200 ]] || { echo "load failed ($code) on $f" >&2; exit 1; }
done
echo "loaded $N patients + $N allergies in $(echo "$(date +%s.%N) - $start" | bc) s (transactions of 2000 entries)"

# The access decision is really taken: no token, no permission to view, wrong
# practice are all refused; the GP with permission reads.
auth=(-H "Authorization: Bearer $gp_token")
ptv=(-H "X-Permission-To-View: granted")
other_token=$("$CRS" token --data "$work/data" --user bench-other --role R8000 --org A99999 | tail -1)
expect_code 401 "no token" "$base/fhir/AllergyIntolerance/allergy-000001"
expect_code 404 "GP without X-Permission-To-View" "${auth[@]}" "$base/fhir/AllergyIntolerance/allergy-000001"
expect_code 404 "clinician at another practice" -H "Authorization: Bearer $other_token" "${ptv[@]}" \
  "$base/fhir/AllergyIntolerance/allergy-000001"
expect_code 200 "GP read, first id" "${auth[@]}" "${ptv[@]}" "$base/fhir/AllergyIntolerance/allergy-000001"
expect_code 200 "GP read, last id" "${auth[@]}" "${ptv[@]}" "$base/fhir/AllergyIntolerance/allergy-$(printf %06d "$N")"
expect_code 200 "GP Patient read" "${auth[@]}" "${ptv[@]}" "$base/fhir/Patient/$first_id"
stop_server

# (a) Baseline: same data dir, no token, no access control, no audit.
start_server --benchmark-baseline-without-access-control
expect_code 200 "baseline read without a token" "$base/fhir/AllergyIntolerance/allergy-000001"
before=$(audit_count)
warm /fhir/AllergyIntolerance/allergy- ""
run baseline-allergy-many /fhir/AllergyIntolerance/allergy- ""
run baseline-allergy-one /fhir/AllergyIntolerance/allergy- 000001
warm /fhir/Patient/ ""
run baseline-patient-many /fhir/Patient/ ""
sleep 0.5
after=$(audit_count)
[[ "$after" == "$before" ]] || fail "baseline wrote $((after - before)) audit records (expected none)"
stop_server

# (b), (c) The real server: GP token, access decision, durable audit record.
start_server
check_audit() {  # name, seq before, user: every counted request audited; at most CONNS more (in flight when wrk stopped)
  local name=$1 seq0=$2 user=$3 seq1 reqs audited ok
  sleep 0.5
  seq1=$(audit_count)
  reqs=$(cat "$out/$name.count")
  audited=$((seq1 - seq0))
  ok=$(audit_ok_since "$seq0" "$user")
  printf '%-28s audit records %s for %s requests (%s allowed/200 for %s)\n' "$name" "$audited" "$reqs" "$ok" "$user"
  if (( audited < reqs || audited > reqs + CONNS )); then
    fail "$name: $audited audit records for $reqs requests"
  fi
  (( ok == audited )) || fail "$name: $((audited - ok)) audit records are not allowed/200 reads by $user"
}
for spec in "allergy-many /fhir/AllergyIntolerance/allergy- -" "allergy-one /fhir/AllergyIntolerance/allergy- 000001" \
            "patient-many /fhir/Patient/ -"; do
  read -r name prefix one <<<"$spec"
  [[ "$one" == - ]] && one=""
  [[ "$name" == allergy-one ]] || warm "$prefix" "$one" "${auth[@]}" "${ptv[@]}"
  sleep 0.5  # requests in flight when the warm-up stopped finish their audit
  seq0=$(audit_count)
  run "token-$name" "$prefix" "$one" "${auth[@]}" "${ptv[@]}"
  check_audit "token-$name" "$seq0" bench-gp
done
# The same audit, no relationship or permission-to-view decision.
sys_auth=(-H "Authorization: Bearer $sys_token")
warm /fhir/AllergyIntolerance/allergy- "" "${sys_auth[@]}"
sleep 0.5
seq0=$(audit_count)
run system-allergy-many /fhir/AllergyIntolerance/allergy- "" "${sys_auth[@]}"
check_audit system-allergy-many "$seq0" bench-loader
stop_server

echo "ratio token/baseline, AllergyIntolerance many ids: $(ratio token-allergy-many baseline-allergy-many)"
echo "ratio token/baseline, AllergyIntolerance one id:   $(ratio token-allergy-one baseline-allergy-one)"
echo "ratio token/baseline, Patient many ids:            $(ratio token-patient-many baseline-patient-many)"
echo "ratio system token/baseline, AllergyIntolerance many ids: $(ratio system-allergy-many baseline-allergy-many)"
# The verdict takes the worst of the three GP lines and the slowest rate.
r=$(printf '%s\n' "$(ratio token-allergy-many baseline-allergy-many)" \
      "$(ratio token-allergy-one baseline-allergy-one)" "$(ratio token-patient-many baseline-patient-many)" |
    sort -n | head -1)
rps=$(cat "$out"/token-*.rps | sort -n | head -1)
met() { [[ "$1" == 1 ]] && echo met || echo "NOT met"; }
echo "target ratio >= 0.70 on every GP line (worst $r): $(met "$(echo "$r >= 0.70" | bc)"); target >= 20,000 req/s (slowest $rps): $(met "$(echo "$rps >= 20000" | bc)")"
echo "server log: $(grep -ci 'error' "$work/crs.err" || true) error lines, $(grep -ci 'warn' "$work/crs.err" || true) warning lines ($out/crs.err)"
du -sh "$work/data" | awk '{print "data dir after the run: " $1}'
if (( ${#failures[@]} )); then
  echo "FAILED (${#failures[@]}):" >&2
  printf '  %s\n' "${failures[@]}" >&2
  exit 1
fi
