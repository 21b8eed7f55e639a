package main

import (
	"math/bits"
	"time"
)

// histogram counts latencies in log-linear buckets, as HdrHistogram does:
// values below 2^subBits nanoseconds have a bucket each, and every power of
// two above has 2^(subBits-1) buckets, so a reported percentile is within
// 1/64 (1.6%) of the true value whatever its magnitude. It has a fixed size
// and no locks: each worker records into its own and they are merged once.
type histogram struct {
	counts [histBuckets]uint64
	n      uint64
	max    uint64
}

const (
	subBits     = 7
	subHalf     = 1 << (subBits - 1)
	histBuckets = (64-subBits+2)*subHalf + subHalf
)

func bucketOf(v uint64) int {
	l := bits.Len64(v)
	if l <= subBits {
		return int(v)
	}
	shift := l - subBits
	return (shift+1)*subHalf + int(v>>shift) - subHalf
}

// lowerBound is the smallest value that falls in bucket b.
func lowerBound(b int) uint64 {
	if b < 1<<subBits {
		return uint64(b)
	}
	shift := b/subHalf - 1
	return uint64(b%subHalf+subHalf) << shift
}

func (h *histogram) record(d time.Duration) {
	v := uint64(max(d, 0))
	h.counts[bucketOf(v)]++
	h.n++
	h.max = max(h.max, v)
}

func (h *histogram) merge(o *histogram) {
	for i, c := range o.counts {
		h.counts[i] += c
	}
	h.n += o.n
	h.max = max(h.max, o.max)
}

// quantile returns the latency below which a fraction q of the recorded
// values fall, as the middle of its bucket (the maximum for q = 1).
func (h *histogram) quantile(q float64) time.Duration {
	if h.n == 0 {
		return 0
	}
	rank := uint64(q * float64(h.n))
	if rank >= h.n {
		return time.Duration(h.max)
	}
	var seen uint64
	for b, c := range h.counts {
		seen += c
		if seen > rank {
			lo, hi := lowerBound(b), lowerBound(b+1)
			return time.Duration(min(lo+(hi-lo)/2, h.max))
		}
	}
	return time.Duration(h.max)
}
