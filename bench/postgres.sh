# Sourced by the benchmarks: a throwaway PostgreSQL 15 cluster for
# CRS_BENCH_STORE=postgres, with the server's default durability (fsync and
# synchronous_commit on) and shared_buffers 1GB, and with
# CRS_BENCH_REPLICA=1 a streaming hot standby of it on the same machine.
#
#   bench_store_start WORKDIR PORT   # sets STORE (the --store URL) and
#                                    # replica_args (--replica URL, or none)
#   bench_store_stop                 # from the caller's cleanup trap
STORE=${CRS_BENCH_STORE:-sqlite:}
replica_args=()
as_pg=()
pg_data=""
pg_standby=""
pgbin=/usr/lib/postgresql/15/bin

bench_store_start() {
  local work=$1 port=$2
  [[ "$STORE" == postgres ]] || return 0
  # initdb refuses root: the cluster runs as the postgres user then.
  if [[ $(id -u) == 0 ]]; then as_pg=(runuser -u postgres --); fi
  chmod 755 "$work"
  mkdir -p "$work/pg"
  if [[ $(id -u) == 0 ]]; then chown postgres "$work/pg"; fi
  "${as_pg[@]}" $pgbin/initdb -D "$work/pg/data" -U postgres --auth=trust -E UTF8 --locale=C >/dev/null
  pg_data="$work/pg/data"
  local opts="-c listen_addresses=127.0.0.1 -c unix_socket_directories=$work/pg"
  opts+=" -c shared_buffers=1GB -c max_connections=100"
  "${as_pg[@]}" $pgbin/pg_ctl -D "$pg_data" -l "$work/pg/server.log" -w -o "$opts -c port=$port" \
    start >/dev/null
  STORE="postgres://postgres@127.0.0.1:$port/postgres"
  if [[ "${CRS_BENCH_REPLICA:-0}" == 1 ]]; then
    "${as_pg[@]}" $pgbin/pg_basebackup -h 127.0.0.1 -p "$port" -U postgres -D "$work/pg/standby" -R -X stream
    pg_standby="$work/pg/standby"
    "${as_pg[@]}" $pgbin/pg_ctl -D "$pg_standby" -l "$work/pg/standby.log" -w \
      -o "$opts -c port=$((port + 1))" start >/dev/null
    replica_args=(--replica "postgres://postgres@127.0.0.1:$((port + 1))/postgres")
    echo "replica: hot standby on port $((port + 1))"
  fi
}

bench_store_stop() {
  local d
  for d in "$pg_standby" "$pg_data"; do
    [[ -n "$d" ]] && "${as_pg[@]}" $pgbin/pg_ctl -D "$d" -m fast -w stop >/dev/null 2>&1 || true
  done
}
