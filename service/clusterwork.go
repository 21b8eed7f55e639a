package service

import (
	"strconv"
	"strings"

	"github.com/elasticache-server/elasticache-server/storage"
)

// The work index lists the clusters whose engines do not match their
// record yet, across every account and region, so that the reconciler
// finds its work without reading every cluster: f/w/{account}/{region}/{id}
// → the generation to make true. The request path marks a cluster in the
// transaction that changes it; the reconciler clears the mark in the
// transaction that writes the transition, only if the generation is still
// the one it worked on.

// workPrefix is the common prefix of the work index.
var workPrefix = []byte("f/w/")

func workKey(sc scope, id string) []byte {
	return []byte("f/w/" + sc.Account + "/" + sc.Region + "/" + id)
}

// markWork records that cluster id of sc needs the fleet at generation gen.
func markWork(tx storage.Tx, sc scope, id string, gen int) error {
	return tx.Put(workKey(sc, id), []byte(strconv.Itoa(gen)))
}

// parseWorkKey splits a work index key into its scope and cluster ID.
func parseWorkKey(k []byte) (sc scope, id string, ok bool) {
	rest, found := strings.CutPrefix(string(k), string(workPrefix))
	if !found {
		return scope{}, "", false
	}
	parts := strings.SplitN(rest, "/", 3)
	if len(parts) != 3 || parts[0] == "" || parts[1] == "" || parts[2] == "" {
		return scope{}, "", false
	}
	return scope{Account: parts[0], Region: parts[1]}, parts[2], true
}
