package main

import (
	"testing"

	"github.com/google/go-cmp/cmp"
)

func TestNormAllowed(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct{ in, want string }{
		{"yes/no", "yes,no"},
		{"`yes`, `no`", "yes,no"},
		{"`allkeys-lru`, `volatile-lru`, **allkeys-lfu**", "allkeys-lru,volatile-lru,allkeys-lfu"},
		{"`0+`", "0-"},
		{"0+", "0-"},
		{"1 to 1000000", "1-1000000"},
		{"1 to 10,000", "1-10000"},
		{"1-75", "1-75"},
		{"any integer > 0", "1-"},
		{"any integer", "-"},
		{"N/A", ""},
		{"", ""},
		{"0,1", "0,1"},
	} {
		if got := normAllowed(tc.in); got != tc.want {
			t.Errorf("normAllowed(%q) = %q, want %q", tc.in, got, tc.want)
		}
	}
}

func TestNormDefault(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct{ in, want string }{
		{"`512`", "512"},
		{"0 (disabled)", "0"},
		{"256 (KB)", "256"},
		{"524288 (bytes) ", "524288"},
		{"1,000,000", "1000000"},
		{"(an empty string)", ""},
		{"none", ""},
		{"no/yes *", "no"},
		{"volatile-lru", "volatile-lru"},
		{"-2", "-2"},
		{"1.25", "1.25"},
	} {
		if got := normDefault(tc.in); got != tc.want {
			t.Errorf("normDefault(%q) = %q, want %q", tc.in, got, tc.want)
		}
	}
}

func TestNormChange(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct{ in, want string }{
		{"Immediately across all nodes in the cluster.", "immediate"},
		{"immediately", "immediate"},
		{"At launch", "requires-reboot"},
		{"After restart You can temporarily enable", "requires-reboot"},
		{"At Creation", "requires-reboot"},
		{"N/A", ""},
	} {
		if got := normChange(tc.in); got != tc.want {
			t.Errorf("normChange(%q) = %q, want %q", tc.in, got, tc.want)
		}
	}
}

func TestDetailFields(t *testing.T) {
	t.Parallel()
	for name, tc := range map[string]struct {
		in   string
		want map[string]string
	}{
		"current page": {
			in: "Permitted values: `yes`, `no`<br />Default: `yes`<br />Type: string<br />Modifiable: Yes<br />Changes take effect: Immediately across all nodes in the cluster.",
			want: map[string]string{"permitted values": "`yes`, `no`", "default": "`yes`", "type": "string",
				"modifiable": "Yes", "changes": "Immediately across all nodes in the cluster."},
		},
		"archived page": {
			in:   `Default: 10 Type: integer Modifiable: Yes Changes Take Effect: Immediately`,
			want: map[string]string{"default": "10", "type": "integer", "modifiable": "Yes", "changes": "Immediately"},
		},
		"memcached allowed values and former name": {
			in:   `Default: 1<br />Type: boolean<br />Modifiable: Yes<br />Allowed\_Values: 0,1<br />Former name: x<br />Changes Take Effect: At launch`,
			want: map[string]string{"default": "1", "type": "boolean", "modifiable": "Yes", "permitted values": "0,1", "former name": "x", "changes": "At launch"},
		},
	} {
		if diff := cmp.Diff(tc.want, detailFields(tc.in)); diff != "" {
			t.Errorf("%s (-want +got):\n%s", name, diff)
		}
	}
}

func TestSplitRowKeepsEscapedPipes(t *testing.T) {
	t.Parallel()
	got := splitRow("| maxmemory-policy | Default: volatile-lru | Valid values are: `volatile-lru \\| allkeys-lru` | ")
	want := []string{"maxmemory-policy", "Default: volatile-lru", "Valid values are: `volatile-lru \\| allkeys-lru`"}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("(-want +got):\n%s", diff)
	}
}

func TestParsePage(t *testing.T) {
	t.Parallel()
	const src = "### Redis OSS 6.x parameter changes\n" +
		"**Parameter group family:** redis6.x\n" +
		"+ `default.redis6.x` – …\n" +
		"+ `default.redis6.x.cluster.on` – …\n" +
		"Parameters added in Redis OSS 6.x are as follows.\n\n" +
		"|  Details |  Description  | \n| --- | --- | \n" +
		"| acl-pubsub-default (added in 6.2) | Default: `allchannels`<br />Type: string | Default pubsub channel permissions. | \n\n" +
		"Parameters removed in Redis OSS 6.x are as follows.\n\n" +
		"|  Name  |  Details |  Description  | \n| --- | --- | --- | \n" +
		"| lua-replicate-commands | Default: yes | Always enable Lua effect replication. | \n"
	p := parsePage(src)
	if diff := cmp.Diff([]string{"default.redis6.x", "default.redis6.x.cluster.on"}, p.defaults["redis6.x"]); diff != "" {
		t.Error(diff)
	}
	if len(p.changes) != 2 {
		t.Fatalf("changes = %+v", p.changes)
	}
	add, rm := p.changes[0], p.changes[1]
	if add.op != opAdd || add.row.name != "acl-pubsub-default" || add.row.minVersion != "6.2" || add.family != "redis6.x" || add.version != "6" {
		t.Errorf("first change = %+v", add)
	}
	if rm.op != opRemove || rm.row.name != "lua-replicate-commands" {
		t.Errorf("second change = %+v", rm)
	}
}

func TestCmpVersion(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		a, b string
		want int
	}{
		{"2.8.6", "2.8.23", -1},
		{"2.8.23", "2.8.6", 1},
		{"7", "7.0", -1},
		{"6.2", "6.0", 1},
		{"1.4.5", "1.4.5", 0},
	} {
		got := cmpVersion(tc.a, tc.b)
		if (got < 0) != (tc.want < 0) || (got > 0) != (tc.want > 0) {
			t.Errorf("cmpVersion(%q, %q) = %d, want sign of %d", tc.a, tc.b, got, tc.want)
		}
	}
}
