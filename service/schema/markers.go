package schema

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
)

// Markers issue and check pagination markers. A marker carries the last
// position a page returned and a MAC over it together with the account,
// region and operation that issued it, so it is opaque to clients, stays
// valid across restarts and across servers sharing a store (the MAC key
// lives in the store), and a forged, corrupt or foreign marker is
// refused. Resuming from the position costs one seek, whatever the number
// of records.
type Markers struct {
	key []byte
}

// NewMarkers returns markers signed with key (Prepare's).
func NewMarkers(key []byte) Markers { return Markers{key: key} }

const markerMACLen = 16

func (m Markers) mac(op string, sc Scope, position string) []byte {
	h := hmac.New(sha256.New, m.key)
	// NUL cannot occur in any of the parts, so the encoding is unambiguous.
	h.Write([]byte(op + "\x00" + sc.Account + "\x00" + sc.Region + "\x00" + position))
	return h.Sum(nil)[:markerMACLen]
}

// Issue returns the marker that resumes op after position.
func (m Markers) Issue(op string, sc Scope, position string) string {
	b := append(m.mac(op, sc, position), position...)
	return base64.RawURLEncoding.EncodeToString(b)
}

// markerEncoding decodes markers strictly: the unused low bits of the last
// character must be zero, so no two spellings decode to the same bytes.
var markerEncoding = base64.RawURLEncoding.Strict()

// Open returns the position a marker resumes after, or ok=false when the
// marker was not issued by this store for this op, account and region.
// Only the exact string Issue returned opens: the decoder would also skip
// CR and LF anywhere in the text, which the length check refuses.
func (m Markers) Open(op string, sc Scope, marker string) (position string, ok bool) {
	b, err := markerEncoding.DecodeString(marker)
	if err != nil || len(b) < markerMACLen || markerEncoding.EncodedLen(len(b)) != len(marker) {
		return "", false
	}
	position = string(b[markerMACLen:])
	if !hmac.Equal(b[:markerMACLen], m.mac(op, sc, position)) {
		return "", false
	}
	return position, true
}
