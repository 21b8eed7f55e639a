package engine

import (
	"bufio"
	"bytes"
	"context"
	"encoding/base64"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"math/rand/v2"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

// testClock is the runner's clock in tests: real time at the start, moved
// on only by Advance, so "the node stayed stopped for 200 s" costs no
// waiting.
type testClock struct {
	mu sync.Mutex
	t  time.Time
}

func newTestClock(r testRunner) *testClock {
	c := &testClock{t: time.Now()}
	r.now = c.Now
	return c
}

func (c *testClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *testClock) Advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(d)
}

// mcClient speaks memcached's meta protocol to one node.
type mcClient struct {
	tb testing.TB
	c  net.Conn
	r  *bufio.Reader
}

func dialMC(tb testing.TB, s Spec) *mcClient {
	tb.Helper()
	c, err := net.DialTimeout("tcp", hostPort(s), 5*time.Second)
	if err != nil {
		tb.Fatalf("dial memcached %s: %v", s.Key, err)
	}
	tb.Cleanup(func() { c.Close() })
	_ = c.SetDeadline(time.Now().Add(20 * time.Second))
	return &mcClient{tb: tb, c: c, r: bufio.NewReader(c)}
}

// keyTok is key as a meta command token: base64 with " b" when b64.
func keyTok(key []byte, b64 bool) string {
	if b64 {
		return base64.StdEncoding.EncodeToString(key) + " b"
	}
	return string(key)
}

func (m *mcClient) line() string {
	m.tb.Helper()
	l, err := m.r.ReadString('\n')
	if err != nil {
		m.tb.Fatalf("memcached read: %v", err)
	}
	return strings.TrimSuffix(l, "\r\n")
}

// set stores an item with ms; ttl as memcached reads T (0 never).
func (m *mcClient) set(key []byte, b64 bool, value []byte, flags uint32, ttl int64) {
	m.tb.Helper()
	b := ""
	if b64 {
		key, b = []byte(base64.StdEncoding.EncodeToString(key)), " b"
	}
	fmt.Fprintf(m.c, "ms %s %d%s F%d T%d\r\n%s\r\n", key, len(value), b, flags, ttl, value)
	if got := m.line(); got != "HD" {
		m.tb.Fatalf("ms %q: %s", key, got)
	}
}

// mcGot is an item as mg shows it.
type mcGot struct {
	value  []byte
	flags  uint32
	ttl    int64 // -1: no expiry
	binary bool  // memcached answered the key base64, flagged b
}

// get reads an item with mg; ok is false when it is absent.
func (m *mcClient) get(key []byte, b64 bool) (g mcGot, ok bool) {
	m.tb.Helper()
	fmt.Fprintf(m.c, "mg %s v f t k\r\n", keyTok(key, b64))
	l := m.line()
	if l == "EN" || strings.HasPrefix(l, "EN ") {
		return g, false
	}
	f := strings.Split(l, " ")
	if len(f) < 5 || f[0] != "VA" {
		m.tb.Fatalf("mg %q: %s", key, l)
	}
	n, _ := strconv.Atoi(f[1])
	fl, _ := strconv.ParseUint(f[2][1:], 10, 32)
	g.flags = uint32(fl)
	g.ttl, _ = strconv.ParseInt(f[3][1:], 10, 64)
	g.binary = strings.HasSuffix(l, " b")
	g.value = make([]byte, n+2)
	if _, err := io.ReadFull(m.r, g.value); err != nil {
		m.tb.Fatalf("mg %q value: %v", key, err)
	}
	g.value = g.value[:n]
	return g, true
}

// mcItemWant is an item a test stores and expects back.
type mcItemWant struct {
	key     []byte
	b64     bool // stored through a base64 key
	value   []byte
	flags   uint32
	ttl     int64 // as set; 0 never
	wantTTL [2]int64
}

