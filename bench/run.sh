#!/usr/bin/env bash
# Foundation benchmark: read by id, create, update against a store of N
# Patients, and nginx serving the same Patient bytes as a static file in the
# same run, all with wrk (keep-alive, 64 connections, 2 threads; each line
# after a 3 s warm-up that is not counted).
#
#   bash bench/run.sh            # N=100000, 10 s per run
#   CRS_BENCH_N=20000 DURATION=5s bash bench/run.sh
#   CRS_BENCH_STORE=postgres bash bench/run.sh   # the same on PostgreSQL 15
#
# CRS_BENCH_STORE: sqlite: (default), postgres (a throwaway cluster in the
# work dir with the server's default durability: fsync and synchronous_commit
# on; shared_buffers 1GB), or a postgres:// URL of an empty database.
# CRS_BENCH_REPLICA=1 (with postgres): also a hot standby of that cluster
# (pg_basebackup, streaming) on the same machine, given to crs as --replica.
#
# Every request carries a backend-service bearer token (role system, scope
# system/*.cruds) minted from the server's data dir; nginx gets the same header.
# Every read is then audited (issue 5); a last line reads by id again with the
# server restarted in the foundation's own shape, without tokens, access
# control or audit (--benchmark-baseline-without-access-control), as the
# foundation's read target is set; a last create line runs without search-
# index extraction (--benchmark-baseline-without-search-index), the baseline
# of issue 3's bound on what indexing may cost a create.
#
# Needs: build/crs (make build; CRS=path overrides), wrk, nginx
# (scripts/install-deps.sh with CRS_WITH_BENCH=1), python3, curl. Results go
# to bench/out/ and stdout.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"
CRS=${CRS:-build/crs}
N=${CRS_BENCH_N:-100000}
DURATION=${DURATION:-10s}
CONNS=${CONNS:-64}
THREADS=${THREADS:-2}
PORT=${PORT:-18080}
NGINX_PORT=${NGINX_PORT:-18081}
export CRS_BENCH_N=$N

work=$(mktemp -d /tmp/crs-bench-XXXXXX)
out="$root/bench/out"
mkdir -p "$out" "$work/www" "$work/logs"
chmod 755 "$work" "$work/www"  # nginx workers run as www-data
crs_pid=""
source bench/postgres.sh
source bench/threads.sh
need_tools wrk curl
cleanup() {
  [[ -n "$crs_pid" ]] && kill "$crs_pid" 2>/dev/null || true
  sleep 0.5
  bench_store_stop
  [[ -f "$work/nginx.pid" ]] && kill "$(cat "$work/nginx.pid")" 2>/dev/null || true
  sleep 0.5
  rm -rf "$work"
}
trap cleanup EXIT

echo "machine: $(nproc) cores, $(free -g | awk '/Mem:/{print $2}') GiB RAM; N=$N; wrk -t$THREADS -c$CONNS -d$DURATION"
python3 bench/make_patients.py "$N" "$work/bundles" 1000 --allergies
export CRS_BENCH_IDS="$work/bundles/ids.txt"
first_id=$(head -1 "$CRS_BENCH_IDS")

bench_store_start "$work" $((PORT + 2))
echo "store: ${STORE%%@*}"

"$CRS" serve --data "$work/data" --listen "127.0.0.1:$PORT" --store "$STORE" "${replica_args[@]}" \
  >"$work/crs.out" 2>"$work/crs.err" &
crs_pid=$!
for _ in $(seq 50); do curl -sf "http://127.0.0.1:$PORT/readyz" >/dev/null && break; sleep 0.1; done
# Minted after the server is up: it signs with the node key it created in DIR/keys/.
token=$("$CRS" token --data "$work/data" --user bench --role system --org BENCH \
        --scope 'system/*.cruds' --ttl 8h | tail -1)
auth="Authorization: Bearer $token"

start=$(date +%s.%N)
for f in "$work"/bundles/bundle-*.json; do
  code=$(curl -s -o /dev/null -w '%{http_code}' -X POST -H "$auth" -H 'Content-Type: application/fhir+json' \
    --data-binary @"$f" "http://127.0.0.1:$PORT/fhir")
  [[ "$code" == 200 ]] || { echo "load failed ($code) on $f" >&2; exit 1; }
done
end=$(date +%s.%N)
echo "loaded $N patients (and one allergy each) in $(echo "$end - $start" | bc) s (transactions of 1000)"

