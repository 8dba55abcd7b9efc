/*  en_charts - SVG charts for the dashboard (see en_charts.h).

    Each chart is a fixed 480 x 280 viewBox that scales to its container.
    Times are shown as a distribution over bands (under a second, seconds,
    minutes, hours, days) rather than on a linear axis: at night a crisis
    request may wait an hour while most are offered within milliseconds,
    and both must stay visible. Text is escaped like all page text.
*/
#include "en_charts.h"
#include <math.h>
#include <time.h>

#define WIDTH       480
#define HEIGHT      280
#define PLOT_LEFT   40
#define PLOT_RIGHT  (WIDTH - 12)
#define PLOT_TOP    70
#define PLOT_BOTTOM (HEIGHT - 48)

//  Urgency colours, the same as the badges in style.css
static const char *s_urgency [] = { "crisis", "hoog", "regulier", NULL };
static const char *s_urgency_colour [] = { "#c0392b", "#e67e22", "#2e86c1" };


const char *
en_charts_duration (int64_t ms, char *buf, size_t size)
{
    if (ms < 0)
        ms = 0;
    if (ms < 1000)
        snprintf (buf, size, "%d ms", (int) ms);
    else
    if (ms < 60 * 1000)
        snprintf (buf, size, "%d s", (int) (ms / 1000));
    else
    if (ms < 3600 * 1000)
        snprintf (buf, size, "%d min", (int) (ms / 60000));
    else
    if (ms < 86400 * 1000LL) {
        int minutes = (int) ((ms / 60000) % 60);
        if (minutes)
            snprintf (buf, size, "%d u %d min", (int) (ms / 3600000), minutes);
        else
            snprintf (buf, size, "%d u", (int) (ms / 3600000));
    }
    else {
        int hours = (int) ((ms / 3600000) % 24);
        if (hours)
            snprintf (buf, size, "%d d %d u", (int) (ms / 86400000), hours);
        else
            snprintf (buf, size, "%d d", (int) (ms / 86400000));
    }
    return buf;
}

static time_t
s_parse_date (const char *date, struct tm *tm)
{
    memset (tm, 0, sizeof *tm);
    if (!date || sscanf (date, "%d-%d-%d", &tm->tm_year, &tm->tm_mon, &tm->tm_mday) != 3)
        return (time_t) -1;
    tm->tm_year -= 1900;
    tm->tm_mon -= 1;
    tm->tm_hour = 12;           //  midday: no daylight-saving edge
    tm->tm_isdst = -1;
    return mktime (tm);
}

const char *
en_charts_week_label (const char *date, char *buf, size_t size)
{
    struct tm tm;
    if (s_parse_date (date, &tm) == (time_t) -1) {
        snprintf (buf, size, "?");
        return buf;
    }
    char week [8];
    strftime (week, sizeof week, "%V", &tm);
    snprintf (buf, size, "week %d", atoi (week));
    return buf;
}

static void
s_open (FILE *out, const char *id, const char *title, const char *subtitle)
{
    fprintf (out, "<svg class=\"chart\" id=\"chart-%s\" viewBox=\"0 0 %d %d\" role=\"img\""
                  " aria-labelledby=\"chart-%s-title\" xmlns=\"http://www.w3.org/2000/svg\""
                  " font-family=\"system-ui, -apple-system, 'Segoe UI', Roboto, sans-serif\">",
             id, WIDTH, HEIGHT, id);
    fprintf (out, "<title id=\"chart-%s-title\">", id);
    en_html_escape (out, title);
    fputs ("</title>", out);
    fprintf (out, "<rect x=\"0\" y=\"0\" width=\"%d\" height=\"%d\" rx=\"6\" fill=\"#ffffff\"/>", WIDTH, HEIGHT);
    fputs ("<text x=\"12\" y=\"26\" font-size=\"18\" font-weight=\"600\" fill=\"#1f2d3d\">", out);
    en_html_escape (out, title);
    fputs ("</text><text x=\"12\" y=\"48\" font-size=\"13\" fill=\"#5a6b7b\">", out);
    en_html_escape (out, subtitle);
    fputs ("</text>", out);
}

