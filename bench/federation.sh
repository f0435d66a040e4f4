#!/usr/bin/env bash
# Federation benchmark (issue 9, docs/federation.md), two real nodes on loopback:
#
#  1. Pointer publish throughput: N Encounters (for N/10 patients) are loaded
#     into a local node that is not yet linked; it is restarted linked to the
#     national node, and the time until the national node holds all N
#     pointers gives pointers/s (target >= 5,000). Then N more are written
#     while linked and timed the same way (the steady state).
#  2. Following a pointer: p50/p99 on one keep-alive connection of
#       a. the record read on its holder (the local read), and
#       b. the national pointer lookup DocumentReference?patient= (the step a
#          clinician adds to reach it),
#     both as a national-issued GP token with a relationship and permission
#     to view; the added latency is (b)'s p50 (target <= 2 ms).
#
#   bash bench/federation.sh               # N=20000
#   CRS_BENCH_N=5000 bash bench/federation.sh
#
# Needs: build/crs, wrk, curl, python3. Output: bench/out/federation/.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"
CRS=${CRS:-build/crs}
N=${CRS_BENCH_N:-20000}
DURATION=${DURATION:-10s}
NP=${NATIONAL_PORT:-18201}
LP=${LOCAL_PORT:-18202}
nat="http://127.0.0.1:$NP/fhir"
loc="http://127.0.0.1:$LP/fhir"
work=$(mktemp -d /tmp/crs-fed-bench-XXXXXX)
out="$root/bench/out/federation"
mkdir -p "$out"
pids=()
cleanup() {
  for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; wait "$p" 2>/dev/null || true; done
  rm -rf "$work"
}
trap cleanup EXIT

wait_ready() {
  for _ in $(seq 100); do curl -sf "$1/metadata" >/dev/null && return 0; sleep 0.1; done
  echo "node at $1 did not start" >&2; exit 1
}
start_national() {
  "$CRS" serve --data "$work/nat" --listen "127.0.0.1:$NP" --role national \
    >>"$work/nat.out" 2>>"$work/nat.err" &
  pids+=($!); wait_ready "$nat"
}
start_local() {  # extra flags
  "$CRS" serve --data "$work/loc" --listen "127.0.0.1:$LP" --role local --org Y12345 \
    --base-url "$loc" "$@" >>"$work/loc.out" 2>>"$work/loc.err" &
  local_pid=$!; pids+=($local_pid); wait_ready "$loc"
}
stop_local() { kill "$local_pid"; wait "$local_pid" 2>/dev/null || true; }

start_national
"$CRS" node jwks --data "$work/nat" >"$work/nat.jwks"
"$CRS" node jwks --data "$work/loc" >"$work/loc.jwks"
"$CRS" node add --data "$work/nat" --national "$nat" --ods Y12345 --url "$loc" \
  --jwks "$work/loc.jwks" >/dev/null
nat_admin=$("$CRS" token --data "$work/nat" --user bench-admin --role system --org OPENCRS | tail -1)
loc_loader=$("$CRS" token --data "$work/loc" --user bench-loader --role system --org Y12345 | tail -1)
gp=$("$CRS" token --data "$work/nat" --user bench-gp --role R8000 --org Y12345 | tail -1)