// checkItems fails unless every item is back with its value, flags, key
// kind and a TTL in its range.
func checkItems(tb testing.TB, s Spec, items []mcItemWant, when string) {
	tb.Helper()
	m := dialMC(tb, s)
	for _, it := range items {
		g, ok := m.get(it.key, it.b64)
		if !ok {
			tb.Errorf("%s: %q is gone", when, it.key)
			continue
		}
		if !bytes.Equal(g.value, it.value) {
			tb.Errorf("%s: %q has a value of %d bytes, want the %d stored", when, it.key, len(g.value), len(it.value))
		}
		if g.flags != it.flags {
			tb.Errorf("%s: %q flags %d, want %d", when, it.key, g.flags, it.flags)
		}
		if g.binary != it.b64 {
			tb.Errorf("%s: %q answered as a binary key: %v, want %v", when, it.key, g.binary, it.b64)
		}
		if g.ttl < it.wantTTL[0] || g.ttl > it.wantTTL[1] {
			tb.Errorf("%s: %q TTL %d, want %d..%d", when, it.key, g.ttl, it.wantTTL[0], it.wantTTL[1])
		}
	}
}

func storeItems(tb testing.TB, s Spec, items []mcItemWant) {
	tb.Helper()
	m := dialMC(tb, s)
	for _, it := range items {
		m.set(it.key, it.b64, it.value, it.flags, it.ttl)
	}
}

func fileExists(tb testing.TB, path string) bool {
	tb.Helper()
	_, err := os.Stat(path)
	if err != nil && !errors.Is(err, fs.ErrNotExist) {
		tb.Fatal(err)
	}
	return err == nil
}

