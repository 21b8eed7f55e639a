package service

import (
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"fmt"

	"github.com/elasticache-server/elasticache-server/storage"
)

// markers issue and check pagination markers. A marker carries the last key
// a page returned and a MAC over that key together with the account, region
// and operation that issued it, so it is opaque to clients, stays valid
// across restarts and across servers sharing a store (the MAC key lives in
// the store), and a forged, corrupt or foreign marker is refused. Resuming
// from the key costs one seek, whatever the number of records.
type markers struct {
	key []byte
}

const markerMACLen = 16

// loadMarkerKey reads the store's marker key, creating it on first use.
func loadMarkerKey(tx storage.Tx) ([]byte, error) {
	b, err := tx.Get(markerKeyKey)
	if err == nil {
		return append([]byte(nil), b...), nil
	}
	if !errors.Is(err, storage.ErrNotFound) {
		return nil, err
	}
	key := make([]byte, 32)
	if _, err := rand.Read(key); err != nil {
		return nil, fmt.Errorf("marker key: %w", err)
	}
	if err := tx.Put(markerKeyKey, key); err != nil {
		return nil, err
	}
	return key, nil
}

func (m markers) mac(op string, sc scope, position string) []byte {
	h := hmac.New(sha256.New, m.key)
	// NUL cannot occur in any of the parts, so the encoding is unambiguous.
	h.Write([]byte(op + "\x00" + sc.account + "\x00" + sc.region + "\x00" + position))
	return h.Sum(nil)[:markerMACLen]
}

// issue returns the marker that resumes op after position.
func (m markers) issue(op string, sc scope, position string) string {
	b := append(m.mac(op, sc, position), position...)
	return base64.RawURLEncoding.EncodeToString(b)
}

// markerEncoding decodes markers strictly: the unused low bits of the last
// character must be zero, so no two spellings decode to the same bytes.
var markerEncoding = base64.RawURLEncoding.Strict()

// open returns the position a marker resumes after, or ok=false when the
// marker was not issued by this store for this op, account and region.
// Only the exact string issue returned opens: the decoder would also skip
// CR and LF anywhere in the text, which the length check refuses.
func (m markers) open(op string, sc scope, marker string) (position string, ok bool) {
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
