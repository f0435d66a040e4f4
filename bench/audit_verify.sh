#!/usr/bin/env bash
# Audit log figures: append throughput (AppendAudit from many threads, one
# record per call as the server does per request) and `crs audit verify`
# over the resulting log.
#   bench/audit_verify.sh [RECORDS] [THREADS]     (defaults: 2000000 8)
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
crs=${CRS:-$root/build/crs}
records=${1:-2000000}
threads=${2:-8}
dir=$(mktemp -d /tmp/crs-audit-bench-XXXXXX)
trap 'rm -rf "$dir"' EXIT

echo "== append: $records records, $threads threads, 1 record per call"
"$crs" audit bench --data "$dir" --records "$records" --threads "$threads" --per-call 1
echo "== verify"
start=$(date +%s.%N)
"$crs" audit verify --data "$dir"
end=$(date +%s.%N)
echo "wall time including open: $(echo "$end - $start" | bc) s"
echo "audit log size: $(du -h "$dir/crs-audit.db" | cut -f1)"