// Items keep their values, flags and remaining TTL across Stop → Ensure
// and Restart; the dump is read once; a crash loses the items; Remove
// deletes a dump with the directory.
func TestMemcachedItemsSurviveStopAndRestart(t *testing.T) {
	t.Parallel()
	requireBinary(t, "memcached")
	r := newTestRunner(t, "")
	newTestClock(r)
	ctx := testContext(t)
	s := spec(t, "memcached", "123456789012/us-east-1/mcitems/0001")
	mustEnsure(t, r, s)
	fortyDays := int64(40 * 24 * 3600)
	items := []mcItemWant{
		{key: []byte("k"), value: []byte("hello"), wantTTL: [2]int64{-1, -1}},
		{key: []byte("flagged"), value: []byte("v"), flags: 4294967295, wantTTL: [2]int64{-1, -1}},
		{key: []byte("ttl"), value: []byte("soon"), flags: 7, ttl: 1000, wantTTL: [2]int64{985, 1000}},
		// Over 30 days memcached reads T as a Unix time.
		{key: []byte("long"), value: []byte("later"), flags: 1, ttl: time.Now().Unix() + fortyDays, wantTTL: [2]int64{fortyDays - 15, fortyDays}},
	}
	storeItems(t, s, items)
	pid := nodePid(t, r, s.Key)
	start := procStart(t, pid)
	dump := filepath.Join(r.nodeDir(s.Key), itemsFileName)

	if err := r.Stop(ctx, s.Key); err != nil {
		t.Fatalf("Stop: %v", err)
	}
	if alive(pid, start) {
		t.Fatalf("memcached %d runs after Stop", pid)
	}
	if !fileExists(t, dump) {
		t.Fatalf("Stop left no %s", itemsFileName)
	}
	mustEnsure(t, r, s)
	checkItems(t, s, items, "after Stop and Ensure")
	if fileExists(t, dump) {
		t.Errorf("%s is still there after the start that loaded it", itemsFileName)
	}
	if !strings.Contains(r.logs.String(), "saved=4") || !strings.Contains(r.logs.String(), "restored=4") {
		t.Errorf("no record of 4 items saved and restored")
	}

	if err := r.Restart(ctx, s); err != nil {
		t.Fatalf("Restart: %v", err)
	}
	checkItems(t, s, items, "after Restart")
	if fileExists(t, dump) {
		t.Errorf("%s is still there after Restart", itemsFileName)
	}

	// A crash loses the items, as on AWS.
	if err := syscall.Kill(nodePid(t, r, s.Key), syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	waitExited(t, r, s.Key)
	mustEnsure(t, r, s)
	if _, ok := dialMC(t, s).get([]byte("k"), false); ok {
		t.Fatalf("k is back after a crash")
	}

	// Remove deletes a dump with the directory.
	storeItems(t, s, items[:1])
	if err := r.Stop(ctx, s.Key); err != nil {
		t.Fatalf("Stop: %v", err)
	}
	if !fileExists(t, dump) {
		t.Fatalf("Stop left no %s", itemsFileName)
	}
	if err := r.Remove(ctx, s.Key); err != nil {
		t.Fatalf("Remove: %v", err)
	}
	if fileExists(t, r.nodeDir(s.Key)) {
		t.Fatalf("Remove left %s", r.nodeDir(s.Key))
	}
}

// An item whose TTL ran out while the node was stopped is not restored;
// one that still has time keeps what is left of it.
func TestMemcachedItemExpiredWhileStoppedIsNotRestored(t *testing.T) {
	t.Parallel()
	requireBinary(t, "memcached")
	r := newTestRunner(t, "")
	clk := newTestClock(r)
	ctx := testContext(t)
	s := spec(t, "memcached", "123456789012/us-east-1/mcttl/0001")
	mustEnsure(t, r, s)
	storeItems(t, s, []mcItemWant{
		{key: []byte("short"), value: []byte("gone"), ttl: 100},
		{key: []byte("long"), value: []byte("kept"), flags: 3, ttl: 1000},
		{key: []byte("forever"), value: []byte("kept"), flags: 5},
	})
	if err := r.Stop(ctx, s.Key); err != nil {
		t.Fatalf("Stop: %v", err)
	}
	clk.Advance(200 * time.Second)
	mustEnsure(t, r, s)
	m := dialMC(t, s)
	if g, ok := m.get([]byte("short"), false); ok {
		t.Errorf("short (TTL 100 s, stopped 200 s) is back: %q", g.value)
	}
	checkItems(t, s, []mcItemWant{
		{key: []byte("long"), value: []byte("kept"), flags: 3, wantTTL: [2]int64{785, 800}},
		{key: []byte("forever"), value: []byte("kept"), flags: 5, wantTTL: [2]int64{-1, -1}},
	}, "after 200 s stopped")
	if !strings.Contains(r.logs.String(), "expired=1") {
		t.Errorf("no record of the expired item skipped")
	}
}

// Binary values and keys with characters the text protocol cannot carry
// (stored through base64 keys) come back byte for byte, base64 keys still
// flagged binary.
func TestMemcachedBinaryValuesAndOddKeysSurvive(t *testing.T) {
	t.Parallel()
	requireBinary(t, "memcached")
	r := newTestRunner(t, "")
	ctx := testContext(t)
	s := spec(t, "memcached", "123456789012/us-east-1/mcodd/0001")
	mustEnsure(t, r, s)
	all := make([]byte, 256)
	for i := range all {
		all[i] = byte(i)
	}
	big := make([]byte, 700<<10)
	rng := rand.New(rand.NewPCG(1, 2))
	for i := range big {
		big[i] = byte(rng.UintN(256))
	}
	long := bytes.Repeat([]byte("x"), 250)
	longBinary := append(bytes.Repeat([]byte{0xff}, 179), []byte(" \r\n\x00end")...) // 186 bytes, the most a base64 key holds
	never := [2]int64{-1, -1}
	items := []mcItemWant{
		{key: []byte("all-bytes"), value: all, wantTTL: never},
		{key: []byte("crlf"), value: []byte("a\r\nEND\r\nVA 1\r\n"), wantTTL: never},
		{key: []byte("empty"), value: []byte{}, wantTTL: never},
		{key: []byte("big"), value: big, flags: 9, wantTTL: never},
		{key: []byte("a%20b+c"), value: []byte("percent"), wantTTL: never},
		{key: []byte("ключ-🔑"), value: []byte("utf-8"), wantTTL: never},
		{key: []byte("tab\tkey"), value: []byte("tab"), wantTTL: never},
		{key: []byte{0xfe, 0xff, 0x01}, value: []byte("high bytes"), wantTTL: never},
		{key: long, value: []byte("250"), wantTTL: never},
		{key: []byte("plain but base64"), b64: true, value: []byte("b"), flags: 2, wantTTL: never},
		{key: []byte("bin\x00\r\n key"), b64: true, value: all, flags: 3, wantTTL: never},
		{key: longBinary, b64: true, value: []byte("186"), wantTTL: never},
	}
	storeItems(t, s, items)
	if err := r.Stop(ctx, s.Key); err != nil {
		t.Fatalf("Stop: %v", err)
	}
	mustEnsure(t, r, s)
	checkItems(t, s, items, "after Stop and Ensure")
	if strings.Contains(r.logs.String(), "not all") {
		t.Errorf("items were lost:\n%s", r.logs.String())
	}
}

// A node the runner starts is as small as a bare memcached with the same
// memory limit: nothing maps or touches a file of the limit's size.
func TestMemcachedNodeRSSNearBareMemcached(t *testing.T) {
	t.Parallel()
	bin := requireBinary(t, "memcached")
	r := newTestRunner(t, "")
	s := spec(t, "memcached", "123456789012/us-east-1/mcrss/0001")
	s.MaxMemory = 512 << 20 // cache.t3.micro's max_cache_memory is 555 MB
	// A warm-restart file left by an earlier version is removed.
	dir := r.nodeDir(s.Key)
	if err := os.MkdirAll(dir, 0o700); err != nil {
		t.Fatal(err)
	}
	for _, name := range []string{legacyMemoryFile, legacyMemoryFile + ".meta"} {
		if err := os.WriteFile(filepath.Join(dir, name), []byte("old"), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	mustEnsure(t, r, s)
	for _, name := range []string{legacyMemoryFile, legacyMemoryFile + ".meta"} {
		if fileExists(t, filepath.Join(dir, name)) {
			t.Errorf("%s of an earlier version is still there", name)
		}
	}

	addr, port := freeListener(t)
	bare := exec.Command(bin, "-l", addr, "-p", strconv.Itoa(port), "-U", "0", "-m", "512", "-u", currentUser())
	if err := bare.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		_ = bare.Process.Kill()
		_ = bare.Wait()
	})
	deadline := time.Now().Add(10 * time.Second)
	for memcachedVersion(testContext(t), net.JoinHostPort(addr, strconv.Itoa(port))) != nil {
		if time.Now().After(deadline) {
			t.Fatal("bare memcached does not answer")
		}
		time.Sleep(readyPoll)
	}
	node, plain := vmRSS(t, nodePid(t, r, s.Key)), vmRSS(t, bare.Process.Pid)
	t.Logf("VmRSS: node %d kB, bare memcached %d kB", node, plain)
	if node > plain+4096 {
		t.Fatalf("node VmRSS %d kB, bare memcached %d kB: more than 4 MB apart", node, plain)
	}
}

// vmRSS is /proc/<pid>/status's VmRSS in kB.
func vmRSS(tb testing.TB, pid int) int64 {
	tb.Helper()
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		tb.Fatal(err)
	}
	for _, line := range strings.Split(string(b), "\n") {
		if v, ok := strings.CutPrefix(line, "VmRSS:"); ok {
			n, err := strconv.ParseInt(strings.TrimSuffix(strings.TrimSpace(v), " kB"), 10, 64)
			if err != nil {
				tb.Fatalf("VmRSS %q: %v", v, err)
			}
			return n
		}
	}
	tb.Fatalf("no VmRSS for %d", pid)
	return 0
}

