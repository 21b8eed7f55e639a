package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"strconv"
	"strings"
	"sync"
	"time"

	clientv3 "go.etcd.io/etcd/client/v3"
	"go.uber.org/zap"

	"github.com/elasticache-server/elasticache-server/internal/benchworkload"
)

// The etcd reference: what a create costs etcd itself, with no HTTP, no
// codec and no service in front. Each worker runs, in a closed loop, one
// etcd transaction of the shape storage/etcd commits for a create: compare
// that the group key is absent and that the account's group counter is
// unchanged since it was read, then put the group record, the event, its
// expiry index entry and the counter. Keys and value sizes are the
// server's (service/records.go, service/events.go); worker i acts as
// account i, as `run -accounts N` with N ≥ -c does, so the counters never
// conflict. Like storage/etcd's commit, the transaction's Else branch reads
// both compared keys back (it runs only when a compare fails, which it
// never does here). storage/etcd reads nothing before it: its Update takes
// both keys from its cache of earlier commits, so a create is this one
// round trip there too.

type etcdTxnConfig struct {
	endpoints []string
	prefix    string
	conns     int
	duration  time.Duration
	warmup    time.Duration
	label     string
	round     int
}

func etcdTxnCmd(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	var c etcdTxnConfig
	var endpoints string
	var jsonOut bool
	fs := flag.NewFlagSet("elasticache-bench etcd-txn", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.StringVar(&endpoints, "endpoints", "127.0.0.1:2379", "etcd client addresses, comma-separated (loopback only)")
	fs.StringVar(&c.prefix, "prefix", "/elasticache-bench-raw/", "prefix of every key written")
	fs.IntVar(&c.conns, "c", 16, "concurrent transactions (workers)")
	fs.DurationVar(&c.duration, "duration", 5*time.Second, "how long to measure")
	fs.DurationVar(&c.warmup, "warmup", time.Second, "how long to run before measuring")
	fs.BoolVar(&jsonOut, "json", false, "print the report as one JSON object")
	fs.StringVar(&c.label, "label", "etcd-raw", "copied into the JSON report")
	fs.IntVar(&c.round, "round", 0, "copied into the JSON report")
	if err := fs.Parse(args); err != nil {
		return err
	}
	for ep := range strings.SplitSeq(endpoints, ",") {
		ep = strings.TrimSpace(strings.TrimPrefix(ep, "http://"))
		if err := checkLoopback(ep); err != nil {
			return err
		}
		c.endpoints = append(c.endpoints, ep)
	}
	if c.conns < 1 || c.duration <= 0 {
		return errors.New("-c must be at least 1 and -duration positive")
	}
	res, err := runEtcdTxn(ctx, c)
	if err != nil {
		return err
	}
	if jsonOut {
		return json.NewEncoder(stdout).Encode(res)
	}
	printReport(stdout, res)
	if len(res.Total.Errors) > 0 {
		return errFailed
	}
	return nil
}

func runEtcdTxn(ctx context.Context, c etcdTxnConfig) (*result, error) {
	cli, err := clientv3.New(clientv3.Config{Endpoints: c.endpoints, DialTimeout: 5 * time.Second, Logger: zap.NewNop()})
	if err != nil {
		return nil, err
	}
	defer cli.Close()
	run := runID()
	from := time.Now().Add(c.warmup)
	end := from.Add(c.duration)
	stats := make([]opStats, c.conns)
	errs := make([]error, c.conns)
	var wg sync.WaitGroup
	for i := range c.conns {
		wg.Go(func() { errs[i] = etcdWorker(ctx, cli, c, run, i, from, end, &stats[i]) })
	}
	wg.Wait()
	if err := errors.Join(errs...); err != nil {
		return nil, err
	}
	var total opStats
	for i := range stats {
		total.merge(&stats[i])
	}
	secs := c.duration.Seconds()
	cfg := runConfig{Addr: strings.Join(c.endpoints, ","), Conns: c.conns, Accounts: c.conns, Label: c.label, Round: c.round}
	sum := summarize(&total, secs)
	return &result{runConfig: cfg, Op: "create", Seconds: secs, Total: sum, Ops: map[string]opResult{"create": sum}}, nil
}

func etcdWorker(ctx context.Context, cli *clientv3.Client, c etcdTxnConfig, run string, id int, from, end time.Time, st *opStats) error {
	account := accountID(id)
	scope := c.prefix + "a/" + account + "/" + benchworkload.Region + "/"
	countKey := scope + "n/csg"
	// The counter's revision and value, as the service would have read them.
	resp, err := cli.Get(ctx, countKey)
	if err != nil {
		return fmt.Errorf("etcd: %w", err)
	}
	var countRev int64
	count := 0
	if len(resp.Kvs) > 0 {
		countRev = resp.Kvs[0].ModRevision
		count, _ = strconv.Atoi(string(resp.Kvs[0].Value))
	}
	for seq := 0; ; seq++ {
		t0 := time.Now()
		if !t0.Before(end) {
			return nil
		}
		name := benchworkload.CreateName(run, id, seq)
		now := time.Now().UTC()
		group, _ := json.Marshal(map[string]any{"v": 1, "name": name, "description": benchworkload.CreateDescription, "created": now})
		event, _ := json.Marshal(map[string]any{"v": 1, "date": now, "sourceType": "cache-security-group", "sourceId": name, "message": "Cache security group created"})
		pos := fmt.Sprintf("%016x/%012x", ^uint64(now.UnixNano()), seq)
		tctx, cancel := context.WithTimeout(ctx, 10*time.Second)
		resp, err := cli.Txn(tctx).If(
			clientv3.Compare(clientv3.ModRevision(scope+"csg/"+name), "=", 0),
			clientv3.Compare(clientv3.ModRevision(countKey), "=", countRev),
		).Then(
			clientv3.OpPut(scope+"csg/"+name, string(group)),
			clientv3.OpPut(scope+"ev/"+pos, string(event)),
			clientv3.OpPut(c.prefix+"x/ev/"+fmt.Sprintf("%016x", now.UnixNano())+"/"+account+"/"+benchworkload.Region+"/"+pos, ""),
			clientv3.OpPut(countKey, strconv.Itoa(count+1)),
		).Else(
			clientv3.OpGet(scope+"csg/"+name),
			clientv3.OpGet(countKey),
		).Commit()
		cancel()
		t1 := time.Now()
		if err == nil && resp.Succeeded {
			count++
			countRev = resp.Header.Revision
		}
		if t0.Before(from) || t1.After(end) {
			continue
		}
		st.hist.record(t1.Sub(t0))
		switch {
		case err != nil:
			st.fail("etcd:" + err.Error())
		case !resp.Succeeded:
			st.fail("etcd:compare-failed")
		default:
			st.ok++
		}
		if err := ctx.Err(); err != nil {
			return err
		}
	}
}
