/*  en_metrics - counters and histograms of the broker loop (see
    en_metrics.h).

    Counters are kept per family in a hash from label value to count; the
    label values come from bounded sets the broker controls (protocol
    commands, error codes, event names), so no family can grow without
    limit. Histograms have fixed buckets chosen for what they measure:
    routing takes milliseconds when an expert is free, while offer answers
    take minutes to days, so the answer histogram reaches three days (the
    default deadline of a regulier request).
*/
#include "en_metrics.h"
#include <math.h>

typedef struct {
    const char *name;           //  metric name
    const char *help;           //  HELP text
    const char *label;          //  label name, or NULL
} s_family_t;

static const s_family_t s_families [EN_METRIC_COUNTERS] = {
    { "expertnet_messages_received_total", "Messages received from nodes, by protocol command.", "command" },
    { "expertnet_messages_sent_total", "Messages sent to nodes, retransmissions included, by protocol command.", "command" },
    { "expertnet_messages_refused_total", "Messages answered with ERROR, by error code.", "code" },
    { "expertnet_routing_decisions_total",
      "Routing decisions: offer to an expert, escalation to a procesregisseur, hiaat.", "decision" },
    { "expertnet_offer_outcomes_total", "Offers that ended, by outcome.", "outcome" },
    { "expertnet_connections_refused_total", "Connections refused by CURVE authentication or a failed handshake.", NULL },
    { "expertnet_operator_actions_total", "Operator actions on requests from the dashboard or the control socket.", "action" },
    { "expertnet_federation_adverts_clamped_total",
      "ADVERTs from a peer broker that claimed more free places than the bounds allow (cut to them), by peer.", "peer" },
    { "expertnet_federation_forwards_returned_total",
      "Requests a peer broker gave back or refused although it advertised a free place for them, by peer.", "peer" },
};

#define MAX_BUCKETS 16

typedef struct {
    const char *name;           //  metric name
    const char *help;           //  HELP text
    double bounds [MAX_BUCKETS];        //  upper bounds in seconds, ascending; 0 ends
} s_hist_def_t;

static const s_hist_def_t s_hist_defs [EN_HIST_COUNT] = {
    { "expertnet_time_to_first_offer_seconds",
      "Time from a request's submission to its first offer or escalation.",
      { 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 1, 10, 60, 600, 3600, 0 } },
    { "expertnet_offer_answer_seconds",
      "Time from an offer to the expert's accept or decline.",
      { 1, 10, 60, 300, 900, 3600, 4 * 3600, 24 * 3600, 3 * 86400, 0 } },
    { "expertnet_batch_seconds",
      "Processing of one group-commit batch of node messages, first receive to commit.",
      { 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 1, 0 } },
};

typedef struct {
    uint64_t counts [MAX_BUCKETS + 1];  //  per bucket (not cumulative); last is +Inf
    double sum;                 //  sum of observations, seconds
    uint64_t count;             //  observations
} s_hist_t;

struct _en_metrics_t {
    zhashx_t *counters [EN_METRIC_COUNTERS];    //  label value -> uint64_t *
    s_hist_t hist [EN_HIST_COUNT];              //  latency histograms
};

en_metrics_t *
en_metrics_new (void)
{
    en_metrics_t *self = (en_metrics_t *) zmalloc (sizeof (en_metrics_t));
    assert (self);
    for (int i = 0; i < EN_METRIC_COUNTERS; i++) {
        self->counters [i] = zhashx_new ();
        zhashx_set_destructor (self->counters [i], (zhashx_destructor_fn *) zstr_free);
    }
    return self;
}

void
en_metrics_destroy (en_metrics_t **self_p)
{
    assert (self_p);
    en_metrics_t *self = *self_p;
    if (self) {
        for (int i = 0; i < EN_METRIC_COUNTERS; i++)
            zhashx_destroy (&self->counters [i]);
        free (self);
        *self_p = NULL;
    }
}

void
en_metrics_count (en_metrics_t *self, en_metric_t family, const char *label, uint64_t n)
{
    if (!self)
        return;
    assert (family < EN_METRIC_COUNTERS);
    const char *key = label ? label : "";
    uint64_t *value = (uint64_t *) zhashx_lookup (self->counters [family], key);
    if (!value) {
        //  Bounded label sets; this guards against a caller's mistake
        if (zhashx_size (self->counters [family]) >= 200)
            return;
        value = (uint64_t *) zmalloc (sizeof (uint64_t));
        zhashx_insert (self->counters [family], key, value);
    }
    *value += n;
}

uint64_t
en_metrics_value (en_metrics_t *self, en_metric_t family, const char *label)
{
    uint64_t *value = (uint64_t *) zhashx_lookup (self->counters [family], label ? label : "");
    return value ? *value : 0;
}

void
en_metrics_observe_ms (en_metrics_t *self, en_hist_t histogram, int64_t ms)
{
    if (!self)
        return;
    assert (histogram < EN_HIST_COUNT);
    double seconds = ms < 0 ? 0 : ms / 1000.0;
    s_hist_t *hist = &self->hist [histogram];
    const double *bounds = s_hist_defs [histogram].bounds;
    int index = 0;
    while (index < MAX_BUCKETS && bounds [index] > 0 && seconds > bounds [index])
        index++;
    if (index < MAX_BUCKETS && bounds [index] == 0)
        index = MAX_BUCKETS;            //  beyond the last bound: +Inf
    hist->counts [index]++;
    hist->sum += seconds;
    hist->count++;
}

json_t *
en_metrics_gauge (json_t *families, const char *name, const char *help)
{
    json_t *family = json_pack ("{s:s, s:s, s:s, s:[]}", "name", name, "type", "gauge",
                                "help", help, "samples");
    json_array_append_new (families, family);
    return family;
}

