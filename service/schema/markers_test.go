package schema

import (
	"strings"
	"testing"
)

// TestMarkerWithUnusedBitsSetIsRefused: unless a marker's bytes fill its
// last base64 character, that character's low bits are unused, and issue
// leaves them zero. A lenient decoder ignores them, so up to 15 other
// strings decoded to an issued marker's bytes and opened; the strict one
// refuses them. Line breaks, the other spelling base64 allows, are
// TestMarkerWithLineBreakIsRefused's.
func TestMarkerWithUnusedBitsSetIsRefused(t *testing.T) {
	t.Parallel()
	const alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"
	m := NewMarkers([]byte("0123456789abcdef0123456789abcdef"))
	sc := Scope{Account: "111111111111", Region: "us-east-1"}
	tried := 0
	// 16 bytes of MAC plus the position: lengths ≡ 1 and 2 (mod 3) leave
	// 4 and 2 unused bits.
	for _, position := range []string{"g-00019", "g-0001", "g-000"} {
		issued := m.Issue("DescribeCacheSecurityGroups", sc, position)
		if p, ok := m.Open("DescribeCacheSecurityGroups", sc, issued); !ok || p != position {
			t.Fatalf("the issued marker %q opens to %q, %v; want %q", issued, p, ok, position)
		}
		if len(issued)%4 == 0 {
			continue // no unused bits
		}
		i := strings.IndexByte(alphabet, issued[len(issued)-1])
		bent := issued[:len(issued)-1] + alphabet[i|1:i|1+1] // the lowest unused bit set
		tried++
		if p, ok := m.Open("DescribeCacheSecurityGroups", sc, bent); ok {
			t.Errorf("%q, issued as %q, opened to %q", bent, issued, p)
		}
	}
	if tried != 2 {
		t.Fatalf("%d markers with unused bits tried, want 2", tried)
	}
}
