package service

import (
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"net"
	"strconv"
	"strings"

	"github.com/elasticache-server/elasticache-server/storage"
)

// Placement: where a node's engine listens. On Linux all of 127.0.0.0/8
// is loopback, so every node gets an address of its own from 127.1.0.1
// upwards and keeps the port the user asked for (6379, 11211), as on AWS.
// The address index makes an address unique across the whole store (every
// account and region, and every server sharing an etcd):
//
//	f/addr/{ip}:{port} → the node key (account/region/cluster/node)
//
// written in the Update that records the node's address, and deleted in
// the one that drops the node.

// addrPrefix is the common prefix of the address index.
var addrPrefix = []byte("f/addr/")

// firstNodeAddress is the first address a node gets, 127.1.0.1: 127.0.0.x
// stays free for whatever else listens on the host's loopback.
const firstNodeAddress = 0x7f010001

// nodeKey is the engine key of a node: account/region/cluster/node.
func nodeKey(sc scope, cluster, node string) string {
	return clusterKeyPrefix(sc, cluster) + node
}

// clusterKeyPrefix is the common prefix of a cluster's node keys.
func clusterKeyPrefix(sc scope, cluster string) string {
	return sc.Account + "/" + sc.Region + "/" + cluster + "/"
}

// parseNodeKey splits a node key.
func parseNodeKey(key string) (sc scope, cluster, node string, ok bool) {
	parts := strings.Split(key, "/")
	if len(parts) != 4 {
		return scope{}, "", "", false
	}
	for _, p := range parts {
		if p == "" {
			return scope{}, "", "", false
		}
	}
	return scope{Account: parts[0], Region: parts[1]}, parts[2], parts[3], true
}

func addrKey(ip string, port int) []byte {
	return []byte(string(addrPrefix) + net.JoinHostPort(ip, strconv.Itoa(port)))
}

// reservations reads the address index: the node key of every reserved
// ip:port, and the set of reserved IPs and of ports taken per IP.
type reservations struct {
	ips   map[string]bool
	ports map[string]map[int]bool
}

func readReservations(tx storage.Tx) (reservations, error) {
	res := reservations{ips: map[string]bool{}, ports: map[string]map[int]bool{}}
	err := tx.Scan(addrPrefix, nil, func(k, _ []byte) (bool, error) {
		host, port, err := net.SplitHostPort(string(k[len(addrPrefix):]))
		if err != nil {
			return true, nil
		}
		p, _ := strconv.Atoi(port)
		res.ips[host] = true
		if res.ports[host] == nil {
			res.ports[host] = map[int]bool{}
		}
		res.ports[host][p] = true
		return true, nil
	})
	return res, err
}

// errNoAddress says the address space is used up.
var errNoAddress = errors.New("no free loopback address for a cache node")

// allocate picks the address and port of a new node of a cluster on port
// and records the choice in res.
func (r *Reconciler) allocate(res reservations, port int) (string, int, error) {
	inUse := func(ip string, p int) bool {
		if r.cfg.BindAddress != "" {
			ip = r.cfg.BindAddress // where the engine will listen
		}
		return r.cfg.AddressInUse != nil && r.cfg.AddressInUse(ip, p)
	}
	if ip := r.cfg.SharedAddress; ip != "" {
		for p := port; p <= 65535; p++ {
			if !res.ports[ip][p] && !inUse(ip, p) {
				res.take(ip, p)
				return ip, p, nil
			}
		}
		return "", 0, errNoAddress
	}
	first := uint32(firstNodeAddress)
	if ip := net.ParseIP(r.cfg.FirstAddress).To4(); ip != nil && ip[0] == 127 {
		first = binary.BigEndian.Uint32(ip)
	}
	// From first to the end of 127.0.0.0/8, then from 127.1.0.1 to first.
	var b [4]byte
	for i := uint32(0); i < loopbackNodeAddresses; i++ {
		n := firstNodeAddress + (first-firstNodeAddress+i)%loopbackNodeAddresses
		if last := n & 0xff; last == 0 || last == 0xff {
			continue
		}
		binary.BigEndian.PutUint32(b[:], n)
		ip := net.IP(b[:]).String()
		if !res.ips[ip] && !inUse(ip, port) {
			res.take(ip, port)
			return ip, port, nil
		}
	}
	return "", 0, errNoAddress
}

