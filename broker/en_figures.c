/*  en_figures - what the broker's operators see, computed when asked.

    Status (`expertnet broker status`), the dashboard's overview, the
    Prometheus metrics and the report's input are read from the store,
    the federation links, the enrolled keys and the server loop's live
    sessions (en_ops_live_fn: the loop owns its connections and hands
    out only what these figures show). Nothing here writes: the figures
    are answers, built anew for each question.

    Two threads build them. The broker's loop answers its control verbs
    (status, overview, metrics). The dashboard's thread builds the
    overview and /metrics itself (en_figures_overview_read,
    en_figures_metrics_read) from its own read-only connection to the
    store and what only the loop knows (en_figures_live: sessions,
    enrolment, links, this run's counters, asked over the dashboard
    socket: no request is read for it). So a figure that reads the
    store never holds up routing, and the same code makes both answers:
    the dashboard's pages and JSON are those the loop would give.
    Counts come from counters the store keeps as requests change
    (en_bstore_counts), never from counting the requests.
*/
#include "en_figures.h"
#include "en_followup.h"
#include <sys/stat.h>

//  The live sessions and counters, from the server loop. Never NULL.
static json_t *
s_live (const en_ops_context_t *context)
{
    json_t *live = context->live ? context->live (context->arg) : NULL;
    return live ? live : json_pack ("{s:{}}", "sessions");
}

//  Who may connect, and the region each node is bound to
static json_t *
s_enrolled_list (const en_ops_context_t *context)
{
    json_t *list = en_enrolled_list (context->enrolled);
    json_t *shown = json_array ();
    size_t index;
    json_t *enrolled;
    json_array_foreach (list, index, enrolled) {
        bool is_peer = en_fed_is_peer (context->fed, en_json_str (enrolled, "name"));
        json_array_append_new (shown, json_pack ("{s:s, s:s?, s:s, s:b}",
            "name", en_json_str (enrolled, "name"), "region", is_peer ? NULL : en_json_str (enrolled, "region"),
            "key", en_json_str (enrolled, "key"), "peer_broker", is_peer));
    }
    json_decref (list);
    return shown;
}

json_t *
en_figures_status (const en_ops_context_t *context)
{
    json_t *live = s_live (context);
    json_t *nodes = json_array ();
    const char *name;
    json_t *session;
    json_object_foreach (json_object_get (live, "sessions"), name, session)
        if (!en_fed_is_peer (context->fed, name))
            json_array_append_new (nodes, json_pack ("{s:s, s:s?, s:b, s:b, s:I, s:I, s:O}",
            "name", name, "region", en_json_str (session, "region"),
            "connected", json_is_true (json_object_get (session, "connected")),
            "enrolled", en_enrolled_has_name (context->enrolled, name),
            "last_seen", (json_int_t) en_json_int (session, "last_seen", 0),
            "outbox", (json_int_t) en_outbox_depth (en_bstore_outbox (context->store), name),
            "clock", json_object_get (session, "clock")));
    json_t *status = en_bstore_counts (context->store);
    json_object_set_new (status, "enrolled", s_enrolled_list (context));
    json_object_set_new (status, "broker", json_string (context->name));
    json_object_set_new (status, "store", json_string (context->store_id));
    json_object_set_new (status, "endpoint", json_string (context->endpoint));
    json_object_set_new (status, "version", json_string (EXPERTNET_VERSION));
    json_object_set_new (status, "started", json_integer (context->started));
    json_object_set_new (status, "nodes", nodes);
    json_object_set_new (status, "links", en_fed_status (context->fed));
    json_object_set_new (status, "messages_received", json_integer (en_json_int (live, "received", 0)));
    json_object_set_new (status, "messages_refused", json_integer (en_json_int (live, "rejected", 0)));
    json_object_set_new (status, "connections_refused", json_integer (en_json_int (live, "refused", 0)));
    json_object_set_new (status, "pii_guard", en_router_pii_counts (context->router));
    json_decref (live);
    return status;
}

//  Nodes known to the store, with liveness from this run's connections
//  and enrolment (live: en_figures_live).
static json_t *
s_nodes (en_bstore_t *store, json_t *live, int64_t *connected)
{
    json_t *sessions = json_object_get (live, "sessions");
    json_t *enrolled = json_object_get (live, "enrolled");
    json_t *nodes = en_bstore_nodes (store);
    size_t index;
    json_t *node;
    *connected = 0;
    json_array_foreach (nodes, index, node) {
        const char *name = en_json_str (node, "name");
        json_t *session = name ? json_object_get (sessions, name) : NULL;
        bool up = json_is_true (json_object_get (session, "connected"));
        *connected += up;
        json_object_set_new (node, "connected", json_boolean (up));
        json_object_set_new (node, "enrolled", json_boolean (name && json_object_get (enrolled, name)));
        json_object_set_new (node, "outbox", json_integer (en_outbox_depth (en_bstore_outbox (store), name)));
        if (en_json_int (session, "last_seen", 0))
            json_object_set_new (node, "last_seen", json_integer (en_json_int (session, "last_seen", 0)));
        if (json_is_integer (json_object_get (session, "clock_offset_ms")))
            json_object_set (node, "clock_offset_ms", json_object_get (session, "clock_offset_ms"));
    }
    return nodes;
}

