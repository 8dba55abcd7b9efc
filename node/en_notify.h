/*  en_notify - notifications that reach people: what a notification says
    (rendered Dutch text without case data), when it is sent again
    (backoff), the states a queued notification goes through, and the
    sender that talks to the SMTP relay and the SMS gateway from its own
    thread. The queue itself is in the node's store (en_nstore); the node
    loop owns it. */
#ifndef EN_NOTIFY_H_INCLUDED
#define EN_NOTIFY_H_INCLUDED

#include "expertnet.h"

//  Kinds of notification
#define EN_NOTIFY_KINDS "aanbod, escalatie, advies, herinnering, hiaat"

//  The settings of the config section `notify` (and web/public_url).
typedef struct {
    char *smtp_url;             //  smtp://host:port or smtps://host:port; NULL: no e-mail
    char *from;                 //  envelope and From: address
    char *starttls;             //  off | try | required
    char *username;             //  SMTP AUTH (optional)
    char *password;
    char *sms_url;              //  HTTP(S) gateway taking {to, text}; NULL: no SMS
    char *sms_token;            //  bearer token for the gateway (optional)
    char *public_url;           //  base of links into the portal, no trailing slash
    char *region;               //  the node's region, named in the text
    int64_t retry_min_ms;       //  first retry after this
    int64_t retry_max_ms;       //  backoff cap
    int64_t timeout_ms;         //  one delivery attempt at most this long
} en_notify_config_t;

//  Read the settings from a node config; NULL with err when a value is
//  wrong. Free with en_notify_config_destroy.
en_notify_config_t *en_notify_config_new (zconfig_t *config, const char *region, en_error_t *error);
void en_notify_config_destroy (en_notify_config_t **self_p);
//  The staff recipients (notify/staff_email: comma separated) as a JSON
//  array of strings; invalid addresses are logged and skipped.
json_t *en_notify_staff (zconfig_t *config);

//  True for an address we will hand to SMTP (no spaces, CR/LF, <>, one @,
//  at most 254 bytes), and a phone number (+ and 8 to 15 digits).
bool en_notify_email_valid (const char *address);
bool en_notify_phone_valid (const char *number);

//  Delay before attempt attempts+1 after attempts failed ones:
//  min (retry_min * 2^(attempts-1), retry_max). attempts >= 1.
int64_t en_notify_backoff_ms (int64_t attempts, int64_t retry_min_ms, int64_t retry_max_ms);
//  When an offer that arrived at received with this deadline gets its
//  reminder: halfway.
int64_t en_notify_reminder_at (int64_t received, int64_t deadline);
//  The declared state machine of a queued notification:
//    wacht -> bezig -> verzonden | mislukt-opnieuw;
//    mislukt-opnieuw -> bezig; bezig -> wacht (node restarted mid-send).
bool en_notify_transition_valid (const char *from, const char *to);

//  Render one notification: kind, channel (email|sms), urgency, deadline
//  (ms; 0: none) and link. Fills subject and body (caller frees). The
//  text carries no case data: only the kind, the urgency, the deadline in
//  Dutch, the region and the link. 0, or -1 for an unknown kind.
int en_notify_render (const char *kind, const char *channel, const char *urgency, int64_t deadline,
                      const char *link, const char *region, char **subject, char **body);
//  What a notification may know of an OFFER from the broker: {kind
//  (aanbod|escalatie), offer, request, expert, urgency, deadline}, picked
//  field by field, so the question and the summary cannot reach the
//  text. Caller owns the result.
json_t *en_notify_offer_event (json_t *offer);
//  The link into the portal: base + /aanbod/<offer> for an expert's
//  notification, /verzoeken/<request> for staff. Caller frees.
char *en_notify_link (const char *base, const char *kind, const char *offer, const char *request);
//  A deadline as Dutch text: "woensdag 2 december 2026 om 05:12" (local time).
const char *en_notify_dutch_time (int64_t ms, char *buf, size_t size);
//  The complete mail (RFC 5322 headers, CRLF, UTF-8 body) of a queued
//  row {recipient, subject, body, message_id, created}. Caller frees.
char *en_notify_mail (json_t *row, const char *from);

//  The sender: an actor that delivers one row at a time, so the node
//  loop never waits on a relay. Send a row with en_notify_sender_send;
//  when its socket is readable, en_notify_sender_recv gives the row id
//  and NULL (the relay accepted it) or the error (caller frees).
typedef struct _en_notify_sender_t en_notify_sender_t;
en_notify_sender_t *en_notify_sender_new (const en_notify_config_t *config);
void en_notify_sender_destroy (en_notify_sender_t **self_p);
zsock_t *en_notify_sender_sock (en_notify_sender_t *self);
int en_notify_sender_send (en_notify_sender_t *self, json_t *row);
int en_notify_sender_recv (en_notify_sender_t *self, int64_t *id, char **error);

#endif
