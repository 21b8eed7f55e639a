package metrics

import (
	"sort"
	"strings"
	"testing"

	dto "github.com/prometheus/client_model/go"
)

// gather returns the registry's families by name.
func gather(tb testing.TB, m *Metrics) map[string]*dto.MetricFamily {
	tb.Helper()
	mfs, err := m.Registry().Gather()
	if err != nil {
		tb.Fatalf("gather: %v", err)
	}
	out := make(map[string]*dto.MetricFamily, len(mfs))
	for _, mf := range mfs {
		out[mf.GetName()] = mf
	}
	return out
}

// labelKey renders a metric's labels as "k=v,k=v" in name order.
func labelKey(m *dto.Metric) string {
	var parts []string
	for _, lp := range m.GetLabel() {
		parts = append(parts, lp.GetName()+"="+lp.GetValue())
	}
	sort.Strings(parts)
	return strings.Join(parts, ",")
}

// series maps the label key of each series of family name to the metric;
// a family that is absent gives an empty map.
func series(fams map[string]*dto.MetricFamily, name string) map[string]*dto.Metric {
	out := map[string]*dto.Metric{}
	if mf := fams[name]; mf != nil {
		for _, m := range mf.GetMetric() {
			out[labelKey(m)] = m
		}
	}
	return out
}

// counterValues maps label keys to counter values.
func counterValues(fams map[string]*dto.MetricFamily, name string) map[string]float64 {
	out := map[string]float64{}
	for k, m := range series(fams, name) {
		out[k] = m.GetCounter().GetValue()
	}
	return out
}

// histCounts maps label keys to histogram sample counts.
func histCounts(fams map[string]*dto.MetricFamily, name string) map[string]uint64 {
	out := map[string]uint64{}
	for k, m := range series(fams, name) {
		out[k] = m.GetHistogram().GetSampleCount()
	}
	return out
}

// bucketCount is the cumulative count of h's bucket whose upper bound is le.
func bucketCount(tb testing.TB, h *dto.Histogram, le float64) uint64 {
	tb.Helper()
	for _, b := range h.GetBucket() {
		if b.GetUpperBound() == le {
			return b.GetCumulativeCount()
		}
	}
	tb.Fatalf("histogram has no bucket le=%g", le)
	return 0
}
