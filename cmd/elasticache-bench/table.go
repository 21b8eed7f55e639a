package main

import (
	"bufio"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"os"
	"slices"
	"sort"
	"strings"
)

// record is one line of a bench.sh results file: a run's report, a start-up
// measurement, or a memory reading.
type record struct {
	Kind     string   `json:"kind"`
	Label    string   `json:"label"`
	Round    int      `json:"round"`
	Op       string   `json:"op"`
	Total    opResult `json:"total"`
	MedianMs float64  `json:"median_ms"`
	RSSKB    float64  `json:"rss_kb"`
	HWMKB    float64  `json:"hwm_kb"`
	Groups   int      `json:"groups"`
	CPUus    float64  `json:"server_cpu_us"`
}

// figure is one row of the table: a server measurement against a reference
// measured in the same run.
type figure struct {
	name      string
	refLabel  string // the reference's label ("baseline", …)
	label     string // the measured server's label
	op        string // the run's op, "" for startup and rss
	kind      string // "rps" (ratio label/ref), "time" (ratio of time per request, label/ref), "startup", "rss"
	target    string // "≥ 0.8", "≤ 1.5", "≤ 60 MB", "" for information
	threshold float64
	atLeast   bool
}

var figures = []figure{
	{name: "describe-by-name req/s", refLabel: "baseline", label: "server", op: "describe-by-name", kind: "rps", target: "≥ 0.8", threshold: 0.8, atLeast: true},
	{name: "describe-by-name req/s, access log off", refLabel: "baseline", label: "server-quiet", op: "describe-by-name", kind: "rps"},
	{name: "create req/s (durable)", refLabel: "baseline", label: "server", op: "create", kind: "rps", target: "≥ 0.5", threshold: 0.5, atLeast: true},
	{name: "create req/s vs fsync-put server", refLabel: "fsync", label: "server", op: "create", kind: "rps"},
	{name: "describe-page req/s (100 stored)", refLabel: "baseline", label: "server", op: "describe-page", kind: "rps"},
	{name: "describe-page time, 100,000 vs 100 stored", refLabel: "server", label: "server-100k", op: "describe-page", kind: "time", target: "≤ 1.5", threshold: 1.5},
	{name: "delete req/s (with its creates)", refLabel: "baseline", label: "server", op: "delete", kind: "rps"},
	{name: "tag-add req/s", refLabel: "baseline", label: "server", op: "tag-add", kind: "rps"},
	{name: "tag-list req/s", refLabel: "baseline", label: "server", op: "tag-list", kind: "rps"},
	{name: "mix req/s", refLabel: "baseline", label: "server", op: "mix", kind: "rps"},
	{name: "describe-by-name req/s, SigV4, 16 accounts", refLabel: "baseline-sigv4", label: "server-sigv4", op: "describe-by-name", kind: "rps"},
	{name: "start-up to first answer (ms)", refLabel: "baseline", label: "server", kind: "startup", target: "≤ 2", threshold: 2},
	{name: "start-up to first answer, 100,000 stored (ms)", refLabel: "baseline", label: "server-100k", kind: "startup", target: "≤ 2", threshold: 2},
	{name: "RSS with 100,000 groups (MB)", label: "server-100k", kind: "rss", target: "≤ 60 MB", threshold: 60},
	{name: "create req/s on etcd vs raw etcd txn", refLabel: "etcd-raw", label: "server-etcd", op: "create", kind: "rps", target: "≥ 0.8", threshold: 0.8, atLeast: true},
}