//  Horizontal grid lines and y labels for a count axis up to max.
static double
s_axis (FILE *out, int64_t max)
{
    int64_t step = 1;
    while (max / step > 5)
        step = step == 1 ? 2 : step == 2 ? 5 : step * 2;
    int64_t top = ((max + step - 1) / step) * step;
    if (top == 0)
        top = step;
    double scale = (double) (PLOT_BOTTOM - PLOT_TOP) / (double) top;
    for (int64_t value = 0; value <= top; value += step) {
        double y = PLOT_BOTTOM - value * scale;
        fprintf (out, "<line x1=\"%d\" y1=\"%.1f\" x2=\"%d\" y2=\"%.1f\" stroke=\"#e3e8ee\"/>",
                 PLOT_LEFT, y, PLOT_RIGHT, y);
        fprintf (out, "<text x=\"%d\" y=\"%.1f\" font-size=\"13\" fill=\"#5a6b7b\" text-anchor=\"end\">%lld</text>",
                 PLOT_LEFT - 6, y + 4, (long long) value);
    }
    return scale;
}

//  Time bands of the distribution charts
static const int64_t s_band_ms [] = { 1000, 10000, 60000, 600000, 3600000, 4 * 3600000LL, 86400000LL, 0 };
static const char *s_band_label [] = { "< 1 s", "1-10 s", "10-60 s", "1-10 m", "10-60 m",
                                       "1-4 u", "4-24 u", "> 1 d" };
#define BANDS 8

static int
s_compare_int64 (const void *a, const void *b)
{
    int64_t x = *(const int64_t *) a, y = *(const int64_t *) b;
    return x < y ? -1 : x > y;
}

//  One stacked bar from PLOT_BOTTOM up: regulier at the bottom, crisis
//  on top, each part titled "[prefix, ]urgency: count"; the total above
//  it and label below
static void
s_stack (FILE *out, double x, double width, const int64_t counts [3], double scale,
         const char *prefix, const char *label)
{
    double y = PLOT_BOTTOM;
    int64_t total = 0;
    for (int u = 2; u >= 0; u--) {
        if (counts [u] == 0)
            continue;
        double height = counts [u] * scale;
        y -= height;
        fprintf (out, "<rect x=\"%.1f\" y=\"%.1f\" width=\"%.1f\" height=\"%.1f\" fill=\"%s\"><title>",
                 x, y, width, height, s_urgency_colour [u]);
        if (prefix)
            fprintf (out, "%s, ", prefix);
        fprintf (out, "%s: %lld</title></rect>", s_urgency [u], (long long) counts [u]);
        total += counts [u];
    }
    if (total)
        fprintf (out, "<text x=\"%.1f\" y=\"%.1f\" font-size=\"13\" fill=\"#1f2d3d\" text-anchor=\"middle\">%lld</text>",
                 x + width / 2, y - 4, (long long) total);
    fprintf (out, "<text x=\"%.1f\" y=\"%d\" font-size=\"12\" fill=\"#1f2d3d\" text-anchor=\"middle\">%s</text>",
             x + width / 2, PLOT_BOTTOM + 18, label);
}

static void
s_distribution (FILE *out, json_t *charts, const char *id, const char *field, const char *title)
{
    json_t *times = json_object_get (charts, "times");
    int64_t counts [3][BANDS] = { { 0 } };
    int64_t *values = (int64_t *) calloc (json_array_size (times) + 1, sizeof (int64_t));
    size_t n = 0;
    size_t index;
    json_t *row;
    json_array_foreach (times, index, row) {
        json_t *value = json_object_get (row, field);
        if (!json_is_integer (value))
            continue;
        int64_t ms = json_integer_value (value);
        int band = 0;
        while (band < BANDS - 1 && ms >= s_band_ms [band])
            band++;
        int urgency = en_vocab_urgency_index (en_json_str (row, "urgency"));
        counts [urgency < 0 ? 2 : urgency][band]++;
        values [n++] = ms;
    }
    char subtitle [160], median [32], p90 [32];
    if (n > 0) {
        qsort (values, n, sizeof (int64_t), s_compare_int64);
        snprintf (subtitle, sizeof subtitle, "%zu verzoeken, laatste %lld dagen; mediaan %s, 90%% binnen %s",
                  n, (long long) en_json_int (charts, "days", 90),
                  en_charts_duration (values [(n - 1) / 2], median, sizeof median),
                  en_charts_duration (values [(size_t) ceil (0.9 * n) - 1], p90, sizeof p90));
    }
    else
        snprintf (subtitle, sizeof subtitle, "nog geen verzoeken in de laatste %lld dagen",
                  (long long) en_json_int (charts, "days", 90));
    free (values);
    s_open (out, id, title, subtitle);
    int64_t max = 0;
    for (int band = 0; band < BANDS; band++)
        max = MAX (max, counts [0][band] + counts [1][band] + counts [2][band]);
    double scale = s_axis (out, max);
    double slot = (double) (PLOT_RIGHT - PLOT_LEFT) / BANDS;
    for (int band = 0; band < BANDS; band++) {
        int64_t column [3] = { counts [0][band], counts [1][band], counts [2][band] };
        s_stack (out, PLOT_LEFT + band * slot + slot * 0.15, slot * 0.7, column, scale, NULL, s_band_label [band]);
    }
}

