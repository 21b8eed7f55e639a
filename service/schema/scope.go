package schema

import (
	"bytes"
	"fmt"

	"github.com/elasticache-server/elasticache-server/storage"
)

// Scope is an (account, region) pair: the unit of isolation. Nothing of
// one scope is visible from another.
type Scope struct {
	Account, Region string
}

// scopesPrefix is the common prefix of every scope's keys.
var scopesPrefix = []byte("a/")

func (s Scope) prefix() string { return "a/" + s.Account + "/" + s.Region + "/" }

// key is the scope's prefix followed by parts, built in one allocation:
// keys are made for every read, and concatenating strings and converting
// the result cost two or three.
func (s Scope) key(parts ...string) []byte {
	n := len("a/") + len(s.Account) + 1 + len(s.Region) + 1
	for _, p := range parts {
		n += len(p)
	}
	b := make([]byte, 0, n)
	b = append(b, "a/"...)
	b = append(b, s.Account...)
	b = append(b, '/')
	b = append(b, s.Region...)
	b = append(b, '/')
	for _, p := range parts {
		b = append(b, p...)
	}
	return b
}

// AccountPrefix is the prefix of every key of one account, all regions;
// "" is the prefix of every scope's keys.
func AccountPrefix(account string) []byte {
	if account == "" {
		return bytes.Clone(scopesPrefix)
	}
	return []byte("a/" + account + "/")
}

// nextScope finds the first scope with a key after after (nil: the first
// scope of all), visiting a single key.
func nextScope(tx storage.Tx, after []byte) (sc Scope, ok bool, err error) {
	err = tx.Scan(scopesPrefix, after, func(k, _ []byte) (bool, error) {
		sc, _, err = splitScopeKey(k)
		ok = err == nil
		return false, err
	})
	return sc, ok, err
}

// splitScopeKey splits a/{account}/{region}/{rest} into its scope and rest.
func splitScopeKey(k []byte) (Scope, []byte, error) {
	rest := k[len(scopesPrefix):]
	i := bytes.IndexByte(rest, '/')
	if i < 0 {
		return Scope{}, nil, fmt.Errorf("key %q has no region", k)
	}
	j := bytes.IndexByte(rest[i+1:], '/')
	if j < 0 {
		return Scope{}, nil, fmt.Errorf("key %q has no record after its region", k)
	}
	return Scope{Account: string(rest[:i]), Region: string(rest[i+1 : i+1+j])}, rest[i+1+j+1:], nil
}

// EachScope calls fn for every scope that has any key, in key order,
// visiting one key per scope.
func EachScope(tx storage.Tx, fn func(Scope) error) error {
	var after []byte
	for {
		sc, ok, err := nextScope(tx, after)
		if err != nil || !ok {
			return err
		}
		if err := fn(sc); err != nil {
			return err
		}
		// Every key of a scope continues its prefix with an ASCII letter,
		// so prefix+0xff sorts after all of them and before the next
		// scope, even one whose region extends this one's ("us-east-1"
		// then "us-east-10").
		after = append([]byte(sc.prefix()), 0xff)
	}
}
