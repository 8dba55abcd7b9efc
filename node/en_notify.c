/*  en_notify - notifications that reach people.

    An expert who is not at a terminal must still hear of an offer that
    has ten minutes. The node queues a notification in its store in the
    same transaction as the event that causes it (an offer, an escalation
    offer, advice for this region's request, a request become hiaat, an
    offer half its time unanswered), one row per recipient and channel.
    The node loop hands due rows to the sender below and writes what
    happened: the store keeps one owner.

    What a notification says. Mail and text messages travel over lines
    nobody here controls, so they carry no case data: the kind, the
    urgency, the deadline, the region and a link into the node's portal,
    where the person logs in to read the question. The text is rendered
    once, at queueing, so what the beheerder sees queued is what is sent.

    Delivery. The sender is a CZMQ actor: it takes one row at a time over
    its pipe, talks to the SMTP relay (libcurl: smtp:// with optional
    STARTTLS, or smtps://, optional AUTH) or to the SMS gateway (an HTTP
    JSON POST {to, text} with a bearer token), and answers DONE with the
    row id and the error, if any. A row is sent until the relay accepted
    it, with exponential backoff up to a cap. Exactly once, honestly: a
    row is marked 'bezig' before it is handed over and 'verzonden' after
    the relay said 250; a node that stops in between sends it again at
    start. Every row has its own Message-ID header, the same on every
    attempt, so a mail client or relay that deduplicates shows it once.

    Limits. No HTML part, no attachments, no per-person language; a
    recipient the relay refuses for good (5xx) is retried at the cap like
    a relay that is down, and shows as mislukt-opnieuw with the error.
*/
#include "en_notify.h"
#include <curl/curl.h>
#include <sodium.h>
#include <time.h>

//  --------------------------------------------------------------------
//  Settings

static char *
s_setting (zconfig_t *config, const char *path)
{
    const char *value = zconfig_get (config, path, NULL);
    return value && *value ? strdup (value) : NULL;
}

en_notify_config_t *
en_notify_config_new (zconfig_t *config, const char *region, en_error_t *error)
{
    en_notify_config_t *self = (en_notify_config_t *) zmalloc (sizeof (en_notify_config_t));
    assert (self);
    self->smtp_url = s_setting (config, "notify/smtp_url");
    self->from = s_setting (config, "notify/from");
    self->starttls = strdup (zconfig_get (config, "notify/starttls", "try"));
    self->username = s_setting (config, "notify/username");
    self->password = s_setting (config, "notify/password");
    self->sms_url = s_setting (config, "notify/sms_url");
    self->sms_token = s_setting (config, "notify/sms_token");
    self->region = strdup (region);
    self->retry_min_ms = en_config_ms (config, "notify/retry_min", "30s");
    self->retry_max_ms = en_config_ms (config, "notify/retry_max", "1h");
    self->timeout_ms = en_config_ms (config, "notify/timeout", "30s");
    //  Links: web/public_url, else derived from the portal's web/address
    const char *public_url = zconfig_get (config, "web/public_url", NULL);
    const char *address = zconfig_get (config, "web/address", NULL);
    if (public_url && *public_url)
        self->public_url = strdup (public_url);
    else
    if (address && *address && !streq (address, "off"))
        self->public_url = zsys_sprintf ("http://%s", address);
    else
        self->public_url = strdup ("http://127.0.0.1:8081");
    size_t length = strlen (self->public_url);
    while (length > 0 && self->public_url [length - 1] == '/')
        self->public_url [--length] = 0;

    if (self->smtp_url && strncmp (self->smtp_url, "smtp://", 7) && strncmp (self->smtp_url, "smtps://", 8))
        en_error_set (error, EN_ERR_INVALID, "notify/smtp_url must start with smtp:// or smtps://");
    else
    if (self->smtp_url && !en_notify_email_valid (self->from))
        en_error_set (error, EN_ERR_INVALID, "notify/from must be the sender's e-mail address when smtp_url is set");
    else
    if (!streq (self->starttls, "off") && !streq (self->starttls, "try") && !streq (self->starttls, "required"))
        en_error_set (error, EN_ERR_INVALID, "notify/starttls must be off, try or required");
    else
    if (self->sms_url && strncmp (self->sms_url, "http://", 7) && strncmp (self->sms_url, "https://", 8))
        en_error_set (error, EN_ERR_INVALID, "notify/sms_url must start with http:// or https://");
    else
    if (strncmp (self->public_url, "http://", 7) && strncmp (self->public_url, "https://", 8))
        en_error_set (error, EN_ERR_INVALID, "web/public_url must start with http:// or https://");
    else
    if (self->retry_min_ms <= 0 || self->retry_max_ms < self->retry_min_ms)
        en_error_set (error, EN_ERR_INVALID, "notify/retry_min must be above 0 and at most notify/retry_max");
    else
        return self;
    en_notify_config_destroy (&self);
    return NULL;
}

