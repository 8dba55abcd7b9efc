#!/usr/bin/env bash
# make test: unit tests (cmocka), then integration tests on loopback.
# Prints one line per test program and a closing "N passed, N failed".
set -u
cd "$(dirname "$0")/.."
passed=0; failed=0; failures=()
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
echo
[ $failed -gt 0 ] && echo "failed: ${failures[*]}"
echo "$passed passed, $failed failed"
[ $failed -eq 0 ]