void
en_metrics_sample (json_t *family, const char *label_name, const char *label_value, double value)
{
    json_t *labels = json_object ();
    if (label_name)
        json_object_set_new (labels, label_name, json_string (label_value ? label_value : ""));
    json_array_append_new (json_object_get (family, "samples"),
                           json_pack ("{s:o, s:f}", "labels", labels, "value", value));
}

json_t *
en_metrics_json (en_metrics_t *self)
{
    json_t *families = json_array ();
    for (int i = 0; i < EN_METRIC_COUNTERS; i++) {
        json_t *family = json_pack ("{s:s, s:s, s:s, s:[]}", "name", s_families [i].name,
                                    "type", "counter", "help", s_families [i].help, "samples");
        //  Sorted, so the output is stable between scrapes
        zlistx_t *keys = zhashx_keys (self->counters [i]);
        zlistx_set_comparator (keys, (zlistx_comparator_fn *) strcmp);
        zlistx_sort (keys);
        for (const char *key = (const char *) zlistx_first (keys); key;
             key = (const char *) zlistx_next (keys))
            en_metrics_sample (family, s_families [i].label, key,
                               (double) *(uint64_t *) zhashx_lookup (self->counters [i], key));
        zlistx_destroy (&keys);
        //  A family without a label always has its one sample
        if (!s_families [i].label && json_array_size (json_object_get (family, "samples")) == 0)
            en_metrics_sample (family, NULL, NULL, 0);
        json_array_append_new (families, family);
    }
    for (int i = 0; i < EN_HIST_COUNT; i++) {
        const s_hist_t *hist = &self->hist [i];
        json_t *buckets = json_array ();
        json_t *counts = json_array ();
        uint64_t cumulative = 0;
        for (int b = 0; b < MAX_BUCKETS && s_hist_defs [i].bounds [b] > 0; b++) {
            cumulative += hist->counts [b];
            json_array_append_new (buckets, json_real (s_hist_defs [i].bounds [b]));
            json_array_append_new (counts, json_integer ((json_int_t) cumulative));
        }
        json_array_append_new (families, json_pack ("{s:s, s:s, s:s, s:o, s:o, s:f, s:I}",
            "name", s_hist_defs [i].name, "type", "histogram", "help", s_hist_defs [i].help,
            "buckets", buckets, "counts", counts, "sum", hist->sum,
            "count", (json_int_t) hist->count));
    }
    return families;
}

//  Text format escaping: HELP escapes \ and newline; label values also ".
static void
s_escape (FILE *out, const char *text, bool quote)
{
    for (; text && *text; text++) {
        if (*text == '\\')
            fputs ("\\\\", out);
        else
        if (*text == '\n')
            fputs ("\\n", out);
        else
        if (*text == '"' && quote)
            fputs ("\\\"", out);
        else
            fputc (*text, out);
    }
}

static void
s_value (FILE *out, double value)
{
    if (isnan (value))
        fputs ("NaN", out);
    else
    if (value == floor (value) && fabs (value) < 1e15)
        fprintf (out, "%.0f", value);
    else
        fprintf (out, "%.15g", value);
}

static void
s_labels (FILE *out, json_t *labels, const char *extra_name, const char *extra_value)
{
    if (json_object_size (labels) == 0 && !extra_name)
        return;
    fputc ('{', out);
    const char *key;
    json_t *value;
    bool first = true;
    json_object_foreach (labels, key, value) {
        fprintf (out, "%s%s=\"", first ? "" : ",", key);
        s_escape (out, json_string_value (value), true);
        fputc ('"', out);
        first = false;
    }
    if (extra_name)
        fprintf (out, "%s%s=\"%s\"", first ? "" : ",", extra_name, extra_value);
    fputc ('}', out);
}

char *
en_metrics_text (json_t *families)
{
    char *text = NULL;
    size_t size = 0;
    FILE *out = open_memstream (&text, &size);
    assert (out);
    size_t index;
    json_t *family;
    json_array_foreach (families, index, family) {
        const char *name = en_json_str (family, "name");
        const char *type = en_json_str (family, "type");
        if (!name || !type)
            continue;
        fprintf (out, "# HELP %s ", name);
        s_escape (out, en_json_str (family, "help"), false);
        fprintf (out, "\n# TYPE %s %s\n", name, type);
        if (streq (type, "histogram")) {
            json_t *buckets = json_object_get (family, "buckets");
            json_t *counts = json_object_get (family, "counts");
            for (size_t b = 0; b < json_array_size (buckets); b++) {
                char le [32];
                snprintf (le, sizeof le, "%.9g", json_number_value (json_array_get (buckets, b)));
                fprintf (out, "%s_bucket", name);
                s_labels (out, NULL, "le", le);
                fputc (' ', out);
                s_value (out, json_number_value (json_array_get (counts, b)));
                fputc ('\n', out);
            }
            fprintf (out, "%s_bucket{le=\"+Inf\"} %lld\n", name,
                     (long long) en_json_int (family, "count", 0));
            fprintf (out, "%s_sum ", name);
            s_value (out, json_number_value (json_object_get (family, "sum")));
            fprintf (out, "\n%s_count %lld\n", name, (long long) en_json_int (family, "count", 0));
        }
        else {
            size_t s;
            json_t *sample;
            json_array_foreach (json_object_get (family, "samples"), s, sample) {
                fputs (name, out);
                s_labels (out, json_object_get (sample, "labels"), NULL, NULL);
                fputc (' ', out);
                s_value (out, json_number_value (json_object_get (sample, "value")));
                fputc ('\n', out);
            }
        }
    }
    fclose (out);
    return text;
}