void
en_notify_config_destroy (en_notify_config_t **self_p)
{
    assert (self_p);
    en_notify_config_t *self = *self_p;
    if (self) {
        free (self->smtp_url);
        free (self->from);
        free (self->starttls);
        free (self->username);
        if (self->password) {
            sodium_memzero (self->password, strlen (self->password));
            free (self->password);
        }
        free (self->sms_url);
        if (self->sms_token) {
            sodium_memzero (self->sms_token, strlen (self->sms_token));
            free (self->sms_token);
        }
        free (self->public_url);
        free (self->region);
        free (self);
        *self_p = NULL;
    }
}

static en_notify_config_t *
s_config_dup (const en_notify_config_t *config)
{
    en_notify_config_t *copy = (en_notify_config_t *) zmalloc (sizeof (en_notify_config_t));
    assert (copy);
    *copy = *config;
    char **strings [] = { &copy->smtp_url, &copy->from, &copy->starttls, &copy->username, &copy->password,
                          &copy->sms_url, &copy->sms_token, &copy->public_url, &copy->region };
    for (size_t i = 0; i < sizeof strings / sizeof strings [0]; i++)
        if (*strings [i])
            *strings [i] = strdup (*strings [i]);
    return copy;
}

json_t *
en_notify_staff (zconfig_t *config)
{
    json_t *staff = json_array ();
    const char *list = zconfig_get (config, "notify/staff_email", "");
    char *copy = strdup (list), *save = NULL;
    for (char *item = strtok_r (copy, ", ", &save); item; item = strtok_r (NULL, ", ", &save)) {
        if (en_notify_email_valid (item))
            json_array_append_new (staff, json_string (item));
        else
            zsys_warning ("notify/staff_email: '%s' is not an e-mail address; skipped", item);
    }
    free (copy);
    return staff;
}

bool
en_notify_email_valid (const char *address)
{
    if (!address || strlen (address) < 3 || strlen (address) > 254)
        return false;
    const char *at = strchr (address, '@');
    if (!at || at == address || !at [1] || strchr (at + 1, '@') || !strchr (at + 1, '.'))
        return false;
    for (const char *p = address; *p; p++)
        if ((unsigned char) *p <= ' ' || strchr ("<>()[]\\,;:\"", *p) || (unsigned char) *p >= 127)
            return false;
    return true;
}

bool
en_notify_phone_valid (const char *number)
{
    if (!number || number [0] != '+')
        return false;
    size_t digits = 0;
    for (const char *p = number + 1; *p; p++) {
        if (*p < '0' || *p > '9')
            return false;
        digits++;
    }
    return digits >= 8 && digits <= 15;
}

//  --------------------------------------------------------------------
//  Schedule and states

int64_t
en_notify_backoff_ms (int64_t attempts, int64_t retry_min_ms, int64_t retry_max_ms)
{
    assert (attempts >= 1);
    int64_t delay = retry_min_ms;
    for (int64_t i = 1; i < attempts && delay < retry_max_ms; i++)
        delay *= 2;
    return delay < retry_max_ms ? delay : retry_max_ms;
}

int64_t
en_notify_reminder_at (int64_t received, int64_t deadline)
{
    return received + (deadline - received) / 2;
}