//  Count one expert under key in table (by role or by tag).
static void
s_count_expert (json_t *table, const char *key, bool free_now)
{
    json_t *entry = json_object_get (table, key);
    if (!entry) {
        entry = json_pack ("{s:i, s:i}", "total", 0, "available", 0);
        json_object_set_new (table, key, entry);
    }
    json_object_set_new (entry, "total", json_integer (en_json_int (entry, "total", 0) + 1));
    json_object_set_new (entry, "available", json_integer (en_json_int (entry, "available", 0) + free_now));
}

//  Experts available now (present, with a free place) and in total, by
//  role and by expertise tag.
static json_t *
s_experts_available (json_t *experts, int64_t now)
{
    json_t *by_role = json_object ();
    json_t *by_tag = json_object ();
    int64_t total = 0, available = 0;
    size_t index, k;
    json_t *expert, *tag;
    json_array_foreach (experts, index, expert) {
        bool free_now = en_json_int (expert, "absent_until", 0) <= now
            && en_json_int (expert, "load", 0) + en_json_int (expert, "reserved", 0)
               < en_json_int (expert, "capacity", 0);
        total++;
        available += free_now;
        const char *role = en_json_str (expert, "role");
        if (role)
            s_count_expert (by_role, role, free_now);
        json_array_foreach (json_object_get (expert, "expertise"), k, tag)
            if (json_string_value (tag))
                s_count_expert (by_tag, json_string_value (tag), free_now);
    }
    return json_pack ("{s:I, s:I, s:o, s:o}", "total", (json_int_t) total,
                      "available", (json_int_t) available, "by_role", by_role, "by_tag", by_tag);
}

json_t *
en_figures_live (const en_ops_context_t *context, bool with_metrics)
{
    json_t *live = s_live (context);
    json_t *enrolled = json_object ();
    json_t *list = en_enrolled_list (context->enrolled);
    size_t index;
    json_t *entry;
    json_array_foreach (list, index, entry)
        if (en_json_str (entry, "name"))
            json_object_set_new (enrolled, en_json_str (entry, "name"), json_true ());
    json_decref (list);
    json_object_set_new (live, "enrolled", enrolled);
    json_object_set_new (live, "broker", json_string (context->name));
    json_object_set_new (live, "started", json_integer (context->started));
    json_object_set_new (live, "datadir", json_string (context->datadir));
    json_object_set_new (live, "federation", en_fed_status (context->fed));
    if (with_metrics)
        json_object_set_new (live, "metrics", en_metrics_json (context->metrics));
    return live;
}

//  The requests an operator must look at (most urgent, then oldest)
static json_t *
s_requests_open (en_bstore_t *store, int64_t now)
{
    json_t *requests = en_bstore_requests_open (store, 200);
    size_t index;
    json_t *request;
    json_array_foreach (requests, index, request) {
        json_t *summary = json_object_get (request, "summary");
        json_object_set (request, "expertise", json_object_get (summary, "expertise"));
        json_object_del (request, "summary");
        json_object_set_new (request, "age_ms", json_integer (now - en_json_int (request, "created", now)));
    }
    return requests;
}

json_t *
en_figures_overview_read (en_bstore_t *store, json_t *live)
{
    int64_t now = en_now_ms ();
    int64_t connected = 0;
    json_t *overview = en_bstore_counts (store);
    json_t *nodes = s_nodes (store, live, &connected);
    json_object_set_new (overview, "now", json_integer (now));
    json_object_set (overview, "broker", json_object_get (live, "broker"));
    json_object_set_new (overview, "version", json_string (EXPERTNET_VERSION));
    json_object_set (overview, "started", json_object_get (live, "started"));
    json_object_set_new (overview, "nodes_connected", json_integer (connected));
    json_object_set_new (overview, "nodes", nodes);
    json_object_set_new (overview, "requests_open", s_requests_open (store, now));

    json_t *offers = en_bstore_offers_pending (store);
    size_t index;
    json_t *offer;
    json_array_foreach (offers, index, offer)
        json_object_set_new (offer, "left_ms", json_integer (en_json_int (offer, "deadline", now) - now));
    json_object_set_new (overview, "offers", offers);
    json_object_set_new (overview, "hiaten_list", en_bstore_hiaten_recent (store, 20));
    //  Follow-up: review dates passed of requests not closed (by index)
    json_object_set_new (overview, "reviews_overdue", en_followup_overdue (store, now, 50));
    json_t *experts = en_bstore_experts (store);
    json_object_set_new (overview, "experts", s_experts_available (experts, now));
    json_decref (experts);
    //  Links to the brokers of other provinces (en_fed)
    json_object_set (overview, "federation", json_object_get (live, "federation"));
    return overview;
}

