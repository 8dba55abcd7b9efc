#!/usr/bin/env bash
# make test: unit tests (cmocka), then integration tests on loopback.
# Prints one line per test program and a closing "N passed, N failed".
set -u
cd "$(dirname "$0")/.."
passed=0; failed=0; failures=()
# Sanitizer reports (make test SANITIZE=1) go to files, so that one from a
# daemon whose stderr a test does not read is still seen: any report fails
# the suite. LeakSanitizer skips only what tests/lsan.supp explains.
san_dir=$(mktemp -d "${TMPDIR:-/tmp}/expertnet-san.XXXXXX")
export ASAN_OPTIONS="log_path=$san_dir/asan:detect_leaks=1${ASAN_OPTIONS:+:$ASAN_OPTIONS}"
export UBSAN_OPTIONS="log_path=$san_dir/ubsan:print_stacktrace=1:halt_on_error=1"
export LSAN_OPTIONS="suppressions=$PWD/tests/lsan.supp:print_suppressions=0"
run () {
    local name=$1
    shift
    local start=$(date +%s)
    local out
    out=$("$@" 2>&1)
    local rc=$?
    local secs=$(( $(date +%s) - start ))
    if [ $rc -eq 0 ]; then
        passed=$((passed + 1))
        printf 'PASS  %-36s %3ds  %s\n' "$name" "$secs" "$(echo "$out" | grep -cE '^ok |PASSED|^\[       OK') checks"
    else
        failed=$((failed + 1)); failures+=("$name")
        printf 'FAIL  %-36s %3ds\n' "$name" "$secs"
        # what failed first (the daemons' log tails that follow can be long)
        echo "$out" | grep -E '^not ok|^\[  (FAILED|ERROR) ' | head -n 20 | sed 's/^/      /'
        echo "$out" | grep -vE '^ok |^\[ +(RUN|OK) ' | sed 's/^/      /' | tail -n 40
    fi
}
echo "== unit tests (cmocka)"
for t in build/tests/test_*; do
    [ -x "$t" ] && run "unit/$(basename "$t")" "$t"
done
echo "== integration tests (real processes on 127.0.0.1)"
for t in tests/integration/test_*.sh; do
    [ -x "$t" ] && run "integration/$(basename "$t" .sh)" timeout 300 "$t"
done
reports=$(find "$san_dir" -type f | sort)
if [ -n "$reports" ]; then
    failed=$((failed + 1)); failures+=("sanitizers")
    echo "FAIL  sanitizer reports: $(echo "$reports" | wc -l) (kept in $san_dir)"
    for f in $reports; do
        echo "      --- $f"
        grep -E '^(==|SUMMARY|    #[0-9]+ )|runtime error' "$f" | head -n 25 | sed 's/^/      /'
    done
else
    rm -rf "$san_dir"
fi
echo
[ $failed -gt 0 ] && echo "failed: ${failures[*]}"
echo "$passed passed, $failed failed"
[ $failed -eq 0 ]
