# summary.awk - the scaling and peers tables of make bench's summary,
# from the result lines in $BENCH_RESULTS (tab-separated: metric, value,
# unit, baseline, baseline value, ratio, target, met; "#" lines are
# notes). run.sh runs it twice: -v format=text (the terminal) and
# -v format=md (build/bench/results.md). tests/bench/run.sh says which
# lines each table takes.

BEGIN {
    axes = 3
    axis[1] = "experts";         points[1] = "100 1000 10000"
    axis[2] = "stored requests"; points[2] = "0 100000 1000000"
    axis[3] = "connected nodes"; points[3] = "3 42 200"
    figures = 0
    peers = 0
}

# "1,000", "100k", "1M" -> a number
function number(text,   factor) {
    factor = 1
    if (text ~ /[kK]$/) factor = 1000
    if (text ~ /M$/) factor = 1000000
    sub(/[kKM]$/, "", text)
    gsub(/,/, "", text)
    return text * factor
}

# 1000000 -> "1,000,000"
function commas(n,   text) {
    text = sprintf("%d", n)
    while (text ~ /[0-9][0-9][0-9][0-9]/)
        sub(/[0-9][0-9][0-9]($|,)/, ",&", text)
    sub(/^,/, "", text)
    return text
}

# Find a point of an axis in text: sets AXIS (index), POINT and FIGURE
# (the text without the point); 0 if there is none.
function find_point(text,   phrase, words, i) {
    if (!match(text, /[0-9][0-9,.]*[kKM]? (experts|stored requests|requests stored|stored|connected nodes|nodes)/))
        return 0
    phrase = substr(text, RSTART, RLENGTH)
    FIGURE = substr(text, 1, RSTART - 1) substr(text, RSTART + RLENGTH)
    gsub(/\( *\)/, "", FIGURE)
    sub(/[ ,:;]+$/, "", FIGURE)
    sub(/ (with|at|for|and)$/, "", FIGURE)
    sub(/[ ,:;]+$/, "", FIGURE)
    sub(/^[ ,:;]+/, "", FIGURE)
    split(phrase, words, " ")
    POINT = number(words[1])
    AXIS = phrase ~ /experts$/ ? 1 : phrase ~ /nodes$/ ? 3 : 2
    return 1
}

function cell_text(value, ratio) {
    return sprintf("%s (%sx)", value, ratio)
}

$1 == "#" { next }

$1 ~ /^peer: / || $1 == "requests accepted+routed/s, window 500" ||
$1 == "durable acks/s (SUBMIT+CLOSE), window 500" {
    peer_name[++peers] = $1
    peer_line[peers] = $2 SUBSEP $3 SUBSEP $5 SUBSEP $6
}

find_point($1) {
    key = AXIS SUBSEP FIGURE
    if (!(key in seen)) {
        seen[key] = 1
        order[++figures] = key
        figure_axis[key] = AXIS
        figure_name[key] = FIGURE (substr(FIGURE, length(FIGURE) - length($3) + 1) == $3 ? "" : " (" $3 ")")
    }
    #  The first point is the axis's baseline, whatever its own line says
    split(points[AXIS], first, " ")
    cell[key, POINT] = cell_text($2, POINT == first[1] ? "1.00" : $6)
    if ($7 != "-" && $7 != "") {
        target[key] = $7
        met[key] = (met[key] == "no" || $8 == "no") ? "no" : $8
    }
    axis_of_row = AXIS
    if (find_point($4) && AXIS == axis_of_row && !((key, POINT) in cell))
        cell[key, POINT] = cell_text($5, "1.00")
}

function scaling_header(a,   n, p, i, line) {
    n = split(points[a], p, " ")
    if (format == "md") {
        line = "| axis | figure |"
        for (i = 1; i <= n; i++) line = line " " commas(p[i]) " |"
        return line " target | met |\n|---|---|---:|---:|---:|---|---|"
    }
    line = sprintf("%-16s %-44s", axis[a], "figure")
    for (i = 1; i <= n; i++) line = line sprintf(" %20s", commas(p[i]))
    return line sprintf("  %-9s %s", "target", "met")
}

function scaling_row(key,   a, n, p, i, line, value) {
    a = figure_axis[key]
    n = split(points[a], p, " ")
    line = format == "md" ? "| " axis[a] " | " figure_name[key] " |" \
                          : sprintf("%-16s %-44s", "", figure_name[key])
    for (i = 1; i <= n; i++) {
        value = ((key, p[i]) in cell) ? cell[key, p[i]] : "-"
        line = line (format == "md" ? " " value " |" : sprintf(" %20s", value))
    }
    if (format == "md")
        return line " " (key in target ? target[key] : "-") " | " (key in met ? met[key] : "-") " |"
    return line sprintf("  %-9s %s", key in target ? target[key] : "-", key in met ? met[key] : "-")
}

END {
    print ""
    if (format == "md")
        print "Scaling: each figure with its ratio to the first point of its axis, same run.\n"
    else
        print "== scaling: each figure with its ratio to the first point of its axis, same run"
    for (a = 1; a <= axes; a++) {
        print scaling_header(a)
        rows = 0
        for (f = 1; f <= figures; f++)
            if (figure_axis[order[f]] == a) {
                print scaling_row(order[f])
                rows++
            }
        if (!rows)
            print (format == "md" ? "| " axis[a] " | not measured in this run | | | | | |" \
                                  : sprintf("%-16s %s", "", "(not measured in this run)"))
        if (format == "md")
            print ""
    }
    if (!peers)
        exit
    print ""
    if (format == "md")
        print "Peers: durable acknowledged rate, each as a ratio to the raw SQLite one-row commit rate its benchmark measured in the same run.\n\n| system and figure | rate | baseline | ratio |\n|---|---:|---:|---:|"
    else
        print "== peers: durable acknowledged rate, each as a ratio to the raw SQLite one-row commit rate of the same run"
    for (i = 1; i <= peers; i++) {
        split(peer_line[i], v, SUBSEP)
        name = peer_name[i]
        if (name !~ /^peer: /)
            name = "expertnet broker: " name
        sub(/^peer: /, "", name)
        if (format == "md")
            printf "| %s | %s %s | %s | %sx |\n", name, v[1], v[2], v[3], v[4]
        else
            printf "%-58s %10s %-3s  baseline %8s  %8sx\n", name, v[1], v[2], v[3], v[4]
    }
}