//  A figure read on the loop's own store, with what the loop knows now
static json_t *
s_on_loop (const en_ops_context_t *context, bool with_metrics,
           json_t *(*read) (en_bstore_t *store, json_t *live))
{
    json_t *live = en_figures_live (context, with_metrics);
    json_t *figure = read (context->store, live);
    json_decref (live);
    return figure;
}

json_t *
en_figures_overview (const en_ops_context_t *context)
{
    return s_on_loop (context, false, en_figures_overview_read);
}

//  Gauges of what the store holds: requests, offers, hiaten, experts.
static void
s_store_gauges (en_bstore_t *store, json_t *families)
{
    json_t *counts = en_bstore_counts (store);
    const char *key;
    json_t *value;
    json_t *gauge = en_metrics_gauge (families, "expertnet_requests",
                                      "Requests in the store, by state.");
    json_object_foreach (json_object_get (counts, "requests_by_state"), key, value)
        en_metrics_sample (gauge, "state", key, (double) json_integer_value (value));
    gauge = en_metrics_gauge (families, "expertnet_requests_open",
                              "Requests not closed and not a hiaat, by urgency.");
    for (int i = 0; en_vocab_urgency [i]; i++)
        en_metrics_sample (gauge, "urgency", en_vocab_urgency [i], (double) en_json_int (
            json_object_get (counts, "open_by_urgency"), en_vocab_urgency [i], 0));
    gauge = en_metrics_gauge (families, "expertnet_offers_open", "Offers waiting for an answer.");
    en_metrics_sample (gauge, NULL, NULL, (double) en_json_int (counts, "offers_open", 0));
    gauge = en_metrics_gauge (families, "expertnet_hiaten", "Requests recorded as a hiaat (nobody could take them).");
    en_metrics_sample (gauge, NULL, NULL, (double) en_json_int (counts, "hiaten", 0));
    gauge = en_metrics_gauge (families, "expertnet_experts_active", "Experts published by the nodes, by role.");
    json_object_foreach (json_object_get (counts, "experts_by_role"), key, value)
        en_metrics_sample (gauge, "role", key, (double) json_integer_value (value));
    json_decref (counts);
}

//  Gauges of the nodes: connected, known, queues, clock offsets (the
//  offsets family is returned for the links to add their peers to).
static json_t *
s_node_gauges (en_bstore_t *store, json_t *live, json_t *families)
{
    int64_t connected = 0;
    json_t *nodes = s_nodes (store, live, &connected);
    json_t *gauge = en_metrics_gauge (families, "expertnet_nodes_connected", "Nodes heard from within three heartbeats.");
    en_metrics_sample (gauge, NULL, NULL, (double) connected);
    gauge = en_metrics_gauge (families, "expertnet_nodes_known", "Nodes that ever said HELLO to this broker.");
    en_metrics_sample (gauge, NULL, NULL, (double) json_array_size (nodes));
    gauge = en_metrics_gauge (families, "expertnet_outbox_depth",
                              "Messages queued for a node and not yet acknowledged, by node.");
    size_t index;
    json_t *node;
    json_array_foreach (nodes, index, node)
        en_metrics_sample (gauge, "node", en_json_str (node, "name"), (double) en_json_int (node, "outbox", 0));
    json_t *offsets = en_metrics_gauge (families, "expertnet_clock_offset_seconds",
                                        "Measured clock offset of a node or peer broker (its clock minus ours), by peer.");
    json_array_foreach (nodes, index, node)
        if (json_is_integer (json_object_get (node, "clock_offset_ms")))
            en_metrics_sample (offsets, "peer", en_json_str (node, "name"), en_json_int (node, "clock_offset_ms", 0) / 1000.0);
    json_decref (nodes);
    return offsets;
}

