package awsquery

import (
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

func TestParseTimestamp(t *testing.T) {
	t.Parallel()
	utc := func(h, m, s, ns int) time.Time { return time.Date(2015, 2, 3, h, m, s, ns, time.UTC) }
	tests := []struct {
		in   string
		want time.Time
	}{
		{"2015-02-03T11:30:45Z", utc(11, 30, 45, 0)},
		{"2015-02-03T11:30:45.2Z", utc(11, 30, 45, 200e6)},
		{"2015-02-03T11:30:45.25Z", utc(11, 30, 45, 250e6)},
		{"2015-02-03T11:30:45.250Z", utc(11, 30, 45, 250e6)},
		{"2015-02-03T11:30:45.2500Z", utc(11, 30, 45, 250e6)},
		{"2015-02-03T11:30:45.25000Z", utc(11, 30, 45, 250e6)},
		{"2015-02-03T11:30:45.250000Z", utc(11, 30, 45, 250e6)},
		{"2015-02-03T11:30:45.1234567Z", utc(11, 30, 45, 123456700)},
		{"2015-02-03T11:30:45.12345678Z", utc(11, 30, 45, 123456780)},
		{"2015-02-03T11:30:45.123456789Z", utc(11, 30, 45, 123456789)},
		{"2015-02-03T11:30:45.000000001Z", utc(11, 30, 45, 1)},
		{"2015-02-03T13:30:45+02:00", utc(11, 30, 45, 0)},
		{"2015-02-03T06:00:45.5-05:30", utc(11, 30, 45, 500e6)},
		{"2015-02-03T13:30:45+0200", utc(11, 30, 45, 0)},
		{"2015-02-03T13:30:45+02", utc(11, 30, 45, 0)},
		{"2015-02-03T11:30:45+00:00", utc(11, 30, 45, 0)},
		{"2015-02-03T11:30:45-00:00", utc(11, 30, 45, 0)},
		{"2015-02-04T00:30:45+13:00", utc(11, 30, 45, 0)},
		{"2016-02-29T00:00:00Z", time.Date(2016, 2, 29, 0, 0, 0, 0, time.UTC)},
		{"2015-02-02T23:59:59-23:59", time.Date(2015, 2, 3, 23, 58, 59, 0, time.UTC)},
		{"0001-01-01T00:00:00Z", time.Time{}},
		{"9999-12-31T23:59:59.999999999Z", time.Date(9999, 12, 31, 23, 59, 59, 999999999, time.UTC)},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			t.Parallel()
			got, err := ParseTimestamp(tt.in)
			if err != nil {
				t.Fatalf("ParseTimestamp(%q): %v", tt.in, err)
			}
			if !got.Equal(tt.want) || got.Location() != time.UTC {
				t.Errorf("ParseTimestamp(%q) = %v, want %v in UTC", tt.in, got, tt.want)
			}
		})
	}
}

func TestParseTimestampInvalid(t *testing.T) {
	t.Parallel()
	tests := []struct{ name, in string }{
		{"empty", ""},
		{"date only", "2015-02-03"},
		{"no zone", "2015-02-03T11:30:45"},
		{"no zone with fraction", "2015-02-03T11:30:45.250"},
		{"space for T", "2015-02-03 11:30:45Z"},
		{"lower-case t", "2015-02-03t11:30:45Z"},
		{"lower-case z", "2015-02-03T11:30:45z"},
		{"dot without digits", "2015-02-03T11:30:45.Z"},
		{"ten fraction digits", "2015-02-03T11:30:45.1234567890Z"},
		{"comma fraction", "2015-02-03T11:30:45,25Z"},
		{"basic format", "20150203T113045Z"},
		{"short year", "15-02-03T11:30:45Z"},
		{"one-digit month", "2015-2-03T11:30:45Z"},
		{"no seconds", "2015-02-03T11:30Z"},
		{"month 0", "2015-00-03T11:30:45Z"},
		{"month 13", "2015-13-03T11:30:45Z"},
		{"day 0", "2015-02-00T11:30:45Z"},
		{"February 29 in a common year", "2015-02-29T11:30:45Z"},
		{"February 30", "2016-02-30T11:30:45Z"},
		{"April 31", "2015-04-31T11:30:45Z"},
		{"hour 24", "2015-02-03T24:00:00Z"},
		{"minute 60", "2015-02-03T11:60:45Z"},
		{"leap second", "2015-06-30T23:59:60Z"},
		{"offset hour 24", "2015-02-03T11:30:45+24:00"},
		{"offset minute 60", "2015-02-03T11:30:45+02:60"},
		{"one-digit offset", "2015-02-03T11:30:45+2:00"},
		{"offset without sign", "2015-02-03T11:30:45 02:00"},
		{"offset with seconds", "2015-02-03T11:30:45+02:00:00"},
		{"trailing junk", "2015-02-03T11:30:45Zx"},
		{"leading space", " 2015-02-03T11:30:45Z"},
		{"signed field", "2015-02-03T11:30:+5Z"},
		{"epoch seconds", "1422963045"},
		{"RFC 1123", "Tue, 03 Feb 2015 11:30:45 GMT"},
		{"fraction then offset junk", "2015-02-03T11:30:45.5+"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			if got, err := ParseTimestamp(tt.in); err == nil {
				t.Errorf("ParseTimestamp(%q) = %v, want an error", tt.in, got)
			}
		})
	}
}

func TestFormatTimestamp(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		in   time.Time
		want string
	}{
		{"whole seconds", time.Date(2015, 2, 2, 10, 0, 0, 0, time.UTC), "2015-02-02T10:00:00.000Z"},
		{"milliseconds", time.Date(2015, 2, 3, 11, 30, 45, 250e6, time.UTC), "2015-02-03T11:30:45.250Z"},
		{"truncated, not rounded", time.Date(2015, 12, 31, 23, 59, 59, 999999999, time.UTC), "2015-12-31T23:59:59.999Z"},
		{"other zone", time.Date(2015, 2, 3, 13, 30, 45, 0, time.FixedZone("CEST", 2*3600)), "2015-02-03T11:30:45.000Z"},
		{"zero", time.Time{}, "0001-01-01T00:00:00.000Z"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			got := FormatTimestamp(tt.in)
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("FormatTimestamp (-want +got):\n%s", diff)
			}
			back, err := ParseTimestamp(got)
			if err != nil || !back.Equal(tt.in.Truncate(time.Millisecond)) {
				t.Errorf("ParseTimestamp(%q) = %v, %v; want %v", got, back, err, tt.in.Truncate(time.Millisecond))
			}
		})
	}
}