func tableCmd(args []string, stdout io.Writer) error {
	fs := flag.NewFlagSet("elasticache-bench table", flag.ContinueOnError)
	check := fs.Bool("check", false, "exit 1 when a measured figure misses its target")
	compare := fs.String("compare", "", "LABEL/REF: instead of the figures, every operation's req/s of the runs labelled LABEL against those labelled REF, round by round (scripts/bench.sh --ab, --moto)")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if fs.NArg() != 1 {
		return fmt.Errorf("table: want one results file")
	}
	f, err := os.Open(fs.Arg(0))
	if err != nil {
		return err
	}
	defer f.Close()
	var recs []record
	sc := bufio.NewScanner(f)
	sc.Buffer(nil, 1<<20)
	for sc.Scan() {
		line := strings.TrimSpace(sc.Text())
		if line == "" {
			continue
		}
		var r record
		if err := json.Unmarshal([]byte(line), &r); err != nil {
			return fmt.Errorf("table: %s: %w", fs.Arg(0), err)
		}
		if r.Kind == "" {
			r.Kind = "run"
		}
		recs = append(recs, r)
	}
	if err := sc.Err(); err != nil {
		return err
	}
	if *compare != "" {
		label, ref, ok := strings.Cut(*compare, "/")
		if !ok || label == "" || ref == "" {
			return fmt.Errorf("table: -compare %q: want LABEL/REF", *compare)
		}
		printComparison(stdout, recs, label, ref)
		return nil
	}
	if !printTable(stdout, recs) && *check {
		return errFailed
	}
	return nil
}

// printTable writes the figures found in recs and reports whether all
// measured targets were met. A ratio is the median of the per-round
// ratios; the values beside it are medians over rounds.
func printTable(w io.Writer, recs []record) bool {
	ok := true
	fmt.Fprintf(w, "%-46s %12s %12s %8s %9s  %s\n", "figure", "reference", "server", "ratio", "target", "result")
	for _, fg := range figures {
		ref, val, ratio, n := measure(fg, recs)
		if n == 0 {
			if fg.target != "" {
				fmt.Fprintf(w, "%-46s %12s %12s %8s %9s  %s\n", fg.name, "-", "-", "-", fg.target, "not measured")
			}
			continue
		}
		verdict := ""
		if fg.target != "" {
			pass := ratio <= fg.threshold
			if fg.atLeast {
				pass = ratio >= fg.threshold
			}
			verdict = "pass"
			if !pass {
				verdict, ok = "FAIL", false
			}
		}
		refText := fmt.Sprintf("%.0f", ref)
		if fg.kind == "startup" {
			refText = fmt.Sprintf("%.2f", ref)
		}
		valText := fmt.Sprintf("%.0f", val)
		ratioText := fmt.Sprintf("%.2f", ratio)
		switch fg.kind {
		case "startup":
			valText = fmt.Sprintf("%.2f", val)
		case "rss":
			refText, valText, ratioText = "-", fmt.Sprintf("%.1f", val), "-"
		}
		fmt.Fprintf(w, "%-46s %12s %12s %8s %9s  %s\n", fg.name, refText, valText, ratioText, fg.target, verdict)
	}
	var errs []string
	for _, r := range recs {
		for code, n := range r.Total.Errors {
			errs = append(errs, fmt.Sprintf("round %d %s %s: %s ×%d", r.Round, r.Label, r.Op, code, n))
		}
	}
	sort.Strings(errs)
	for _, e := range errs {
		fmt.Fprintln(w, "errors:", e)
	}
	return ok
}

// measure returns the median reference value, the median measured value,
// the median per-round ratio and the number of rounds found.
func measure(fg figure, recs []record) (ref, val, ratio float64, n int) {
	value := func(r record) (float64, bool) {
		switch fg.kind {
		case "rps", "time":
			return r.Total.RPS, r.Kind == "run" && r.Op == fg.op && r.Total.RPS > 0
		case "startup":
			return r.MedianMs, r.Kind == "startup"
		case "rss":
			return r.RSSKB / 1024, r.Kind == "rss"
		}
		return 0, false
	}
	refs, vals := map[int]float64{}, map[int]float64{}
	for _, r := range recs {
		v, ok := value(r)
		if !ok {
			continue
		}
		switch r.Label {
		case fg.refLabel:
			refs[r.Round] = v
		case fg.label:
			vals[r.Round] = v
		}
	}
	var rs, vs, ratios []float64
	for round, v := range vals {
		vs = append(vs, v)
		if fg.kind == "rss" {
			continue
		}
		rv, ok := refs[round]
		if !ok {
			continue
		}
		rs = append(rs, rv)
		switch fg.kind {
		case "rps", "startup":
			ratios = append(ratios, v/rv)
		case "time": // time per request is 1/rps
			ratios = append(ratios, rv/v)
		}
	}
	if fg.kind == "rss" {
		if len(vs) == 0 {
			return 0, 0, 0, 0
		}
		return 0, medianOf(vs), 0, len(vs)
	}
	if len(ratios) == 0 {
		return 0, 0, 0, 0
	}
	return medianOf(rs), medianOf(vs), medianOf(ratios), len(ratios)
}