//  Federation links: up (and delivering), queue, round trip
static void
s_link_gauges (json_t *live, json_t *families, json_t *offsets)
{
    json_t *links = json_object_get (live, "federation");
    json_t *up = en_metrics_gauge (families, "expertnet_federation_link_up",
                                   "1 when the link to a peer broker is up and not blocked, by peer.");
    json_t *queue = en_metrics_gauge (families, "expertnet_federation_queue_depth",
                                      "Messages queued on disk for a peer broker, by peer.");
    json_t *rtt = en_metrics_gauge (families, "expertnet_federation_rtt_seconds",
                                    "Last PING round trip to a peer broker, by peer.");
    size_t index;
    json_t *link;
    json_array_foreach (links, index, link) {
        const char *peer = en_json_str (link, "peer");
        en_metrics_sample (up, "peer", peer, streq (en_json_str (link, "state"), "up") ? 1 : 0);
        en_metrics_sample (queue, "peer", peer, (double) en_json_int (link, "queue", 0));
        if (json_is_integer (json_object_get (link, "rtt_ms")))
            en_metrics_sample (rtt, "peer", peer, en_json_int (link, "rtt_ms", 0) / 1000.0);
        json_t *clock = json_object_get (link, "clock");
        if (json_is_object (clock))
            en_metrics_sample (offsets, "peer", peer, en_json_int (clock, "offset_ms", 0) / 1000.0);
    }
}

json_t *
en_figures_metrics_read (en_bstore_t *store, json_t *live)
{
    json_t *families = json_object_get (live, "metrics");
    families = json_is_array (families) ? json_incref (families) : json_array ();
    s_store_gauges (store, families);
    json_t *offsets = s_node_gauges (store, live, families);
    s_link_gauges (live, families, offsets);

    //  Store size: the database and its write-ahead log
    double bytes = 0;
    const char *suffixes [] = { "", "-wal", NULL };
    for (int i = 0; suffixes [i]; i++) {
        char path [PATH_MAX];
        struct stat info;
        snprintf (path, sizeof path, "%s/broker.db%s", en_json_str (live, "datadir") ?: ".", suffixes [i]);
        if (stat (path, &info) == 0)
            bytes += (double) info.st_size;
    }
    json_t *gauge = en_metrics_gauge (families, "expertnet_store_bytes", "Size of the broker's database and its write-ahead log.");
    en_metrics_sample (gauge, NULL, NULL, bytes);
    gauge = en_metrics_gauge (families, "expertnet_start_time_seconds", "When this broker process started (Unix time).");
    en_metrics_sample (gauge, NULL, NULL, en_json_int (live, "started", 0) / 1000.0);
    return families;
}

json_t *
en_figures_metrics (const en_ops_context_t *context)
{
    return s_on_loop (context, true, en_figures_metrics_read);
}

json_t *
en_figures_charts (en_bstore_t *store, json_t *args)
{
    int64_t days = en_json_int (args, "days", 90);
    days = MAX (1, MIN (days, 3660));
    int64_t since = en_now_ms () - days * 86400 * 1000;
    return json_pack ("{s:I, s:I, s:o, s:o}", "now", (json_int_t) en_now_ms (), "days", (json_int_t) days,
                      "times", en_bstore_chart_times (store, since),
                      "weeks", en_bstore_chart_weeks (store, since));
}

json_t *
en_figures_report_input (const en_ops_context_t *context)
{
    json_t *cases = en_bstore_report_cases (context->store);
    json_t *input = json_array ();
    size_t index;
    json_t *row;
    json_array_foreach (cases, index, row) {
        json_t *phases = json_object_get (row, "phases");
        json_t *summary = json_object_get (row, "summary");
        json_t *item = json_is_object (summary) ? json_deep_copy (summary) : json_object ();
        json_object_set (item, "region", json_object_get (row, "region"));
        json_object_set (item, "urgency", json_object_get (row, "urgency"));
        json_object_set (item, "question_type", json_object_get (row, "question_type"));
        json_object_set (item, "expertise", json_object_get (row, "expertise"));
        json_object_set (item, "registered", json_object_get (phases, "aanmelding"));
        json_object_set (item, "first_assignment", json_object_get (row, "first_assignment"));
        json_object_set (item, "closed", json_object_get (phases, "afgesloten"));
        json_object_set (item, "first_review", json_object_get (row, "first_review"));
        json_object_set_new (item, "hiaat", json_boolean (en_json_int (row, "hiaat", 0)));
        //  Teams: places (role, tags, filled, hiaat), when the request
        //  was submitted and its team full, a moreel beraad held
        json_t *team = json_object_get (row, "team");
        json_t *places = json_object_get (team, "places");
        json_object_del (item, "places");       //  a request's summary names them too, without states
        if (json_is_array (places) && json_array_size (places))
            json_object_set (item, "places", places);
        json_object_set (item, "submitted", json_object_get (team, "submitted"));
        json_object_set (item, "team_full", json_object_get (team, "team_full"));
        json_object_set_new (item, "beraad_held", json_boolean (en_json_int (row, "beraad_held", 0)));
        json_object_set (item, "outcome", json_object_get (row, "outcome"));
        json_array_append_new (input, item);
    }
    json_decref (cases);
    return input;
}
