# Sourced by the benchmarks: the server's CPU time split by thread name
# (src/core/thread_name.h: crs-http, crs-worker, crs-writer, ...), so a
# line shows which thread a request's cost lands on.
#
#   thread_ticks PID >FILE                 # "name ticks" lines (user + system)
#   thread_split BEFORE AFTER REQUESTS     # "name us ..." per request, >= 0.5 us
#   need_tools wrk curl ...                # exits with a hint when one is missing
thread_ticks() {
  # A thread may end between the glob and the read (the NHS-number
  # allocator's refill runs on one of its own): what is left is read.
  { cat /proc/"$1"/task/*/stat 2>/dev/null || true; } |
    awk '{n = $2; gsub(/[()]/, "", n); t[n] += $14 + $15} END {for (n in t) print n, t[n]}' | sort
}
thread_split() {
  awk -v reqs="${3:-1}" -v tck="$(getconf CLK_TCK)" '
    FNR == NR { before[$1] = $2; next }
    { d = ($2 - before[$1]) * 1000000 / tck / reqs; if (d >= 0.5) printf "%s %.0f  ", $1, d }' \
    "$1" "$2"
}
need_tools() {
  local t
  for t in "$@"; do
    command -v "$t" >/dev/null 2>&1 && continue
    echo "$t not found: install the benchmark tools with" \
      "CRS_WITH_BENCH=1 bash scripts/install-deps.sh" >&2
    exit 1
  done
}
