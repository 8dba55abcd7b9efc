#!/usr/bin/env bash
# make install puts the programs, configs and systemd units where the
# README and docs/operations.md say, and a second install keeps an
# operator's edited config.
. "$(dirname "$0")/lib.sh"
test_init
DEST=$NET_DIR/root
make -s -C "$NET_ROOT" install DESTDIR="$DEST" PREFIX=/usr/local > "$NET_DIR/install.out" 2>&1
check "make install succeeds" test $? -eq 0
for f in usr/local/bin/expertnet usr/local/bin/expertnet-broker usr/local/bin/expertnet-node \
         etc/expertnet/broker.cfg etc/expertnet/node.cfg \
         lib/systemd/system/expertnet-broker.service lib/systemd/system/expertnet-node.service; do
    check "installed $f" test -s "$DEST/$f"
done
check "installed programs run" "$DEST/usr/local/bin/expertnet-broker" --version
check "units point at the installed programs" grep -q "ExecStart=/usr/local/bin/expertnet-broker" \
    "$DEST/lib/systemd/system/expertnet-broker.service"
check "no unexpanded @PREFIX@ left" bash -c "! grep -rq '@PREFIX@' '$DEST/lib/systemd/system'"
echo "# edited by the operator" >> "$DEST/etc/expertnet/broker.cfg"
make -s -C "$NET_ROOT" install DESTDIR="$DEST" PREFIX=/usr/local > "$NET_DIR/install2.out" 2>&1
check "a second install keeps the operator's config" grep -q "edited by the operator" "$DEST/etc/expertnet/broker.cfg"
check "and says so" grep -q "keep" "$NET_DIR/install2.out"
test_done