bool
en_notify_transition_valid (const char *from, const char *to)
{
    static const char *transitions [][2] = {
        { "wacht", "bezig" },
        { "mislukt-opnieuw", "bezig" },
        { "bezig", "verzonden" },
        { "bezig", "mislukt-opnieuw" },
        { "bezig", "wacht" },               //  node stopped mid-send: due again
        { NULL, NULL } };
    for (int i = 0; transitions [i][0]; i++)
        if (streq (transitions [i][0], from) && streq (transitions [i][1], to))
            return true;
    return false;
}

//  --------------------------------------------------------------------
//  Text

const char *
en_notify_dutch_time (int64_t ms, char *buf, size_t size)
{
    static const char *days [] = { "zondag", "maandag", "dinsdag", "woensdag", "donderdag", "vrijdag",
                                   "zaterdag" };
    static const char *months [] = { "januari", "februari", "maart", "april", "mei", "juni", "juli",
                                     "augustus", "september", "oktober", "november", "december" };
    time_t seconds = (time_t) (ms / 1000);
    struct tm local;
    localtime_r (&seconds, &local);
    snprintf (buf, size, "%s %d %s %d om %02d:%02d", days [local.tm_wday], local.tm_mday,
              months [local.tm_mon], local.tm_year + 1900, local.tm_hour, local.tm_min);
    return buf;
}

json_t *
en_notify_offer_event (json_t *offer)
{
    const char *kind = en_json_str (offer, "kind");
    json_t *summary = json_object_get (offer, "request");
    return json_pack ("{s:s, s:s?, s:s?, s:s?, s:s?, s:I}",
        "kind", kind && streq (kind, "escalation") ? "escalatie" : "aanbod",
        "offer", en_json_str (offer, "offer"), "request", en_json_str (offer, "request_id"),
        "expert", en_json_str (offer, "expert"), "urgency", en_json_str (summary, "urgency"),
        "deadline", (json_int_t) en_json_int (offer, "deadline", 0));
}

char *
en_notify_link (const char *base, const char *kind, const char *offer, const char *request)
{
    //  A message in a request's conversation: the team reads it on the
    //  request's page, an expert on the accepted offer's
    bool staff = streq (kind, "advies") || streq (kind, "hiaat") || streq (kind, "terug-op-et")
              || (streq (kind, "bericht") && !offer) || streq (kind, "moreel-beraad-antwoord");
    return staff ? zsys_sprintf ("%s/verzoeken/%s", base, request ? request : "")
                 : zsys_sprintf ("%s/aanbod/%s", base, offer ? offer : "");
}

