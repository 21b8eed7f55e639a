package awsquery

import "time"

// timestampLayout is what responses use: every client parses it, and milliseconds are the
// precision AWS itself shows.
const timestampLayout = "2006-01-02T15:04:05.000Z"

// FormatTimestamp formats t as YYYY-MM-DDTHH:MM:SS.mmmZ in UTC, the form responses use.
// Sub-millisecond digits are truncated, not rounded, so a time never moves into the next second.
func FormatTimestamp(t time.Time) string {
	return t.UTC().Format(timestampLayout)
}

func appendTimestamp(b []byte, t time.Time) []byte {
	return t.UTC().AppendFormat(b, timestampLayout)
}

// timestampError is ParseTimestamp's error; it carries no state, so returning it costs nothing.
type timestampError struct{}

func (timestampError) Error() string { return "awsquery: not an ISO 8601 timestamp" }

// ParseTimestamp parses an ISO 8601 date-time: YYYY-MM-DDTHH:MM:SS, then an optional fraction
// of 1 to 9 digits (clients send 0, 2, 3 or 6), then Z or a numeric offset (+HH:MM, +HHMM or
// +HH). The result is in UTC. Anything else, including a missing zone and out-of-range fields
// such as February 30 or a leap second, is an error: guessing a zone or normalising a date
// would store a time the client did not mean.
func ParseTimestamp(s string) (time.Time, error) {
	var bad timestampError
	if len(s) < len("2006-01-02T15:04:05Z") ||
		s[4] != '-' || s[7] != '-' || s[10] != 'T' || s[13] != ':' || s[16] != ':' {
		return time.Time{}, bad
	}
	year, ok1 := digits(s[0:4])
	month, ok2 := digits(s[5:7])
	day, ok3 := digits(s[8:10])
	hour, ok4 := digits(s[11:13])
	minute, ok5 := digits(s[14:16])
	sec, ok6 := digits(s[17:19])
	if !(ok1 && ok2 && ok3 && ok4 && ok5 && ok6) ||
		month < 1 || month > 12 || day < 1 || hour > 23 || minute > 59 || sec > 59 {
		return time.Time{}, bad
	}
	rest := s[19:]
	nsec := 0
	if rest[0] == '.' {
		n := 1
		for n < len(rest) && isDigit(rest[n]) {
			n++
		}
		frac := n - 1
		if frac == 0 || frac > 9 {
			return time.Time{}, bad
		}
		v, _ := digits(rest[1:n])
		for i := frac; i < 9; i++ {
			v *= 10
		}
		nsec = v
		rest = rest[n:]
	}
	var offset int // seconds east of UTC
	switch {
	case rest == "Z":
	case len(rest) >= 3 && (rest[0] == '+' || rest[0] == '-'):
		oh, okh := digits(rest[1:3])
		om, okm := 0, true
		switch tail := rest[3:]; {
		case tail == "":
		case len(tail) == 3 && tail[0] == ':':
			om, okm = digits(tail[1:])
		case len(tail) == 2:
			om, okm = digits(tail)
		default:
			okm = false
		}
		if !okh || !okm || oh > 23 || om > 59 {
			return time.Time{}, bad
		}
		offset = oh*3600 + om*60
		if rest[0] == '-' {
			offset = -offset
		}
	default:
		return time.Time{}, bad
	}
	t := time.Date(year, time.Month(month), day, hour, minute, sec, nsec, time.UTC)
	if t.Day() != day { // time.Date normalised an impossible date such as 2015-02-30
		return time.Time{}, bad
	}
	return t.Add(-time.Duration(offset) * time.Second), nil
}

// digits parses an all-decimal string of at most 9 characters.
func digits(s string) (int, bool) {
	if s == "" {
		return 0, false
	}
	v := 0
	for i := 0; i < len(s); i++ {
		if !isDigit(s[i]) {
			return 0, false
		}
		v = v*10 + int(s[i]-'0')
	}
	return v, true
}

func isDigit(c byte) bool { return '0' <= c && c <= '9' }