static void
s_legend (FILE *out)
{
    int x = PLOT_LEFT;
    for (int u = 0; s_urgency [u]; u++) {
        fprintf (out, "<rect x=\"%d\" y=\"%d\" width=\"10\" height=\"10\" fill=\"%s\"/>"
                      "<text x=\"%d\" y=\"%d\" font-size=\"13\" fill=\"#1f2d3d\">%s</text>",
                 x, HEIGHT - 17, s_urgency_colour [u], x + 15, HEIGHT - 7, s_urgency [u]);
        x += 96;
    }
}

#define WEEKS 12

static void
s_weeks (FILE *out, json_t *charts)
{
    //  The Mondays of the last twelve weeks, this week last, in local time
    time_t now = (time_t) (en_json_int (charts, "now", en_now_ms ()) / 1000);
    struct tm today;
    localtime_r (&now, &today);
    char mondays [WEEKS][11];
    for (int w = 0; w < WEEKS; w++) {
        struct tm day = today;
        day.tm_hour = 12;
        day.tm_isdst = -1;
        day.tm_mday -= (today.tm_wday + 6) % 7 + 7 * (WEEKS - 1 - w);
        mktime (&day);
        strftime (mondays [w], sizeof mondays [w], "%Y-%m-%d", &day);
    }
    int64_t counts [WEEKS][3] = { { 0 } };
    int64_t total = 0, max = 0;
    size_t index;
    json_t *row;
    json_array_foreach (json_object_get (charts, "weeks"), index, row) {
        const char *week = en_json_str (row, "week");
        int urgency = en_vocab_urgency_index (en_json_str (row, "urgency"));
        for (int w = 0; week && w < WEEKS; w++)
            if (streq (week, mondays [w]))
                counts [w][urgency < 0 ? 2 : urgency] += en_json_int (row, "requests", 0);
    }
    for (int w = 0; w < WEEKS; w++) {
        int64_t sum = counts [w][0] + counts [w][1] + counts [w][2];
        total += sum;
        max = MAX (max, sum);
    }
    char subtitle [128];
    snprintf (subtitle, sizeof subtitle, "%lld verzoeken in de laatste %d weken, per urgentie",
              (long long) total, WEEKS);
    s_open (out, "weeks", "Verzoeken per week", subtitle);
    double scale = s_axis (out, max);
    double slot = (double) (PLOT_RIGHT - PLOT_LEFT) / WEEKS;
    for (int w = 0; w < WEEKS; w++) {
        char label [16];
        en_charts_week_label (mondays [w], label, sizeof label);
        s_stack (out, PLOT_LEFT + w * slot + slot * 0.18, slot * 0.64, counts [w], scale,
                 label, label + 5);     //  below the bar the number only
    }
    fprintf (out, "<text x=\"%d\" y=\"%d\" font-size=\"12\" fill=\"#5a6b7b\" text-anchor=\"end\">ISO-week</text>",
             PLOT_RIGHT, HEIGHT - 7);
}

int
en_charts_svg (FILE *out, json_t *charts, const char *which)
{
    if (streq (which, "first-offer"))
        s_distribution (out, charts, "first-offer", "first_offer_ms", "Tijd tot eerste aanbod");
    else
    if (streq (which, "accept"))
        s_distribution (out, charts, "accept", "accepted_ms", "Tijd tot acceptatie");
    else
    if (streq (which, "weeks"))
        s_weeks (out, charts);
    else
        return -1;
    s_legend (out);
    fputs ("</svg>", out);
    return 0;
}
