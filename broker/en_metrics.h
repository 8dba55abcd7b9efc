/*  en_metrics - the broker's counters and latency histograms, and their
    rendering in the Prometheus text format.

    The broker loop owns one en_metrics_t and counts into it (messages in
    and out by command, routing decisions, offer outcomes, refused
    messages and connections, operator actions) and observes latencies
    into fixed-bucket histograms (submit to first offer, offer to answer,
    batch processing). Values live in memory since the broker started, as
    Prometheus expects of counters. en_metrics_json exports them as a
    list of metric families, to which the broker appends its gauges (read
    from the store when asked); en_metrics_text turns such a list into
    the text exposition format, so the web thread can render it without
    touching the broker's state. */
#ifndef EN_METRICS_H_INCLUDED
#define EN_METRICS_H_INCLUDED

#include "expertnet.h"

typedef struct _en_metrics_t en_metrics_t;

//  Counter families (each with at most one label, see en_metrics.c)
typedef enum {
    EN_METRIC_RECEIVED,         //  messages received, by command
    EN_METRIC_SENT,             //  messages sent (retransmissions too), by command
    EN_METRIC_REFUSED,          //  messages answered with ERROR, by code
    EN_METRIC_ROUTING,          //  routing decisions: offer, escalation, hiaat
    EN_METRIC_OFFER_OUTCOME,    //  accepted, declined, expired, withdrawn
    EN_METRIC_CONN_REFUSED,     //  connections refused (no label)
    EN_METRIC_OPERATOR,         //  operator actions: reoffer, escalate, close
    EN_METRIC_FED_CLAMPED,      //  ADVERTs cut to the bounds, by peer
    EN_METRIC_FED_RETURNED,     //  forwards a peer gave back or refused, by peer
    EN_METRIC_COUNTERS          //  (count of families)
} en_metric_t;

//  Histograms of latencies, in seconds
typedef enum {
    EN_HIST_FIRST_OFFER,        //  request submitted -> first offer or escalation
    EN_HIST_OFFER_ANSWER,       //  offer made -> accepted or declined
    EN_HIST_BATCH,              //  one group-commit batch, first receive to commit
    EN_HIST_COUNT
} en_hist_t;

en_metrics_t *en_metrics_new (void);
void en_metrics_destroy (en_metrics_t **self_p);

//  Add n to a counter; label is the value of the family's label (NULL for
//  a family without one). Safe to call with self NULL (does nothing).
void en_metrics_count (en_metrics_t *self, en_metric_t family, const char *label, uint64_t n);

//  Observe a latency in milliseconds. Safe with self NULL.
void en_metrics_observe_ms (en_metrics_t *self, en_hist_t histogram, int64_t ms);

//  The current value of a counter (0 if never counted), for tests.
uint64_t en_metrics_value (en_metrics_t *self, en_metric_t family, const char *label);

//  All families as a JSON array; caller owns. Each element is
//    {"name", "type": "counter"|"gauge", "help", "samples": [{"labels": {..}, "value": N}]}
//  or {"name", "type": "histogram", "help", "buckets": [le...],
//      "counts": [cumulative...], "sum": seconds, "count": N}.
json_t *en_metrics_json (en_metrics_t *self);

//  Append a gauge family to such an array and return it (borrowed), to
//  add samples to with en_metrics_sample.
json_t *en_metrics_gauge (json_t *families, const char *name, const char *help);

//  Add a sample to a family; label_name NULL for none.
void en_metrics_sample (json_t *family, const char *label_name, const char *label_value,
                        double value);

//  The Prometheus text exposition (format 0.0.4) of a families array.
//  Caller owns the string.
char *en_metrics_text (json_t *families);

#endif