// StopAll dumps every memcached node, leaves no process, and every node
// starts again on its own items.
func TestStopAllDumpsEveryMemcachedNode(t *testing.T) {
	t.Parallel()
	requireBinary(t, "memcached")
	r := newTestRunner(t, "")
	var specs []Spec
	type proc struct {
		pid   int
		start uint64
	}
	var procs []proc
	for i := range 3 {
		s := spec(t, "memcached", fmt.Sprintf("123456789012/us-east-1/mcall/%04d", i+1))
		mustEnsure(t, r, s)
		storeItems(t, s, []mcItemWant{{key: []byte("node"), value: []byte(s.Key), flags: uint32(i)}})
		specs = append(specs, s)
		pid := nodePid(t, r, s.Key)
		procs = append(procs, proc{pid, procStart(t, pid)})
	}
	if err := r.StopAll(testContext(t)); err != nil {
		t.Fatalf("StopAll: %v", err)
	}
	for i, s := range specs {
		if alive(procs[i].pid, procs[i].start) {
			t.Errorf("%s (pid %d) runs after StopAll", s.Key, procs[i].pid)
		}
		if n := processesIn(t, r.nodeDir(s.Key)); n != 0 {
			t.Errorf("%d processes left in %s", n, s.Key)
		}
		if !fileExists(t, filepath.Join(r.nodeDir(s.Key), itemsFileName)) {
			t.Errorf("StopAll left no %s for %s", itemsFileName, s.Key)
		}
	}
	for i, s := range specs {
		mustEnsure(t, r, s)
		checkItems(t, s, []mcItemWant{{key: []byte("node"), value: []byte(s.Key), flags: uint32(i), wantTTL: [2]int64{-1, -1}}}, "after StopAll and Ensure")
	}
}

