#!/usr/bin/env bash
# make fuzz: run each libFuzzer harness (build/fuzz/fuzz_NAME) for
# FUZZ_SECONDS, starting from its committed seed corpus, and print one line
# per harness with the number of inputs it executed. New inputs go to a
# scratch corpus under build/fuzz/, never into tests/fuzz/corpus; a crash
# leaves its input in build/fuzz/artifacts/ (replay it with
# build/tests/test_fuzz_NAME FILE) and fails the run.
set -u
cd "$(dirname "$0")/../.."
seconds=${FUZZ_SECONDS:-30}
out=build/fuzz
mkdir -p "$out/artifacts"
export ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1}
export LSAN_OPTIONS=${LSAN_OPTIONS:-suppressions=$PWD/tests/lsan.supp:print_suppressions=0}
export UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}
failed=0
printf '%-10s %12s %8s %6s  %s\n' harness executions exec/s corpus result | tee "$out/stats.txt"
for name in "$@"; do
    work=$out/corpus-$name
    mkdir -p "$work"
    log=$out/$name.log
    "$out/fuzz_$name" -max_total_time="$seconds" -print_final_stats=1 -max_len=70000 \
        -timeout=10 -rss_limit_mb=2048 -artifact_prefix="$out/artifacts/$name-" \
        "$work" "tests/fuzz/corpus/$name" >"$log" 2>&1
    rc=$?
    execs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" | tail -n 1)
    rate=$(sed -n 's/^stat::average_exec_per_sec: *//p' "$log" | tail -n 1)
    units=$(ls "$work" | wc -l)
    result=ok
    if [ $rc -ne 0 ]; then
        result="FAILED (rc $rc, see $log)"
        failed=$((failed + 1))
    fi
    printf '%-10s %12s %8s %6s  %s\n' "$name" "${execs:-?}" "${rate:-?}" "$units" "$result" | tee -a "$out/stats.txt"
done
echo "($seconds s each; ASan + UBSan; figures in $out/stats.txt)"
[ $failed -eq 0 ]
