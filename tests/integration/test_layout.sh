#!/usr/bin/env bash
# The README's "## Layout" table names every module, one row each, and
# nothing else: a module is a lib/*.c, broker/*.c or node/*.c file (its
# base name, as `lib/en_msg`), except the daemons' *_main.c. A module
# missing from the table, or a row naming a module that is not in the
# tree, fails the test. No processes: it reads the tree.
. "$(dirname "$0")/lib.sh"
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
README=$ROOT/README.md

check "README.md has a '## Layout' section" grep -q '^## Layout$' "$README"

# Rows of the table whose first cell is `DIR/NAME` with DIR lib, broker or node
TABLE=$(awk '/^## Layout$/ { on = 1; next } /^## / { on = 0 } on' "$README" \
        | sed -n 's/^| `\(\(lib\|broker\|node\)\/[A-Za-z0-9_]\+\)` |.*/\1/p' | sort)
# Modules in the tree
TREE=$(cd "$ROOT" && ls lib/*.c broker/*.c node/*.c | grep -v '_main\.c$' | sed 's/\.c$//' | sort)

check "the table names modules" test -n "$TABLE"
for module in $TREE; do
    check "the layout table names $module" grep -qx "$module" <<< "$TABLE"
done
for module in $TABLE; do
    check "$module in the layout table exists ($module.c)" test -f "$ROOT/$module.c"
done
check_eq "each module is named once" "" "$(uniq -d <<< "$TABLE")"
test_done
