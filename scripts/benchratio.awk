# benchratio.awk: reads `go test -bench` output and prints, for each
# benchmark with sub-benchmarks, the ratio of the first sub-benchmark (the
# subject) to each of the others (its baselines, measured in the same run),
# for every metric they share. Lines pass through unchanged first.
{ print }
/^Benchmark[^ \t]*\/[^ \t]*[ \t]+[0-9]+[ \t]/ {
	name = $1
	sub(/-[0-9]+$/, "", name)          # the GOMAXPROCS suffix
	group = name; sub(/\/.*/, "", group)
	subname = name; sub(/^[^\/]*\//, "", subname)
	if (!(group in first)) { first[group] = subname; order[++ngroups] = group }
	key = group SUBSEP subname
	if (!(key in seen)) { seen[key] = 1; subs[group] = subs[group] SUBSEP subname }
	for (i = 3; i < NF; i += 2) {
		unit = $(i + 1)
		val[group, subname, unit] = $i
		if (!((group, unit) in hasunit)) { hasunit[group, unit] = 1; units[group] = units[group] SUBSEP unit }
	}
}
END {
	if (ngroups == 0) exit
	print ""
	print "Ratios (subject / baseline, same run; below 1 is better for time, bytes and allocs):"
	for (g = 1; g <= ngroups; g++) {
		group = order[g]; subject = first[group]
		n = split(substr(subs[group], 2), names, SUBSEP)
		m = split(substr(units[group], 2), us, SUBSEP)
		for (k = 1; k <= n; k++) {
			base = names[k]
			if (base == subject) continue
			line = sprintf("  %s: %s vs %s:", group, subject, base)
			for (j = 1; j <= m; j++) {
				u = us[j]
				if (u == "MB/s") continue
				a = val[group, subject, u]; b = val[group, base, u]
				if (a == "" || b == "" || b + 0 == 0) continue
				line = line sprintf(" %s %.2fx;", u, a / b)
			}
			print line
		}
	}
}
