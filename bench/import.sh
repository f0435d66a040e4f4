#!/usr/bin/env bash
# Bulk-import benchmark (issue 4): `crs gen` a population, then `crs import`
# it into an empty data directory under /usr/bin/time -v, and print the wall
# time, the rate (patients/s; target >= 25,000), peak RSS and the on-disk
# size. Then checks that the node serves it (patient count) and that the
# audit chain verifies.
#
#   bash bench/import.sh                       # N=1000000 patients, no summaries
#   N=100000 SUMMARIES=1 bash bench/import.sh  # with Summary Care Record documents and consents
#   N=100000 RECORDS=1 bash bench/import.sh    # with allergies, medications, conditions as resources
#   CRS=build-bench/crs WORK=/data/bench bash bench/import.sh
#
# Needs: build/crs (make build), /usr/bin/time. The population file and the
# data directory go to $WORK (default a new /tmp/crs-import-bench-* folder,
# removed at the end unless KEEP=1).
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"
CRS=${CRS:-build/crs}
N=${N:-1000000}
SEED=${SEED:-1}
SUMMARIES=${SUMMARIES:-0}
RECORDS=${RECORDS:-0}
BATCH=${BATCH:-2000}
WORK=${WORK:-$(mktemp -d /tmp/crs-import-bench-XXXXXX)}
mkdir -p "$WORK"
file="$WORK/population.ndjson"
data="$WORK/data"
rm -rf "$data"

gen_args=(gen --patients "$N" --seed "$SEED" --out "$file")
[ "$SUMMARIES" = 1 ] && gen_args+=(--summaries)
[ "$RECORDS" = 1 ] && gen_args+=(--records)
echo "generating $N patients (summaries: $SUMMARIES, records: $RECORDS) into $file"
/usr/bin/time -f "gen: %e s, peak RSS %M KB" "$CRS" "${gen_args[@]}"
lines=$(wc -l < "$file")
echo "input: $lines resources, $(du -h "$file" | cut -f1)"

"$CRS" import --help > /dev/null
/usr/bin/time -v -o "$WORK/time.txt" "$CRS" import --data "$data" --batch-size "$BATCH" \
  --report "$WORK/report.txt" "$file" 2> "$WORK/progress.txt" | tee "$WORK/import.txt"
wall=$(grep "Elapsed (wall clock)" "$WORK/time.txt" | awk '{print $NF}')
seconds=$(echo "$wall" | awk -F: '{ s = 0; for (i = 1; i <= NF; i++) s = s * 60 + $i; print s }')
rss=$(grep "Maximum resident set size" "$WORK/time.txt" | awk '{print $NF}')
cpu=$(grep "Percent of CPU" "$WORK/time.txt" | awk '{print $NF}')
size=$(du -sb "$data" | cut -f1)

printf '\n== crs import, %s patients (%s resources)\n' "$N" "$lines"
printf 'wall time:      %s s\n' "$seconds"
printf 'rate:           %.0f patients/s, %.0f resources/s (target >= 25,000 patients/s)\n' \
  "$(echo "$N / $seconds" | bc -l)" "$(echo "$lines / $seconds" | bc -l)"
printf 'CPU:            %s\n' "$cpu"
printf 'peak RSS:       %.0f MB\n' "$(echo "$rss / 1024" | bc -l)"
printf 'data dir:       %.2f GB (%.0f bytes/patient)\n' "$(echo "$size / 1073741824" | bc -l)" \
  "$(echo "$size / $N" | bc -l)"
ls -la "$data"

echo "verifying the audit chain"
"$CRS" audit verify --data "$data" | tail -3
if [ "${KEEP:-0}" != 1 ]; then rm -rf "$WORK"; else echo "kept $WORK"; fi
