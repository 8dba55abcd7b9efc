#!/usr/bin/env bash
# The rode draden report end to end: nodes publish anonymized case
# summaries (register, phase, close), the broker aggregates them with the
# requests it routed, and `expertnet report` gives counts with small-cell
# suppression, as JSON, CSV and a self-contained HTML file.
. "$(dirname "$0")/lib.sh"
test_init
test_network twente ijsselland

# Synthetic cases: Twente 8 x trauma (6 closed with passende hulp) and
# 2 x lvb; IJsselland 6 x eetstoornis and 6 x autisme. Five of the
# trauma cases get a team (issue 13): superexpert, ervaringsdeskundige
# and a procesregisseur nobody can be until one is added (a hiaat place)
for i in 1 2; do
    en twente case add --client-id "tw-lvb-$i" --age-band 4-11 --problematiek lvb >/dev/null
done
for i in $(seq 1 8); do
    P=$(en twente --json case add --client-id "tw-client-$i" --age-band 12-17 --leefgebieden jeugdhulp,onderwijs \
        --problematiek trauma --kader gedwongen --situatie residentieel --stuck-on inhoud | jq -r .case)
    [ $i -le 5 ] && TEAM_CASES+=("$P")
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

# The teams: places 1 and 2 filled at once, place 3 a hiaat until a
# procesregisseur appears, then filled too (a full team)
en twente expert add --id se-tw-01 --role superexpert --expertise trauma --capacity 5 >/dev/null
en twente expert add --id ed-tw-01 --role ervaringsdeskundige --capacity 5 >/dev/null
check "broker learns the experts" net_until 10 'length == 2' enb --json broker experts
TEAMS=()
for P in "${TEAM_CASES[@]}"; do
    jq -n --arg case "$P" '{case: $case, urgency: "hoog", question_type: "consultatie-advies", age_band: "12-17", expertise: ["trauma"],
        places: [{role: "superexpert", expertise: ["trauma"]}, {role: "ervaringsdeskundige"},
                 {role: "procesregisseur", expertise: ["wonen"]}]}' > "$NET_DIR/team.json"
    TEAMS+=("$(en twente --json request submit --file "$NET_DIR/team.json" | jq -r .id)")
done
check_eq "five teams submitted" 5 "$(printf '%s\n' "${TEAMS[@]}" | grep -c .)"
offer_of () { broker_request "$1" | jq -r ".offers_open[] | select(.place == $2) | .id"; }
for R in "${TEAMS[@]}"; do
    net_until 10 '([.places[] | select(.state == "offered")] | length) == 2 and .places[2].state == "hiaat"' \
        broker_request "$R" >/dev/null
    en twente expert accept "$(offer_of "$R" 1)" >/dev/null
    en twente expert accept "$(offer_of "$R" 2)" >/dev/null
done
FILLED=yes
for R in "${TEAMS[@]}"; do
    net_until 10 '[.places[].state] == ["accepted", "accepted", "hiaat"]' broker_request "$R" >/dev/null || FILLED=no
done
check_eq "two places of every team filled, the third a hiaat" yes "$FILLED"
en twente expert add --id pr-tw-01 --role procesregisseur --expertise wonen --capacity 5 >/dev/null
for R in "${TEAMS[@]}"; do
    net_until 15 '.places[2].state == "offered"' broker_request "$R" >/dev/null
    en twente expert accept "$(offer_of "$R" 3)" >/dev/null
done
FULL=yes
for R in "${TEAMS[@]}"; do wait_state "$R" accepted >/dev/null || FULL=no; done
check_eq "every team full" yes "$FULL"

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
check_eq "teams: five team requests" "5" "$(count_of team_requests team)"
check_eq "teams: the other cases asked nothing of the broker" "17" "$(count_of team_requests onbekend)"
check_eq "teams: places by role, filled" "5 5 5" \
    "$(echo $(count_of places_by_role superexpert:vervuld) $(count_of places_by_role ervaringsdeskundige:vervuld) \
       $(count_of places_by_role procesregisseur:vervuld))"
check_eq "teams: no role left unfilled" "0" "$(count_of places_by_role procesregisseur:niet-vervuld)"
check_eq "teams: the places that were a hiaat, by role" "5" "$(count_of hiaten_by_role procesregisseur)"
check_eq "teams: and by the place's expertise" "5" "$(count_of hiaten_by_expertise wonen)"
check_eq "teams: every team full within a day" "5" "$(count_of time_to_full_team lt-1d)"
check "teams: a median time to a full team" jq -e '.time_to_full_team.median_days | type == "number"' "$NET_DIR/report.json"
check_eq "teams: no moreel beraad held" "22" "$(count_of beraad nee)"
check_eq "region filter" "10" "$(enb --json report --from "$TODAY" --to "$TOMORROW" --region twente | jq '.totals.cases')"
check_eq "date range excludes other days" "0" "$(enb --json report --from 2020-01-01 --to 2020-02-01 | jq '.totals.cases')"
check_exit "a threshold below 3 is refused (1)" 1 enb report --min-cell 2
check_exit "a bad date is a usage error (2)" 2 enb report --from 22-11-2026
enb report --from "$TODAY" --to "$TOMORROW" --format csv --output "$NET_DIR/report.csv" 2>/dev/null
check "CSV has a header and semicolons" bash -c "head -1 '$NET_DIR/report.csv' | grep -q 'sectie;categorie;waarde'"
check "CSV shows the suppressed cell as <5" grep -q 'lvb.*;<5' "$NET_DIR/report.csv"
check "CSV has the teams" grep -q '^team_requests;teamverzoek (meer dan één plaats);5' "$NET_DIR/report.csv"
check "CSV has the places by role" grep -q '^places_by_role;procesregisseur: vervuld;5' "$NET_DIR/report.csv"
check "CSV has the time to a full team" grep -q '^time_to_full_team;< 1 dag;5' "$NET_DIR/report.csv"
enb report --from "$TODAY" --to "$TOMORROW" --format html --output "$NET_DIR/report.html" 2>/dev/null
check "HTML is a complete document with SVG charts" bash -c "grep -q '</html>' '$NET_DIR/report.html' && grep -q '<svg' '$NET_DIR/report.html'"
check "HTML has the team sections" bash -c "grep -q '<section id=\"team_requests\">' '$NET_DIR/report.html' \
    && grep -q '<section id=\"places_by_role\">' '$NET_DIR/report.html' && grep -q 'Tijd van verzoek tot volledig team' '$NET_DIR/report.html'"
check "HTML has no scripts or external references" lacks -i '<script\|src="http' "$NET_DIR/report.html"
test_done