// A dump that runs out of time gives up: the stop goes on, the log says
// what was not saved, and the next start is empty.
func TestMemcachedDumpBoundedByItsDeadline(t *testing.T) {
	t.Parallel()
	requireBinary(t, "memcached")
	r := newTestRunner(t, "")
	ctx := testContext(t)
	s := spec(t, "memcached", "123456789012/us-east-1/mcslow/0001")
	mustEnsure(t, r, s)
	storeItems(t, s, []mcItemWant{{key: []byte("a"), value: []byte("1")}, {key: []byte("b"), value: []byte("2")}})
	r.itemsTimeout = time.Nanosecond
	began := time.Now()
	if err := r.Stop(ctx, s.Key); err != nil {
		t.Fatalf("Stop: %v", err)
	}
	if took := time.Since(began); took > 5*time.Second {
		t.Errorf("Stop took %v with a dump deadline of 1 ns", took)
	}
	logs := r.logs.String()
	if !strings.Contains(logs, "memcached items not all saved") || !strings.Contains(logs, "not_saved_at_most=all") {
		t.Errorf("no record of the items not saved:\n%s", logs)
	}
	r.itemsTimeout = defaultItemsTimeout
	mustEnsure(t, r, s)
	if _, ok := dialMC(t, s).get([]byte("a"), false); ok {
		t.Errorf("a is back though the dump saved nothing")
	}

	// A stop whose own deadline leaves less than the margin saves nothing
	// either, and still stops the node in time.
	storeItems(t, s, []mcItemWant{{key: []byte("c"), value: []byte("3")}})
	pid := nodePid(t, r, s.Key)
	start := procStart(t, pid)
	sctx, cancel := context.WithTimeout(ctx, stopMargin-500*time.Millisecond)
	defer cancel()
	if err := r.Stop(sctx, s.Key); err != nil {
		t.Fatalf("Stop with %v left: %v", stopMargin-500*time.Millisecond, err)
	}
	if alive(pid, start) {
		t.Fatalf("memcached %d runs after Stop", pid)
	}
	if fileExists(t, filepath.Join(r.nodeDir(s.Key), itemsFileName)) {
		t.Errorf("a dump was written with no time for it")
	}
}