//  What each kind of notification says (Dutch): mail subject, SMS text,
//  the mail's first line and what to do
static const struct {
    const char *kind, *subject, *sms, *intro, *action;
    const char *when_label; //  what the date is ("Reageer voor:" when NULL)
} s_texts [] = {
    { "aanbod", "Nieuw consultatieverzoek voor u", "nieuw consultatieverzoek voor u",
      "Er staat een nieuw consultatieverzoek voor u klaar in het portaal.",
      "Bekijk het verzoek en neem het aan of wijs het af:", NULL },
    { "escalatie", "Escalatie: een consultatieverzoek voor u als bovenregionaal procesregisseur",
      "escalatie: consultatieverzoek voor u",
      "Een consultatieverzoek vond geen passende expert en is aan u voorgelegd\n"
      "als bovenregionaal procesregisseur.",
      "Bekijk het verzoek en neem het aan of wijs het af:", NULL },
    { "herinnering", "Herinnering: een consultatieverzoek wacht op uw antwoord",
      "herinnering: verzoek wacht op uw antwoord",
      "Een consultatieverzoek voor u wacht nog op antwoord; de helft van de\n"
      "reactietijd is voorbij. Zonder antwoord gaat het verzoek naar een ander.",
      "Bekijk het verzoek en neem het aan of wijs het af:", NULL },
    { "advies", "Advies ontvangen op een consultatieverzoek", "advies ontvangen op een verzoek",
      "Er is advies binnengekomen op een consultatieverzoek van uw expertteam.",
      "Lees het advies in het portaal:", NULL },
    { "bericht", "Nieuw bericht over een consultatieverzoek", "nieuw bericht over een verzoek",
      "Er is een nieuw bericht in het gesprek over een consultatieverzoek.",
      "Lees het bericht in het portaal:", NULL },
    { "hiaat", "Hiaat: geen expert gevonden voor een consultatieverzoek", "hiaat: geen expert gevonden",
      "Voor een consultatieverzoek van uw expertteam is in het netwerk geen\n"
      "passende expert gevonden; het is als hiaat geregistreerd.",
      "Bekijk het verzoek en bespreek de vervolgstappen:", NULL },
    { "terug-op-et", "Terug op ET: een consultatieverzoek komt terug in het expertteam",
      "terug op ET: een verzoek komt terug",
      "De datum waarop uw expertteam een consultatieverzoek opnieuw zou bespreken\n"
      "(terug op ET) is bereikt. Ga na of de hulp er is, en sluit het verzoek af\n"
      "met een uitkomst of kies een nieuwe datum.",
      "Bekijk het verzoek:", "Terug op ET:" },
    { "terug-op-et-expert", "Terug op ET: een verzoek waaraan u meewerkt komt terug",
      "terug op ET: verzoek waaraan u meewerkt",
      "Een consultatieverzoek dat u hebt aangenomen komt terug in het expertteam\n"
      "(terug op ET). Het team kan u vragen hoe het staat met de hulp.",
      "Bekijk het verzoek in het portaal:", "Terug op ET:" },
    { "moreel-beraad", "Moreel beraad: kies de tijden die u passen", "moreel beraad: kies tijden",
      "Het expertteam stelt tijden voor een moreel beraad voor over een verzoek\n"
      "waaraan u meewerkt. Geef in het portaal aan welke tijden u passen.",
      "Bekijk de voorgestelde tijden:", "Eerste voorstel:" },
    { "moreel-beraad-antwoord", "Moreel beraad: een deelnemer heeft geantwoord",
      "moreel beraad: deelnemer antwoordde",
      "Een deelnemer aan een moreel beraad van uw expertteam heeft aangegeven welke\n"
      "voorgestelde tijden passen.",
      "Bekijk de antwoorden en stel een tijd vast:", NULL },
    { "moreel-beraad-tijd", "Moreel beraad: de tijd staat vast", "moreel beraad: tijd staat vast",
      "Het expertteam heeft de tijd voor het moreel beraad vastgesteld.",
      "Bekijk het verzoek in het portaal:", "Tijd:" },
    { NULL, NULL, NULL, NULL, NULL, NULL } };

int
en_notify_render (const char *kind, const char *channel, const char *urgency, int64_t deadline,
                  const char *link, const char *region, char **subject, char **body)
{
    int t = 0;
    while (s_texts [t].kind && !streq (s_texts [t].kind, kind))
        t++;
    if (!s_texts [t].kind)
        return -1;
    char when [80] = "";
    if (deadline > 0)
        en_notify_dutch_time (deadline, when, sizeof when);
    //  Only a word of the vocabulary reaches the text (and the Subject header)
    bool urgent = en_vocab_urgency_index (urgency) >= 0;
    if (streq (channel, "sms")) {
        char urgency_part [64] = "", deadline_part [112] = "";
        if (urgent)
            snprintf (urgency_part, sizeof urgency_part, " (%s)", urgency);
        if (deadline > 0) {
            //  Short, so the message fits one SMS (160 characters)
            time_t seconds = (time_t) (deadline / 1000);
            struct tm local;
            localtime_r (&seconds, &local);
            snprintf (deadline_part, sizeof deadline_part, ", %s %d-%d %02d:%02d",
                      s_texts [t].when_label ? "op" : "reageer voor", local.tm_mday,
                      local.tm_mon + 1, local.tm_hour, local.tm_min);
        }
        *subject = strdup (s_texts [t].subject);
        *body = zsys_sprintf ("Expertnet %s: %s%s%s. %s", region, s_texts [t].sms, urgency_part,
                              deadline_part, link);
        return 0;
    }
    if (urgent)
        *subject = zsys_sprintf ("%s (urgentie: %s)", s_texts [t].subject, urgency);
    else
        *subject = strdup (s_texts [t].subject);
    char urgency_line [64] = "", deadline_line [128] = "";
    if (urgent)
        snprintf (urgency_line, sizeof urgency_line, "Urgentie:      %s\n", urgency);
    if (deadline > 0)
        snprintf (deadline_line, sizeof deadline_line, "%-14s %s\n",
                  s_texts [t].when_label ? s_texts [t].when_label : "Reageer voor:", when);
    *body = zsys_sprintf (
        "%s\n"
        "\n"
        "Soort melding: %s\n"
        "%s%s"
        "\n"
        "%s\n"
        "%s\n"
        "\n"
        "Deze e-mail bevat bewust geen gegevens over de casus: e-mail reist over\n"
        "lijnen die niemand van ons beheert. De vraag en het dossier leest u na\n"
        "inloggen in het portaal.\n"
        "\n"
        "-- \n"
        "expertnet, regio %s (automatisch bericht; beantwoorden heeft geen zin)\n",
        s_texts [t].intro, kind, urgency_line, deadline_line, s_texts [t].action, link, region);
    return 0;
}

