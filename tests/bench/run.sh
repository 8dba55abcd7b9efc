#!/usr/bin/env bash
# make bench: run the benchmarks in tests/bench and print one summary table.
#
# Every figure is printed beside a baseline measured in this same run, as
# a ratio (docs/benchmarks.md explains each). A missed target is reported
# in the table, never turned into a failure: this script exits non-zero
# only when a benchmark could not run (a daemon did not start, messages
# went missing, a benchmark crashed or overran its time).
#
# Scratch data (databases, keys, daemon logs) goes to one directory under
# build/bench, on the same filesystem as the build tree; it is removed at
# exit. Set BENCH_KEEP=1 to keep it for a look at the daemons' logs.
# The summary is also written to build/bench/results.md (markdown) and
# build/bench/results.tsv.
#
# Two tables follow the summary (tests/bench/summary.awk):
# * Scaling (issue 12): a result line belongs to it when its metric names
#   a point of an axis as "N experts", "N stored requests" (or "N
#   stored") or "N connected nodes" (N with or without thousands
#   separators, or as 100k / 1M), e.g.
#   "broker CPU/request, 10,000 experts", and its baseline names the
#   axis's first point the same way ("broker CPU/request, 100 experts").
#   One row per figure (the metric without its point), one column per
#   point: 100 / 1,000 / 10,000 experts, 0 / 100,000 / 1,000,000 stored
#   requests, 3 / 42 / 200 connected nodes.
# * Peers: the broker's durable rate beside Mosquitto's and JetStream's
#   (lines whose metric starts with "peer: "), each as a ratio to the raw
#   SQLite commit rate its own benchmark measured.
set -u
cd "$(dirname "$0")/../.."

BIN_DIR=build/bin
OUT_DIR=build/bench
# In this order, one a line; the others found in build/bench run after
BENCHES=(
    bench_durable
    bench_latency
    bench_peers
    bench_nodes
    bench_figures
    bench_retry
    bench_scale
)
LIMIT=150                                 # seconds one benchmark may take
# bench_scale with BENCH_SCALE_FULL=1 fills a store to 1,000,000 requests
# (minutes): it gets longer
LIMIT_SCALE_FULL=1800

mkdir -p "$OUT_DIR"
export BENCH_TMPDIR
BENCH_TMPDIR=$(mktemp -d "$PWD/$OUT_DIR/run.XXXXXX") || exit 1
export BENCH_RESULTS="$OUT_DIR/results.tsv"
: > "$BENCH_RESULTS"

running=""
cleanup () {
    # Stop a benchmark still running (it stops its own daemons by PID)
    if [ -n "$running" ] && kill -0 "$running" 2>/dev/null; then
        kill -TERM "$running" 2>/dev/null
        wait "$running" 2>/dev/null
    fi
    if [ "${BENCH_KEEP:-0}" = 1 ]; then
        echo "scratch data kept in $BENCH_TMPDIR"
    else
        rm -rf "$BENCH_TMPDIR"
    fi
}
trap cleanup EXIT
trap 'exit 130' INT TERM HUP

for b in "$OUT_DIR"/bench_*; do
    name=$(basename "$b")
    [ -f "$b" ] && [ -x "$b" ] || continue
    [[ " ${BENCHES[*]} " == *" $name "* ]] || BENCHES+=("$name")
done

failed=()
start_all=$(date +%s)
for name in "${BENCHES[@]}"; do
    bin="$OUT_DIR/$name"
    if [ ! -x "$bin" ]; then
        echo "== $name: not built" >&2
        failed+=("$name")
        continue
    fi
    echo "== $name"
    start=$(date +%s)
    limit=$LIMIT
    [ "$name" = bench_scale ] && [ "${BENCH_SCALE_FULL:-0}" = 1 ] && limit=$LIMIT_SCALE_FULL
    timeout --kill-after=15 "$limit" "$bin" "$BIN_DIR" &
    running=$!
    wait "$running"
    rc=$?
    running=""
    echo "   ($(( $(date +%s) - start )) s)"
    if [ $rc -ne 0 ]; then
        [ $rc -eq 124 ] && echo "== $name: did not finish within $limit s" >&2
        echo "== $name: FAILED TO RUN (exit $rc)" >&2
        failed+=("$name")
    fi
done

# The summary table, from the result lines the benchmarks appended
when=$(date '+%Y-%m-%d %H:%M %Z')
machine="$(nproc) CPUs, Linux $(uname -r)"
echo
echo "== summary ($when; $machine; $(( $(date +%s) - start_all )) s)"
awk -F'\t' '
    BEGIN { printf "%-42s %10s %-3s  %-30s %10s  %9s  %-9s %s\n", "metric", "value", "", "baseline", "value", "ratio", "target", "met" }
    $1 == "#" { notes[++n] = $2; next }
    { printf "%-42s %10s %-3s  %-30s %10s  %8sx  %-9s %s\n", $1, $2, $3, $4, $5, $6, $7, $8 }
    END { for (i = 1; i <= n; i++) print "note: " notes[i] }
' "$BENCH_RESULTS"
awk -F'\t' -v format=text -f tests/bench/summary.awk "$BENCH_RESULTS"

{
    echo "Measured $when on $machine."
    echo
    echo "| metric | value | baseline (same run) | baseline value | ratio | target | met |"
    echo "|---|---:|---|---:|---:|---|---|"
    awk -F'\t' '$1 != "#" { printf "| %s | %s %s | %s | %s | %sx | %s | %s |\n", $1, $2, $3, $4, $5, $6, $7, $8 }' "$BENCH_RESULTS"
    echo
    awk -F'\t' '$1 == "#" { print "* " $2 }' "$BENCH_RESULTS"
    awk -F'\t' -v format=md -f tests/bench/summary.awk "$BENCH_RESULTS"
} > "$OUT_DIR/results.md"
echo "(also in $OUT_DIR/results.md)"

if [ ${#failed[@]} -gt 0 ]; then
    echo "benchmarks that could not run: ${failed[*]}" >&2
    exit 1
fi
exit 0
