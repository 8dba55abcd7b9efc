/*  en_figures - the figures the broker's operators see: status, the
    dashboard's overview, the Prometheus metrics and the report's input.
    Read-only: each call reads the store and the live sessions and
    returns a new JSON value (owned by the caller). */
#ifndef EN_FIGURES_H_INCLUDED
#define EN_FIGURES_H_INCLUDED

#include "en_ops.h"

//  Operator status: nodes with liveness and queue depth, and counts.
json_t *en_figures_status (const en_ops_context_t *context);

//  Everything the dashboard's overview shows, in one answer.
json_t *en_figures_overview (const en_ops_context_t *context);

//  Counters and histograms of this run, and gauges read now.
json_t *en_figures_metrics (const en_ops_context_t *context);

//  What only the broker's loop knows, for the two below: the live
//  sessions and counters (en_ops_live_fn), {broker, started, datadir},
//  enrolled {NAME: true}, federation (en_fed_status) and, with_metrics,
//  metrics (this run's families, en_metrics_json). Reads no request.
json_t *en_figures_live (const en_ops_context_t *context, bool with_metrics);

//  The overview and the metrics as above, read from store (the loop's
//  or a read-only connection of another thread) with live from
//  en_figures_live (its metrics taken over by en_figures_metrics_read).
json_t *en_figures_overview_read (en_bstore_t *store, json_t *live);
json_t *en_figures_metrics_read (en_bstore_t *store, json_t *live);

//  The charts' data (args: days, default 90, 1..3660): the times to a
//  first offer and to acceptance of each request in the window, and the
//  requests per week and urgency. From the store only.
json_t *en_figures_charts (en_bstore_t *store, json_t *args);

//  The cases of the store as en_report_build takes them (one item per
//  request: its summary with region, urgency, phases and outcome).
json_t *en_figures_report_input (const en_ops_context_t *context);

#endif
