/*  en_charts - the dashboard's charts as inline SVG, drawn by the broker
    itself from the "charts" control verb's data (no script, no external
    library, nothing fetched from elsewhere):

      first-offer   time from submission to the first offer: how many
                    requests fell in each time band, with median and p90
      accept        time from submission to acceptance, the same way
      weeks         requests per ISO week by urgency, stacked, last 12 weeks

    Labels are Dutch. Colours are SVG attributes (not inline styles), so
    the page's Content-Security-Policy needs no 'unsafe-inline'. */
#ifndef EN_CHARTS_H_INCLUDED
#define EN_CHARTS_H_INCLUDED

#include "expertnet.h"
#include <stdio.h>

//  Write chart `which` ("first-offer", "accept", "weeks") as an <svg>
//  element to out. charts is the control verb's result: {now, days,
//  times: [{urgency, created, first_offer_ms, accepted_ms}], weeks:
//  [{week, urgency, requests}]}. Returns 0, or -1 for an unknown chart.
int en_charts_svg (FILE *out, json_t *charts, const char *which);

//  A duration in Dutch for people: "0,4 s", "12 s", "3 min", "2 u 5 min",
//  "1 d 4 u". buf must hold 32 bytes. Returns buf.
const char *en_charts_duration (int64_t ms, char *buf, size_t size);

//  The ISO week label ("week 23") of a local date "YYYY-MM-DD"; "?" if
//  it does not parse. buf >= 16 bytes.
const char *en_charts_week_label (const char *date, char *buf, size_t size);

#endif
