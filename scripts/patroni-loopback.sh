#!/usr/bin/env bash
# A Patroni-managed PostgreSQL 15 pair with etcd, all on loopback, for trying
# OpenCRS failover on one machine (docs/storage.md, "Failover"):
#
#   bash scripts/patroni-loopback.sh start DIR   # etcd :23790, pg1 :5441, pg2 :5442
#   bash scripts/patroni-loopback.sh stop DIR
#
# Synchronous mode is on: a commit is acknowledged once the standby has it,
# so the automatic failover loses no acknowledged write. Everything runs as
# the postgres user when started as root. Needs: patroni, etcd-server,
# postgresql-15 (Debian packages). Not for production: trust authentication.
set -euo pipefail
verb=${1:?start|stop}
dir=${2:?directory}
as_pg=()
if [[ $(id -u) == 0 ]]; then as_pg=(runuser -u postgres --); fi

if [[ "$verb" == stop ]]; then
  for f in "$dir"/*.pid; do [[ -f "$f" ]] && kill "$(cat "$f")" 2>/dev/null || true; done
  sleep 2
  for n in 1 2; do
    "${as_pg[@]}" /usr/lib/postgresql/15/bin/pg_ctl -D "$dir/pg$n" -m immediate stop >/dev/null 2>&1 || true
  done
  exit 0
fi

mkdir -p "$dir"
chmod 755 "$dir"
if [[ $(id -u) == 0 ]]; then chown postgres "$dir"; fi
"${as_pg[@]}" etcd --name crs-etcd --data-dir "$dir/etcd" --enable-v2=true \
  --listen-client-urls http://127.0.0.1:23790 --advertise-client-urls http://127.0.0.1:23790 \
  --listen-peer-urls http://127.0.0.1:23800 --initial-advertise-peer-urls http://127.0.0.1:23800 \
  --initial-cluster crs-etcd=http://127.0.0.1:23800 >"$dir/etcd.log" 2>&1 &
echo $! >"$dir/etcd.pid"
sleep 2

for n in 1 2; do
  cat >"$dir/patroni$n.yml" <<YAML
scope: crs
name: pg$n
restapi:
  listen: 127.0.0.1:810$n
  connect_address: 127.0.0.1:810$n
etcd:
  host: 127.0.0.1:23790
bootstrap:
  dcs:
    ttl: 10
    loop_wait: 2
    retry_timeout: 5
    synchronous_mode: true
    postgresql:
      use_pg_rewind: false
      parameters:
        wal_level: replica
        hot_standby: "on"
        max_wal_senders: 10
        max_replication_slots: 10
  initdb:
    - encoding: UTF8
    - locale: C
  pg_hba:
    - local all all trust
    - host all all 127.0.0.1/32 trust
    - host replication all 127.0.0.1/32 trust
postgresql:
  listen: 127.0.0.1:544$n
  connect_address: 127.0.0.1:544$n
  data_dir: $dir/pg$n
  bin_dir: /usr/lib/postgresql/15/bin
  pgpass: $dir/pgpass$n
  authentication:
    superuser:
      username: postgres
    replication:
      username: postgres
  parameters:
    unix_socket_directories: $dir
YAML
  "${as_pg[@]}" patroni "$dir/patroni$n.yml" >"$dir/patroni$n.log" 2>&1 &
  echo $! >"$dir/patroni$n.pid"
  sleep 8  # pg1 bootstraps the cluster; pg2 then clones it
done
patronictl -c "$dir/patroni1.yml" list
