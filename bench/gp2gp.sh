#!/usr/bin/env bash
# GP2GP transfer benchmark (issue 9, docs/federation.md "GP2GP"): a national
# node and two practices' nodes on loopback, each its own crs process.
#
# Practice A (Y12345) holds one patient's record of N resources (N/20
# Encounters, whose pointers are at the national node, and Observations
# referring to them). The patient registers at practice C (Y67890), which
# asks for the record (POST Patient/<nhs>/$gp2gp). Reported:
#   - transfer: from the request to "accepted" on C (registration at the
#     national node, every chunk fetched and committed, count checked,
#     target <= 5 s for N = 10,000);
#   - pointers followed: from the request until the national node's lookup
#     shows C's N/20 pointers and none of A's.
#
#   bash bench/gp2gp.sh                # N=10000
#   CRS_BENCH_N=2000 bash bench/gp2gp.sh
#
# Needs: build/crs, curl, python3.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"
CRS=${CRS:-build/crs}
N=${CRS_BENCH_N:-10000}
NP=${NATIONAL_PORT:-18211}
AP=${A_PORT:-18212}
CP=${C_PORT:-18213}
nat="http://127.0.0.1:$NP/fhir"
a="http://127.0.0.1:$AP/fhir"
c="http://127.0.0.1:$CP/fhir"
PATIENT=9990000018
work=$(mktemp -d /tmp/crs-gp2gp-bench-XXXXXX)
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
"$CRS" serve --data "$work/nat" --listen "127.0.0.1:$NP" --role national \
  >>"$work/nat.out" 2>>"$work/nat.err" &
pids+=($!); wait_ready "$nat"
"$CRS" node jwks --data "$work/nat" >"$work/nat.jwks"
register() {  # dir ods url
  "$CRS" node jwks --data "$work/$1" >"$work/$1.jwks"
  "$CRS" node add --data "$work/nat" --national "$nat" --ods "$2" --url "$3" \
    --jwks "$work/$1.jwks" >/dev/null
}
register a Y12345 "$a"
register c Y67890 "$c"
start_practice() {  # dir ods port
  "$CRS" serve --data "$work/$1" --listen "127.0.0.1:$3" --role local --org "$2" \
    --base-url "http://127.0.0.1:$3/fhir" --national "$nat" --national-jwks "$work/nat.jwks" \
    >>"$work/$1.out" 2>>"$work/$1.err" &
  pids+=($!); wait_ready "http://127.0.0.1:$3/fhir"
}
start_practice a Y12345 "$AP"
start_practice c Y67890 "$CP"
nat_admin=$("$CRS" token --data "$work/nat" --user bench-admin --role system --org OPENCRS | tail -1)
a_svc=$("$CRS" token --data "$work/a" --user bench-a --role system --org Y12345 | tail -1)
c_svc=$("$CRS" token --data "$work/c" --user bench-c --role system --org Y67890 | tail -1)

patient_at() {
  echo "{\"resourceType\":\"Patient\",\"id\":\"$PATIENT\",\"name\":[{\"family\":\"Bench\",\"given\":[\"Pat\"]}],
  \"gender\":\"female\",\"birthDate\":\"1970-01-01\",\"generalPractitioner\":[{\"reference\":\"Organization/$1\",
  \"identifier\":{\"system\":\"https://fhir.nhs.uk/Id/ods-organization-code\",\"value\":\"$1\"}}]}"
}
put() {  # base token body
  code=$(curl -s -o /dev/null -w '%{http_code}' -X PUT "$1/Patient/$PATIENT" -H "authorization: Bearer $2" \
    -H 'content-type: application/fhir+json' --data-binary "$3")
  [[ "$code" == 201 || "$code" == 200 ]] || { echo "PUT Patient failed: HTTP $code" >&2; exit 1; }
}
put "$nat" "$nat_admin" "$(patient_at Y12345)"
put "$a" "$a_svc" "$(patient_at Y12345)"
put "$c" "$c_svc" "$(patient_at Y67890)"