# nginx serves the very bytes crs returns for one Patient.
curl -sf -H "$auth" "http://127.0.0.1:$PORT/fhir/Patient/$first_id" >"$work/www/patient.json"
curl -sf -H "$auth" "http://127.0.0.1:$PORT/fhir/AllergyIntolerance/allergy-000001" >"$work/allergy.json"
chmod 644 "$work/www/patient.json"
echo "patient body: $(wc -c <"$work/www/patient.json") bytes"
cat >"$work/nginx.conf" <<NGINX
worker_processes 2;
pid $work/nginx.pid;
error_log $work/logs/error.log;
events { worker_connections 1024; }
http {
  access_log off;
  default_type application/fhir+json;
  server { listen 127.0.0.1:$NGINX_PORT; root $work/www; }
}
NGINX
nginx -c "$work/nginx.conf" -p "$work"

run() {  # name, url, [lua script]
  local name=$1 url=$2 script=${3:-}
  local args=(-t"$THREADS" -c"$CONNS" -d"$DURATION" --latency -H "$auth")
  [[ -n "$script" ]] && args+=(-s "$script")
  # A 3 s warm-up first, not counted: a server's first second (cold caches,
  # the NHS-number allocator's walk past the loaded Patients) is not its
  # steady state.
  wrk "${args[@]/-d$DURATION/-d3s}" "$url" >/dev/null 2>&1 || true
  thread_ticks "$crs_pid" >"$out/$name.threads0"
  wrk "${args[@]}" "$url" >"$out/$name.txt" 2>&1
  thread_ticks "$crs_pid" >"$out/$name.threads1"
  local rps p50 p99 non2xx reqs
  rps=$(awk '/Requests\/sec/{print $2}' "$out/$name.txt")
  p50=$(awk '$1=="50%"{print $2}' "$out/$name.txt")
  p99=$(awk '$1=="99%"{print $2}' "$out/$name.txt")
  non2xx=$(awk '/Non-2xx/{print $5}' "$out/$name.txt")
  reqs=$(awk '/requests in/{print $1}' "$out/$name.txt")
  printf '%-14s %10s req/s   p50 %-8s p99 %-8s non-2xx %s\n' "$name" "$rps" "$p50" "$p99" "${non2xx:-0}"
  # The server's CPU per request by thread (not for nginx's line).
  if [[ "$url" == *":$PORT"* ]]; then
    printf '  %-28s %s\n' "cpu/req by thread (us)" \
      "$(thread_split "$out/$name.threads0" "$out/$name.threads1" "${reqs:-1}")"
  fi
  echo "$rps" >"$out/$name.rps"
}

export CRS_BENCH_BODY="$work/www/patient.json"
run nginx-static "http://127.0.0.1:$NGINX_PORT/patient.json"
run read-by-id "http://127.0.0.1:$PORT" bench/wrk/read.lua
run create "http://127.0.0.1:$PORT/fhir/Patient" bench/wrk/create.lua
CRS_BENCH_BODY="$work/allergy.json" run update "http://127.0.0.1:$PORT" bench/wrk/update.lua
restart() {  # the server again on the same data, with extra serve flags
  kill "$crs_pid" && wait "$crs_pid" 2>/dev/null || true
  "$CRS" serve --data "$work/data" --listen "127.0.0.1:$PORT" --store "$STORE" "${replica_args[@]}" \
    "$@" >"$work/crs.out" 2>"$work/crs.err" &
  crs_pid=$!
  for _ in $(seq 50); do curl -sf "http://127.0.0.1:$PORT/readyz" >/dev/null && break; sleep 0.1; done
}
restart --benchmark-baseline-without-access-control
run read-no-audit "http://127.0.0.1:$PORT" bench/wrk/read.lua
# Create again with tokens, access control and audit, but without search-index
# extraction (--benchmark-baseline-without-search-index): what indexing costs a
# create, in the same run (issue 3: it may cost at most half the throughput).
restart --benchmark-baseline-without-search-index
run create-no-index "http://127.0.0.1:$PORT/fhir/Patient" bench/wrk/create.lua
echo "create with / without search-index extraction: $(echo "scale=3; $(cat "$out/create.rps") / $(cat "$out/create-no-index.rps")" | bc)"
echo "read/nginx ratio: $(echo "scale=3; $(cat "$out/read-by-id.rps") / $(cat "$out/nginx-static.rps")" | bc) (audited), $(echo "scale=3; $(cat "$out/read-no-audit.rps") / $(cat "$out/nginx-static.rps")" | bc) (without tokens, access control and audit)"
du -sh "$work/data" | awk '{print "data dir after the run: " $1}'
if [[ -n "$pg_data" ]]; then du -sh "$pg_data" | awk '{print "PostgreSQL cluster after the run: " $1}'; fi
