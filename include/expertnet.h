/*  =========================================================================
    expertnet.h - public API of libexpertnet

    libexpertnet holds everything expertnet-broker, expertnet-node and the
    expertnet command share: the wire codec (en_msg), the domain vocabulary
    and its validation (en_vocab), the SQLite helper (en_db), the durable
    outbox and dedup journal (en_outbox), keys (en_keys) and small utilities
    (en_util). Each class is one header here and one source in lib/.
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

#endif