func medianOf(v []float64) float64 {
	s := slices.Clone(v)
	slices.Sort(s)
	return median(s)
}

// printComparison writes, for every operation run under both labels, the
// median req/s of each, the median of the per-round ratios label/ref with
// the rounds' own, and the median p50 and p99 latencies of each.
func printComparison(w io.Writer, recs []record, label, ref string) {
	var ops []string
	byOp := map[string]map[string]map[int]record{} // op, label, round
	for _, r := range recs {
		if r.Kind != "run" || (r.Label != label && r.Label != ref) || r.Total.RPS <= 0 {
			continue
		}
		if byOp[r.Op] == nil {
			ops = append(ops, r.Op)
			byOp[r.Op] = map[string]map[int]record{label: {}, ref: {}}
		}
		byOp[r.Op][r.Label][r.Round] = r
	}
	ratioName := label + "/" + ref
	fmt.Fprintf(w, "%-22s %6s %12s %12s %10s  %-24s %17s %17s  %s\n", "operation", "rounds", ref+" req/s", label+" req/s", ratioName,
		"rounds' "+ratioName, "p50 ms "+ref+"/"+label, "p99 ms "+ref+"/"+label, "server CPU µs/req "+ref+"/"+label+" ("+ratioName+"; rounds')")
	for _, op := range ops {
		var rounds []int
		for round := range byOp[op][label] {
			if _, ok := byOp[op][ref][round]; ok {
				rounds = append(rounds, round)
			}
		}
		if len(rounds) == 0 {
			continue
		}
		slices.Sort(rounds)
		var refRPS, valRPS, ratios, refP50, valP50, refP99, valP99, refCPU, valCPU, cpuRatios []float64
		var each, eachCPU []string
		for _, round := range rounds {
			ra, rb := byOp[op][label][round], byOp[op][ref][round]
			if ra.CPUus > 0 && rb.CPUus > 0 {
				valCPU, refCPU = append(valCPU, ra.CPUus), append(refCPU, rb.CPUus)
				cpuRatios = append(cpuRatios, ra.CPUus/rb.CPUus)
				eachCPU = append(eachCPU, fmt.Sprintf("%.2f", ra.CPUus/rb.CPUus))
			}
			a, b := ra.Total, rb.Total
			valRPS, refRPS = append(valRPS, a.RPS), append(refRPS, b.RPS)
			ratios = append(ratios, a.RPS/b.RPS)
			each = append(each, fmt.Sprintf("%.2f", a.RPS/b.RPS))
			valP50, refP50 = append(valP50, a.P50ms), append(refP50, b.P50ms)
			valP99, refP99 = append(valP99, a.P99ms), append(refP99, b.P99ms)
		}
		cpu := "-"
		if len(cpuRatios) > 0 {
			cpu = fmt.Sprintf("%.1f/%.1f (%.3f; %s)", medianOf(refCPU), medianOf(valCPU), medianOf(cpuRatios), strings.Join(eachCPU, " "))
		}
		fmt.Fprintf(w, "%-22s %6d %12.0f %12.0f %10.3f  %-24s %17s %17s  %s\n", op, len(rounds), medianOf(refRPS), medianOf(valRPS), medianOf(ratios),
			strings.Join(each, " "),
			fmt.Sprintf("%.3f/%.3f", medianOf(refP50), medianOf(valP50)), fmt.Sprintf("%.3f/%.3f", medianOf(refP99), medianOf(valP99)), cpu)
	}
	var errs []string
	for _, r := range recs {
		if r.Label != label && r.Label != ref {
			continue
		}
		for code, n := range r.Total.Errors {
			errs = append(errs, fmt.Sprintf("round %d %s %s: %s ×%d", r.Round, r.Label, r.Op, code, n))
		}
	}
	sort.Strings(errs)
	for _, e := range errs {
		fmt.Fprintln(w, "errors:", e)
	}
}