// loopbackNodeAddresses is the number of addresses from 127.1.0.1 to
// 127.255.255.255.
const loopbackNodeAddresses = 0x7fffffff - firstNodeAddress + 1

// reserve picks an address for node of cluster id of sc whose cluster
// port is port, and reserves it in tx. res holds the reservations read in
// tx, read at the first call (zero until then), and takes the new one.
func (r *Reconciler) reserve(tx storage.Tx, res *reservations, sc scope, id, node string, port int) (string, int, error) {
	if res.ips == nil {
		var err error
		if *res, err = readReservations(tx); err != nil {
			return "", 0, err
		}
	}
	ip, p, err := r.allocate(*res, port)
	if err != nil {
		return "", 0, err
	}
	return ip, p, tx.Put(addrKey(ip, p), []byte(nodeKey(sc, id, node)))
}

func (res reservations) take(ip string, port int) {
	res.ips[ip] = true
	if res.ports[ip] == nil {
		res.ports[ip] = map[int]bool{}
	}
	res.ports[ip][port] = true
}

// place records, in one Update, the address, port and owner of every node
// of the cluster that has none yet, after letting plan change the nodes
// (add and drop nodes for a modification; nil for none); it returns the
// record as written. Nothing runs yet: a crash after this finds the
// placement on the next pass and ensures the same nodes again.
func (r *Reconciler) place(ctx context.Context, sc scope, id string, gen int, plan func(cur *cacheClusterRecord)) (*cacheClusterRecord, error) {
	var out *cacheClusterRecord
	err := r.s.store.Update(ctx, func(tx storage.Tx) error {
		cur, err := current(tx, sc, id, gen)
		if err != nil {
			return err
		}
		if plan != nil {
			plan(cur)
		}
		changed := plan != nil
		var res reservations
		for i := range cur.Nodes {
			n := &cur.Nodes[i]
			if n.Address != "" || n.Status == nodeDeleting {
				continue
			}
			ip, port, err := r.reserve(tx, &res, sc, id, n.ID, cur.Port)
			if err != nil {
				return err
			}
			n.Address, n.Port, n.Owner = ip, port, r.cfg.ServerID
			changed = true
		}
		if !r.mine(cur) {
			// Another server placed the nodes since this one read the
			// record: it runs them.
			return errNotMine
		}
		out = cur
		if !changed {
			return nil
		}
		return cacheClusters.Put(tx, sc, cur)
	})
	return out, err
}

// releaseNodeAddresses deletes the address reservations of nodes of a
// cluster.
func releaseNodeAddresses(tx storage.Tx, sc scope, id string, nodes []cacheNodeRecord) error {
	for _, n := range nodes {
		if n.Address == "" {
			continue
		}
		k := addrKey(n.Address, n.Port)
		v, err := tx.Get(k)
		if errors.Is(err, storage.ErrNotFound) {
			continue
		}
		if err != nil {
			return err
		}
		// Only the node's own reservation: the address may have gone to
		// another node since (after a reset).
		if string(v) != nodeKey(sc, id, n.ID) {
			continue
		}
		if err := tx.Delete(k); err != nil {
			return fmt.Errorf("release %s: %w", k, err)
		}
	}
	return nil
}

// releaseAddresses deletes the reservations whose node key drop selects.
func releaseAddresses(tx storage.Tx, drop func(node string) bool) error {
	var stale [][]byte
	err := tx.Scan(addrPrefix, nil, func(k, v []byte) (bool, error) {
		if drop(string(v)) {
			stale = append(stale, append([]byte(nil), k...))
		}
		return true, nil
	})
	if err != nil {
		return err
	}
	for _, k := range stale {
		if err := tx.Delete(k); err != nil {
			return err
		}
	}
	return nil
}