# Encounters enc-<first..first+count-1>, ten per patient, 1,000 per transaction.
load() {  # first count
  python3 - "$1" "$2" "$work/bundles" <<'PY'
import json, os, sys
first, count, d = int(sys.argv[1]), int(sys.argv[2]), sys.argv[3]
os.makedirs(d, exist_ok=True)
for f in os.listdir(d): os.remove(os.path.join(d, f))
def nhs(i):
    base = 999000000 + i
    while True:
        digits = [int(c) for c in str(base)]
        check = 11 - sum(dg * w for dg, w in zip(digits, range(10, 1, -1))) % 11
        check = 0 if check == 11 else check
        if check != 10: return str(base) + str(check)
        base += 1
entries = []
for i in range(first, first + count):
    eid = "enc-%07d" % i
    entries.append({"resource": {"resourceType": "Encounter", "id": eid, "status": "in-progress",
        "class": {"system": "http://terminology.hl7.org/CodeSystem/v3-ActCode", "code": "AMB"},
        "subject": {"reference": "Patient/" + nhs((i // 10) * 3)},
        "serviceProvider": {"identifier": {"system": "https://fhir.nhs.uk/Id/ods-organization-code",
                                           "value": "Y12345"}}},
        "request": {"method": "PUT", "url": "Encounter/" + eid}})
for k in range(0, len(entries), 1000):
    with open(os.path.join(d, "%06d.json" % k), "w") as f:
        json.dump({"resourceType": "Bundle", "type": "transaction", "entry": entries[k:k+1000]}, f)
print(nhs(0))
PY
}
post_bundles() {
  for f in "$work"/bundles/*.json; do
    code=$(curl -s -o /dev/null -w '%{http_code}' -X POST "$loc" -H "authorization: Bearer $loc_loader" \
      -H 'content-type: application/fhir+json' --data-binary @"$f")
    [[ "$code" == 200 ]] || { echo "load failed: HTTP $code" >&2; exit 1; }
  done
}
pointers() {
  curl -s "$nat/DocumentReference?_summary=count" -H "authorization: Bearer $nat_admin" |
    python3 -c 'import json,sys; print(json.load(sys.stdin).get("total", 0))'
}
wait_pointers() {  # expected -> seconds taken
  local start=$(date +%s.%N)
  while [[ $(pointers) -lt $1 ]]; do sleep 0.05; done
  echo "$(date +%s.%N) - $start" | bc -l
}

echo "machine: $(nproc) cores, $(free -g | awk '/Mem:/{print $2}') GiB RAM; load average:$(uptime | sed 's/.*load average://'); N=$N"
patient=$(load 0 "$N")
start_local
post_bundles
stop_local
start_local --national "$nat" --national-jwks "$work/nat.jwks"
t=$(wait_pointers "$N")
printf 'backlog publish: %d pointers in %.2f s = %.0f pointers/s (target >= 5000)\n' "$N" "$t" "$(echo "$N / $t" | bc -l)"
load "$N" "$N" >/dev/null
start=$(date +%s.%N)
post_bundles
t=$(wait_pointers $((2 * N)))
total=$(echo "$(date +%s.%N) - $start" | bc -l)
printf 'live publish: %d records written and published in %.2f s = %.0f pointers/s end to end\n' \
  "$N" "$total" "$(echo "$N / $total" | bc -l)"

# Following a pointer. The national node needs the patient, registered at Y12345.
curl -sf -o /dev/null -X PUT "$nat/Patient/$patient" -H "authorization: Bearer $nat_admin" \
  -H 'content-type: application/fhir+json' --data-binary "{\"resourceType\":\"Patient\",\"id\":\"$patient\",
  \"name\":[{\"family\":\"Bench\",\"given\":[\"Pat\"]}],\"gender\":\"female\",\"birthDate\":\"1970-01-01\",
  \"generalPractitioner\":[{\"identifier\":{\"system\":\"https://fhir.nhs.uk/Id/ods-organization-code\",\"value\":\"Y12345\"}}]}"
lookup="$nat/DocumentReference?patient=$patient"
n=$(curl -s "$lookup" -H "authorization: Bearer $gp" -H 'x-permission-to-view: granted' |
  python3 -c 'import json,sys; print(sum(1 for e in json.load(sys.stdin).get("entry",[]) if e["resource"]["resourceType"]=="DocumentReference"))')
[[ "$n" -ge 10 ]] || { echo "the lookup found $n pointers, expected 10" >&2; exit 1; }
run() {  # name url
  wrk -t1 -c1 -d"$DURATION" --latency -H "authorization: Bearer $gp" \
    -H 'x-permission-to-view: granted' "$2" >"$out/$1.txt" 2>&1
  printf '%-30s %10s req/s  p50 %8s  p99 %8s  non-2xx %s\n' "$1" \
    "$(awk '/Requests\/sec/{print $2}' "$out/$1.txt")" "$(awk '$1=="50%"{print $2}' "$out/$1.txt")" \
    "$(awk '$1=="99%"{print $2}' "$out/$1.txt")" "$(awk '/Non-2xx/{print $5}' "$out/$1.txt")"
}
run local-read "$loc/Encounter/enc-0000000"
run national-pointer-lookup "$lookup"
