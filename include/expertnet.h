/*  =========================================================================
    expertnet.h - public API of libexpertnet

    libexpertnet holds everything expertnet-broker, expertnet-node and the
    expertnet command share. Each class is one header here and one source
    in lib/:

    en_error    the one error convention: 0/-1 or NULL, reason in en_error_t
    en_util     small helpers: clock, ids, names, durations, time formatting
    en_msg      wire codec and signatures of EXPN/3 (docs/protocol.md)
    en_clock    the daemons' clock and the measured offset of a peer's
    en_vocab    domain vocabulary and validation of what nodes publish
    en_db       SQLite handle: durability settings, migrations, statements
    en_outbox   durable outbox and dedup journal (exactly-once delivery)
    en_inbox    exactly-once receive
    en_link     client link engine (HELLO/LINK, heartbeats, reconnect)
    en_keys     keys on disk: CURVE certificates and Ed25519 signing keys
    en_control  local control protocol between the command and a daemon
    en_config   strict configuration checked against a schema
    en_daemon   the daemons' common main(): arguments, config, SIGHUP
    en_vault    regional pseudonyms and encryption at rest at the node
    en_audit    hash-chained access log (NEN 7513)
    en_pii      PII guard: refuses text that holds personal data
    en_report   the rode draden report, with small-cell suppression
    en_keywrap  a secret key wrapped with a password; recovery codes
    en_totp     time-based one-time passwords (RFC 6238)
    en_http     the one web stack of the dashboard and the portal
    en_text     text built through stdio, word tables, shared HTML bits
    =========================================================================
*/
#ifndef EXPERTNET_H_INCLUDED
#define EXPERTNET_H_INCLUDED

#include <czmq.h>
#include <jansson.h>
#include <sqlite3.h>
#include <stdbool.h>
#include <stdint.h>

#define EXPERTNET_VERSION "0.1.0"

typedef struct _en_msg_t en_msg_t;
typedef struct _en_db_t en_db_t;
typedef struct _en_signer_t en_signer_t;

#include "en_error.h"
#include "en_util.h"
#include "en_msg.h"
#include "en_clock.h"
#include "en_vocab.h"
#include "en_db.h"
#include "en_outbox.h"
#include "en_inbox.h"
#include "en_keys.h"
#include "en_link.h"
#include "en_control.h"
#include "en_config.h"
#include "en_daemon.h"
#include "en_vault.h"
#include "en_audit.h"
#include "en_pii.h"
#include "en_report.h"
#include "en_keywrap.h"
#include "en_totp.h"
#include "en_http.h"
#include "en_text.h"

#endif