//  RFC 5322 date in English, whatever the locale
static void
s_mail_date (int64_t ms, char *buf, size_t size)
{
    static const char *days [] = { "Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat" };
    static const char *months [] = { "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct",
                                     "Nov", "Dec" };
    time_t seconds = (time_t) (ms / 1000);
    struct tm utc;
    gmtime_r (&seconds, &utc);
    snprintf (buf, size, "%s, %02d %s %04d %02d:%02d:%02d +0000", days [utc.tm_wday], utc.tm_mday,
              months [utc.tm_mon], utc.tm_year + 1900, utc.tm_hour, utc.tm_min, utc.tm_sec);
}

//  A header value: as is when plain ASCII, else RFC 2047 base64 UTF-8
static char *
s_header_text (const char *text)
{
    bool plain = true;
    for (const char *p = text; *p; p++)
        if ((unsigned char) *p >= 127 || (unsigned char) *p < ' ')
            plain = false;
    if (plain)
        return strdup (text);
    size_t length = strlen (text);
    size_t b64_size = sodium_base64_ENCODED_LEN (length, sodium_base64_VARIANT_ORIGINAL);
    char *b64 = (char *) malloc (b64_size);
    sodium_bin2base64 (b64, b64_size, (const unsigned char *) text, length, sodium_base64_VARIANT_ORIGINAL);
    char *encoded = zsys_sprintf ("=?UTF-8?B?%s?=", b64);
    free (b64);
    return encoded;
}

char *
en_notify_mail (json_t *row, const char *from)
{
    char date [64];
    s_mail_date (en_json_int (row, "created", en_now_ms ()), date, sizeof date);
    char *subject = s_header_text (en_json_str (row, "subject") ?: "");
    //  Body lines end in CRLF on the wire
    const char *body = en_json_str (row, "body") ?: "";
    size_t lines = 1;
    for (const char *p = body; *p; p++)
        lines += *p == '\n';
    char *crlf = (char *) malloc (strlen (body) + lines + 1);
    char *out = crlf;
    for (const char *p = body; *p; p++) {
        if (*p == '\n' && (p == body || p [-1] != '\r'))
            *out++ = '\r';
        *out++ = *p;
    }
    *out = 0;
    char *mail = zsys_sprintf (
        "Date: %s\r\n"
        "From: expertnet <%s>\r\n"
        "To: <%s>\r\n"
        "Message-ID: %s\r\n"
        "Subject: %s\r\n"
        "MIME-Version: 1.0\r\n"
        "Content-Type: text/plain; charset=UTF-8\r\n"
        "Content-Transfer-Encoding: 8bit\r\n"
        "Auto-Submitted: auto-generated\r\n"
        "\r\n"
        "%s",
        date, from, en_json_str (row, "recipient"), en_json_str (row, "message_id"), subject, crlf);
    free (subject);
    free (crlf);
    return mail;
}

//  --------------------------------------------------------------------
//  The sender actor

typedef struct {
    const char *data;           //  what to upload
    size_t size;                //  its length
    size_t offset;              //  how much went already
} s_upload_t;

static size_t
s_read (char *buffer, size_t size, size_t count, void *arg)
{
    s_upload_t *upload = (s_upload_t *) arg;
    size_t room = size * count;
    size_t left = upload->size - upload->offset;
    size_t chunk = left < room ? left : room;
    memcpy (buffer, upload->data + upload->offset, chunk);
    upload->offset += chunk;
    return chunk;
}