python3 - "$N" "$PATIENT" "$work/bundles" <<'PY'
import json, os, sys
n, patient, d = int(sys.argv[1]), sys.argv[2], sys.argv[3]
os.makedirs(d, exist_ok=True)
encounters = max(1, n // 20)
entries = []
for i in range(encounters):
    entries.append({"resource": {"resourceType": "Encounter", "id": "enc-%d" % i, "status": "finished",
        "class": {"system": "http://terminology.hl7.org/CodeSystem/v3-ActCode", "code": "AMB"},
        "subject": {"reference": "Patient/" + patient}},
        "request": {"method": "PUT", "url": "Encounter/enc-%d" % i}})
for i in range(n - encounters):
    entries.append({"resource": {"resourceType": "Observation", "id": "obs-%d" % i, "status": "final",
        "code": {"coding": [{"system": "http://loinc.org", "code": "8867-4"}], "text": "Heart rate"},
        "valueQuantity": {"value": 60 + i % 40, "unit": "/min"},
        "subject": {"reference": "Patient/" + patient},
        "encounter": {"reference": "Encounter/enc-%d" % (i % encounters)}},
        "request": {"method": "PUT", "url": "Observation/obs-%d" % i}})
for k in range(0, len(entries), 1000):
    with open(os.path.join(d, "%06d.json" % k), "w") as f:
        json.dump({"resourceType": "Bundle", "type": "transaction", "entry": entries[k:k+1000]}, f)
PY
for f in "$work"/bundles/*.json; do
  code=$(curl -s -o /dev/null -w '%{http_code}' -X POST "$a" -H "authorization: Bearer $a_svc" \
    -H 'content-type: application/fhir+json' --data-binary @"$f")
  [[ "$code" == 200 ]] || { echo "load failed: HTTP $code" >&2; exit 1; }
done
E=$(( N / 20 > 0 ? N / 20 : 1 ))
lookup() {  # prefix -> count of current pointers with it
  curl -s "$nat/DocumentReference?patient=$PATIENT" -H "authorization: Bearer $nat_admin" |
    python3 -c "import json,sys; print(sum(1 for e in json.load(sys.stdin).get('entry',[]) if e['resource'].get('id','').startswith('$1')))"
}
until [[ $(lookup Y12345-) -ge $E ]]; do sleep 0.1; done

state() {
  curl -s "$c/Patient/$PATIENT/\$gp2gp" -H "authorization: Bearer $c_svc" | python3 -c '
import json,sys
p = json.load(sys.stdin)["parameter"][-1]["part"]
v = {x["name"]: x.get("valueString", x.get("valueInteger")) for x in p}
print(v["state"], v["received"], v["total"], v.get("reason", ""))'
}
echo "machine: $(nproc) cores, $(free -g | awk '/Mem:/{print $2}') GiB RAM; load average:$(uptime | sed 's/.*load average://'); N=$N"
start=$(date +%s.%N)
code=$(curl -s -o "$work/requested.json" -w '%{http_code}' -X POST "$c/Patient/$PATIENT/\$gp2gp" \
  -H "authorization: Bearer $c_svc" -H 'content-type: application/fhir+json' \
  --data-binary '{"resourceType":"Parameters","parameter":[{"name":"from","valueString":"Y12345"}]}')
[[ "$code" == 202 ]] || { echo "request failed: HTTP $code" >&2; cat "$work/requested.json" >&2; exit 1; }
while true; do
  s=$(state)
  case "$s" in accepted*|failed*|rejected*) break ;; esac
  sleep 0.02
done
t=$(echo "$(date +%s.%N) - $start" | bc -l)
printf 'transfer: %s\n' "$s"
printf 'transfer of %d resources: %.2f s (target <= 5 s)\n' "$N" "$t"
until [[ $(lookup Y67890-) -ge $E && $(lookup Y12345-) -eq 0 ]]; do sleep 0.05; done
t=$(echo "$(date +%s.%N) - $start" | bc -l)
printf 'pointers followed: %d pointers re-pointed, %.2f s after the request\n' "$E" "$t"