// A restore goes on past items the new node refuses (larger than its
// max_item_size) and logs them; a damaged dump is logged and deleted, and
// the node runs.
func TestMemcachedRestoreFailuresAreLoggedNotFatal(t *testing.T) {
	t.Parallel()
	requireBinary(t, "memcached")
	r := newTestRunner(t, "")
	ctx := testContext(t)
	s := spec(t, "memcached", "123456789012/us-east-1/mcfail/0001")
	s.Params = map[string]string{"max_item_size": "2097152"}
	mustEnsure(t, r, s)
	huge := bytes.Repeat([]byte("h"), 1500<<10)
	storeItems(t, s, []mcItemWant{
		{key: []byte("before"), value: []byte("1")},
		{key: []byte("huge"), value: huge},
		{key: []byte("after"), value: []byte("2")},
	})
	s.Params = map[string]string{"max_item_size": "1048576"}
	if err := r.Restart(ctx, s); err != nil {
		t.Fatalf("Restart: %v", err)
	}
	checkItems(t, s, []mcItemWant{
		{key: []byte("before"), value: []byte("1"), wantTTL: [2]int64{-1, -1}},
		{key: []byte("after"), value: []byte("2"), wantTTL: [2]int64{-1, -1}},
	}, "after Restart with a smaller max_item_size")
	if _, ok := dialMC(t, s).get([]byte("huge"), false); ok {
		t.Errorf("huge is stored in a node whose max_item_size is below its size")
	}
	if logs := r.logs.String(); !strings.Contains(logs, "memcached items not all restored") || !strings.Contains(logs, "failed=1") {
		t.Errorf("no record of the item not restored:\n%s", logs)
	}

	if err := r.Stop(ctx, s.Key); err != nil {
		t.Fatalf("Stop: %v", err)
	}
	dump := filepath.Join(r.nodeDir(s.Key), itemsFileName)
	if err := os.WriteFile(dump, []byte("not a dump"), 0o600); err != nil {
		t.Fatal(err)
	}
	mustEnsure(t, r, s)
	if err := r.Health(ctx, s.Key); err != nil {
		t.Fatalf("Health after a damaged dump: %v", err)
	}
	if fileExists(t, dump) {
		t.Errorf("the damaged dump is still there")
	}
	if !strings.Contains(r.logs.String(), errBadDump.Error()) {
		t.Errorf("no record of the damaged dump")
	}
}

func TestMetadumpKey(t *testing.T) {
	t.Parallel()
	for line, want := range map[string]string{
		"key=a exp=-1 la=1 cas=1 fetch=no cls=1 size=67": "a",
		"key=a%2520b exp=-1":                             "a%20b",
		"key=bin%0A%00key%FF exp=5":                      "bin\n\x00key\xff",
		"key=-._~":                                       "-._~",
	} {
		got, err := metadumpKey(line)
		if err != nil || string(got) != want {
			t.Errorf("metadumpKey(%q) = %q, %v; want %q", line, got, err, want)
		}
	}
	for _, line := range []string{"", "exp=1", "key= exp=1", "key=a%2", "key=a%zz", "key=" + strings.Repeat("x", 251)} {
		var bad *badKeyLine
		if _, err := metadumpKey(line); !errors.As(err, &bad) {
			t.Errorf("metadumpKey(%q) = %v, want a badKeyLine", line, err)
		}
	}
}

func TestKeyToken(t *testing.T) {
	t.Parallel()
	for _, c := range []struct {
		key     string
		binary  bool
		tok     string
		b64, ok bool
	}{
		{"plain", false, "plain", false, true},
		{"tab\tok", false, "tab\tok", false, true},
		{"plain", true, "cGxhaW4=", true, true},
		{"a b", false, "YSBi", true, true},
		{"a\r\nb", false, "YQ0KYg==", true, true},
		{strings.Repeat("x", 250), false, strings.Repeat("x", 250), false, true},
		{strings.Repeat(" ", 186), false, base64.StdEncoding.EncodeToString([]byte(strings.Repeat(" ", 186))), true, true},
		{strings.Repeat(" ", 187), false, "", false, false},
	} {
		tok, b64, ok := keyToken([]byte(c.key), c.binary)
		if tok != c.tok || b64 != c.b64 || ok != c.ok {
			t.Errorf("keyToken(%q, %v) = %q, %v, %v; want %q, %v, %v", c.key, c.binary, tok, b64, ok, c.tok, c.b64, c.ok)
		}
	}
}

