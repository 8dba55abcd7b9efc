#!/usr/bin/env bash
# The rode draden report end to end: nodes publish anonymized case
# summaries (register, phase, close), the broker aggregates them with the
# requests it routed, and `expertnet report` gives counts with small-cell
# suppression, as JSON, CSV and a self-contained HTML file.
. "$(dirname "$0")/lib.sh"
test_init
test_network twente ijsselland

# Synthetic cases: Twente 8 x trauma (6 closed with passende hulp) and
# 2 x lvb; IJsselland 6 x eetstoornis and 6 x autisme
for i in 1 2; do
    en twente case add --client-id "tw-lvb-$i" --age-band 4-11 --problematiek lvb >/dev/null
done
for i in $(seq 1 8); do
    P=$(en twente --json case add --client-id "tw-client-$i" --age-band 12-17 --leefgebieden jeugdhulp,onderwijs \
        --problematiek trauma --kader gedwongen --situatie residentieel --stuck-on inhoud | jq -r .case)
    [ $i -le 6 ] && en twente case phase "$P" --phase triage >/dev/null
    [ $i -le 6 ] && en twente case phase "$P" --phase afgesloten --passende-hulp ja --zero doorplaatsingen=0 >/dev/null
done
for i in $(seq 1 6); do
    en ijsselland case add --client-id "ij-client-$i" --age-band 4-11 --problematiek eetstoornis --kader vrijwillig >/dev/null
    en ijsselland case add --client-id "ij-autisme-$i" --age-band 4-11 --problematiek autisme --kader vrijwillig >/dev/null
done
check "all summaries reach the broker" net_until 15 '.outbox == 0' en twente --json node status
check "ijsselland's too" net_until 15 '.outbox == 0' en ijsselland --json node status
check_eq "the broker stores one summary per case" "22" "$(sql "$NET_DIR/overijssel/broker.db" "select count(*) from summaries")"
check "no identifying data in the broker's files" bash -c "! grep -aq 'tw-client\|ij-client' '$NET_DIR'/overijssel/broker.db*"

TODAY=$(date +%Y-%m-%d); TOMORROW=$(date -d tomorrow +%Y-%m-%d)
enb --json report --from "$TODAY" --to "$TOMORROW" > "$NET_DIR/report.json"
check "report as JSON" jq -e '.report == "rode-draden"' "$NET_DIR/report.json"
count_of () { jq -r ".$1.rows[] | select(.key == \"$2\") | .count" "$NET_DIR/report.json"; }
check_eq "total cases" "22" "$(jq '.totals.cases' "$NET_DIR/report.json")"
check_eq "a count of 8 is shown" "8" "$(count_of by_problematiek trauma)"
check_eq "a count of 2 is suppressed as <5" "<5" "$(count_of by_problematiek lvb)"
check_eq "complementary cells hidden so 22-8 cannot give the small one away (1)" "x" "$(count_of by_problematiek autisme)"
check_eq "complementary cells hidden so 22-8 cannot give the small one away (2)" "x" "$(count_of by_problematiek eetstoornis)"
check_eq "by region: twente 10" "10" "$(count_of by_region twente)"
check_eq "by region: ijsselland 12" "12" "$(count_of by_region ijsselland)"
check_eq "outcome: 6 closed with passende hulp" "6" "$(count_of outcome ja)"
check_eq "region filter" "10" "$(enb --json report --from "$TODAY" --to "$TOMORROW" --region twente | jq '.totals.cases')"
check_eq "date range excludes other days" "0" "$(enb --json report --from 2020-01-01 --to 2020-02-01 | jq '.totals.cases')"
check_exit "a threshold below 3 is refused (1)" 1 enb report --min-cell 2
check_exit "a bad date is a usage error (2)" 2 enb report --from 22-11-2026
enb report --from "$TODAY" --to "$TOMORROW" --format csv --output "$NET_DIR/report.csv" 2>/dev/null
check "CSV has a header and semicolons" bash -c "head -1 '$NET_DIR/report.csv' | grep -q 'sectie;categorie;waarde'"
check "CSV shows the suppressed cell as <5" grep -q 'lvb.*;<5' "$NET_DIR/report.csv"
enb report --from "$TODAY" --to "$TOMORROW" --format html --output "$NET_DIR/report.html" 2>/dev/null
check "HTML is a complete document with SVG charts" bash -c "grep -q '</html>' '$NET_DIR/report.html' && grep -q '<svg' '$NET_DIR/report.html'"
check "HTML has no scripts or external references" lacks -i '<script\|src="http' "$NET_DIR/report.html"
test_done