static size_t
s_discard (char *buffer, size_t size, size_t count, void *arg)
{
    return size * count;
}

//  A stopping node does not wait for a slow relay
static int
s_progress (void *arg, curl_off_t dltotal, curl_off_t dlnow, curl_off_t ultotal, curl_off_t ulnow)
{
    return zsys_interrupted ? 1 : 0;
}

static void
s_curl_common (CURL *curl, const en_notify_config_t *config, char *errbuf)
{
    curl_easy_setopt (curl, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt (curl, CURLOPT_ERRORBUFFER, errbuf);
    curl_easy_setopt (curl, CURLOPT_CONNECTTIMEOUT_MS, (long) MIN (config->timeout_ms, 10000));
    curl_easy_setopt (curl, CURLOPT_TIMEOUT_MS, (long) config->timeout_ms);
    curl_easy_setopt (curl, CURLOPT_NOPROGRESS, 0L);
    curl_easy_setopt (curl, CURLOPT_XFERINFOFUNCTION, s_progress);
}

static char *
s_error (CURLcode rc, const char *errbuf, long response)
{
    if (response >= 400)
        return zsys_sprintf ("%s (antwoord %ld)", *errbuf ? errbuf : curl_easy_strerror (rc), response);
    return strdup (*errbuf ? errbuf : curl_easy_strerror (rc));
}

static char *
s_send_mail (const en_notify_config_t *config, json_t *row)
{
    if (!config->smtp_url)
        return strdup ("geen notify/smtp_url ingesteld");
    char *mail = en_notify_mail (row, config->from);
    s_upload_t upload = { mail, strlen (mail), 0 };
    char errbuf [CURL_ERROR_SIZE] = "";
    CURL *curl = curl_easy_init ();
    struct curl_slist *recipients = curl_slist_append (NULL, en_json_str (row, "recipient"));
    s_curl_common (curl, config, errbuf);
    curl_easy_setopt (curl, CURLOPT_URL, config->smtp_url);
    curl_easy_setopt (curl, CURLOPT_MAIL_FROM, config->from);
    curl_easy_setopt (curl, CURLOPT_MAIL_RCPT, recipients);
    curl_easy_setopt (curl, CURLOPT_READFUNCTION, s_read);
    curl_easy_setopt (curl, CURLOPT_READDATA, &upload);
    curl_easy_setopt (curl, CURLOPT_UPLOAD, 1L);
    curl_easy_setopt (curl, CURLOPT_USE_SSL, streq (config->starttls, "required") ? (long) CURLUSESSL_ALL
                                           : streq (config->starttls, "try") ? (long) CURLUSESSL_TRY
                                           : (long) CURLUSESSL_NONE);
    if (config->username) {
        curl_easy_setopt (curl, CURLOPT_USERNAME, config->username);
        curl_easy_setopt (curl, CURLOPT_PASSWORD, config->password ? config->password : "");
    }
    CURLcode rc = curl_easy_perform (curl);
    long response = 0;
    curl_easy_getinfo (curl, CURLINFO_RESPONSE_CODE, &response);
    char *error = rc == CURLE_OK ? NULL : s_error (rc, errbuf, response);
    curl_slist_free_all (recipients);
    curl_easy_cleanup (curl);
    free (mail);
    return error;
}

static char *
s_send_sms (const en_notify_config_t *config, json_t *row)
{
    if (!config->sms_url)
        return strdup ("geen notify/sms_url ingesteld");
    json_t *payload = json_pack ("{s:s, s:s}", "to", en_json_str (row, "recipient"),
                                 "text", en_json_str (row, "body"));
    char *text = json_dumps (payload, JSON_COMPACT);
    json_decref (payload);
    char errbuf [CURL_ERROR_SIZE] = "";
    CURL *curl = curl_easy_init ();
    struct curl_slist *headers = curl_slist_append (NULL, "Content-Type: application/json");
    char *authorization = NULL;
    if (config->sms_token) {
        authorization = zsys_sprintf ("Authorization: Bearer %s", config->sms_token);
        headers = curl_slist_append (headers, authorization);
    }
    s_curl_common (curl, config, errbuf);
    curl_easy_setopt (curl, CURLOPT_URL, config->sms_url);
    curl_easy_setopt (curl, CURLOPT_HTTPHEADER, headers);
    curl_easy_setopt (curl, CURLOPT_POSTFIELDS, text);
    curl_easy_setopt (curl, CURLOPT_WRITEFUNCTION, s_discard);
    CURLcode rc = curl_easy_perform (curl);
    long response = 0;
    curl_easy_getinfo (curl, CURLINFO_RESPONSE_CODE, &response);
    char *error = NULL;
    if (rc != CURLE_OK)
        error = s_error (rc, errbuf, response);
    else
    if (response < 200 || response > 299)
        error = zsys_sprintf ("SMS-gateway antwoordde %ld", response);
    curl_slist_free_all (headers);
    if (authorization) {
        sodium_memzero (authorization, strlen (authorization));
        free (authorization);
    }
    curl_easy_cleanup (curl);
    free (text);
    return error;
}

static void
s_sender_actor (zsock_t *pipe, void *args)
{
    en_notify_config_t *config = (en_notify_config_t *) args;
    zsock_signal (pipe, 0);
    while (true) {
        zmsg_t *msg = zmsg_recv (pipe);
        if (!msg) {
            if (zsys_interrupted)
                break;
            continue;
        }
        char *command = zmsg_popstr (msg);
        if (command && streq (command, "$TERM")) {
            zstr_free (&command);
            zmsg_destroy (&msg);
            break;
        }
        char *text = zmsg_popstr (msg);
        json_t *row = text ? json_loads (text, 0, NULL) : NULL;
        if (row && command && streq (command, "SEND")) {
            char *error = zsys_interrupted ? strdup ("node stopt")
                        : streq (en_json_str (row, "channel") ?: "", "sms") ? s_send_sms (config, row)
                                                                             : s_send_mail (config, row);
            char id [32];
            snprintf (id, sizeof id, "%lld", (long long) en_json_int (row, "id", 0));
            zstr_sendx (pipe, "DONE", id, error ? error : "", NULL);
            free (error);
        }
        json_decref (row);
        zstr_free (&text);
        zstr_free (&command);
        zmsg_destroy (&msg);
    }
    en_notify_config_destroy (&config);
}

struct _en_notify_sender_t {
    zactor_t *actor;            //  the thread that talks to relays
};

en_notify_sender_t *
en_notify_sender_new (const en_notify_config_t *config)
{
    if (curl_global_init (CURL_GLOBAL_DEFAULT) != CURLE_OK)
        return NULL;
    en_notify_sender_t *self = (en_notify_sender_t *) zmalloc (sizeof (en_notify_sender_t));
    assert (self);
    self->actor = zactor_new (s_sender_actor, s_config_dup (config));
    return self;
}

void
en_notify_sender_destroy (en_notify_sender_t **self_p)
{
    assert (self_p);
    en_notify_sender_t *self = *self_p;
    if (self) {
        zactor_destroy (&self->actor);
        curl_global_cleanup ();
        free (self);
        *self_p = NULL;
    }
}

zsock_t *
en_notify_sender_sock (en_notify_sender_t *self)
{
    return zactor_sock (self->actor);
}

int
en_notify_sender_send (en_notify_sender_t *self, json_t *row)
{
    char *text = json_dumps (row, JSON_COMPACT);
    int rc = text ? zstr_sendx (self->actor, "SEND", text, NULL) : -1;
    free (text);
    return rc;
}

int
en_notify_sender_recv (en_notify_sender_t *self, int64_t *id, char **error)
{
    char *command = NULL, *id_text = NULL, *error_text = NULL;
    if (zstr_recvx (self->actor, &command, &id_text, &error_text, NULL) < 3 || !streq (command, "DONE")) {
        zstr_free (&command);
        zstr_free (&id_text);
        zstr_free (&error_text);
        return -1;
    }
    *id = atoll (id_text);
    *error = *error_text ? error_text : NULL;
    if (!*error)
        zstr_free (&error_text);
    zstr_free (&command);
    zstr_free (&id_text);
    return 0;
}