// A dump reads back as written; a damaged one is an errBadDump, never a
// panic or a huge allocation.
func TestItemRecords(t *testing.T) {
	t.Parallel()
	items := []mcItem{
		{key: []byte("k"), value: []byte("v")},
		{key: []byte("bin\x00"), binary: true, flags: 4294967295, expires: 1796681549, value: bytes.Repeat([]byte{0, 0xff}, 1000)},
		{key: []byte("e"), expires: -5, value: []byte{}},
	}
	var buf bytes.Buffer
	w := bufio.NewWriter(&buf)
	for _, it := range items {
		if err := writeItem(w, it); err != nil {
			t.Fatal(err)
		}
	}
	w.WriteByte(recEnd)
	w.WriteByte(byte(len(items)))
	if err := w.Flush(); err != nil {
		t.Fatal(err)
	}
	whole := buf.Bytes()
	r := bufio.NewReader(bytes.NewReader(whole))
	for i, want := range items {
		got, err := readItem(r, int64(i))
		if err != nil {
			t.Fatalf("item %d: %v", i, err)
		}
		if !bytes.Equal(got.key, want.key) || got.binary != want.binary || got.flags != want.flags || got.expires != want.expires || !bytes.Equal(got.value, want.value) {
			t.Fatalf("item %d = %+v, want %+v", i, got, want)
		}
	}
	if _, err := readItem(r, int64(len(items))); !errors.Is(err, io.EOF) {
		t.Fatalf("end record: %v, want io.EOF", err)
	}
	// Every truncation, and a wrong end count, is damage.
	for cut := 0; cut < len(whole); cut++ {
		r := bufio.NewReader(bytes.NewReader(whole[:cut]))
		var err error
		for n := int64(0); err == nil; n++ {
			_, err = readItem(r, n)
		}
		if !errors.Is(err, errBadDump) {
			t.Fatalf("dump cut at %d of %d: %v, want errBadDump", cut, len(whole), err)
		}
	}
	for name, b := range map[string][]byte{
		"wrong end count": {recEnd, 7},
		"unknown kind":    {'X'},
		"key too long":    {recItem, 0xfb, 0x01},
		"value too long":  {recItem, 1, 'k', 0, 0, 0, 0xff, 0xff, 0xff, 0xff, 0x0f},
		"bad key kind":    {recItem, 1, 'k', 2},
	} {
		if _, err := readItem(bufio.NewReader(bytes.NewReader(b)), 0); !errors.Is(err, errBadDump) {
			t.Errorf("%s: %v, want errBadDump", name, err)
		}
	}
}

// A dump whose context ends half-way writes the items it read, which load
// back; the rest are reported as not saved.
func TestMemcachedDumpCutShortKeepsWhatItRead(t *testing.T) {
	t.Parallel()
	requireBinary(t, "memcached")
	r := newTestRunner(t, "")
	ctx := testContext(t)
	s := spec(t, "memcached", "123456789012/us-east-1/mchalf/0001")
	mustEnsure(t, r, s)
	m := dialMC(t, s)
	const total = 3 * itemsBatch
	for i := range total {
		m.set([]byte(fmt.Sprintf("k%04d", i)), false, []byte(strconv.Itoa(i)), uint32(i), 0)
	}
	// The dump dates each batch of replies; the second dating ends the
	// dump's context, so exactly one batch is read.
	dctx, cancel := context.WithCancel(ctx)
	defer cancel()
	var calls int
	now := func() time.Time {
		calls++
		if calls == 2 {
			cancel()
		}
		return time.Now()
	}
	path := filepath.Join(t.TempDir(), itemsFileName)
	res, err := dumpMemcached(dctx, hostPort(s), path, now)
	if !errors.Is(err, context.Canceled) {
		t.Fatalf("dump = %v, want context.Canceled", err)
	}
	if res.inCache != total || res.saved != itemsBatch {
		t.Fatalf("dump saved %d of %d, want %d of %d", res.saved, res.inCache, itemsBatch, total)
	}
	other := spec(t, "memcached", "123456789012/us-east-1/mchalf/0002")
	mustEnsure(t, r, other)
	got, err := restoreMemcached(ctx, hostPort(other), path, time.Now)
	if err != nil || got.restored != itemsBatch || got.failed != 0 {
		t.Fatalf("restore = %+v, %v; want %d restored", got, err, itemsBatch)
	}
	om := dialMC(t, other)
	found := 0
	for i := range total {
		if g, ok := om.get([]byte(fmt.Sprintf("k%04d", i)), false); ok {
			found++
			if string(g.value) != strconv.Itoa(i) || g.flags != uint32(i) {
				t.Errorf("k%04d = %q flags %d", i, g.value, g.flags)
			}
		}
	}
	if found != itemsBatch {
		t.Fatalf("%d items in the node restored from a dump of %d", found, itemsBatch)
	}
}
