package engine

import (
	"bufio"
	"bytes"
	"context"
	"encoding/base64"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"net"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"
)

// A memcached node keeps its items across a graceful stop through a dump
// file in its directory: the stop lists the keys with lru_crawler
// metadump, reads each item with a meta get (value, client flags,
// remaining TTL) and writes the dump; the next start stores the items
// back with meta sets and deletes the file. memcached's own warm restart
// (-e) is not used: it maps and touches a file of the whole -m size,
// which costs the node's full memory limit in RSS and disk.

// Files and limits of the dump.
const (
	// itemsFileName holds a memcached node's items between a graceful
	// stop and the next start.
	itemsFileName = "items.dump"
	// legacyMemoryFile is the warm-restart file of -e that earlier
	// versions of the runner gave memcached: as large as the node's
	// memory limit, and of no use without -e.
	legacyMemoryFile = "memory_file"
	// itemsMagic starts a dump file; the version names the record layout.
	itemsMagic = "elasticache-server memcached items 1\n"
	// defaultItemsTimeout bounds saving a node's items at a stop, and
	// loading them at the next start: past it the rest is lost and the
	// log says how much. The server's shutdown gives every node 30 s.
	defaultItemsTimeout = 20 * time.Second
	// stopMargin is kept of a stop's deadline for memcached to exit after
	// the dump (milliseconds when woken, see wakeMemcached; a second at
	// most when not).
	stopMargin = 3 * time.Second
	// wakePoll is how often a memcached told to stop is woken.
	wakePoll = 20 * time.Millisecond
	// mcKeyMax is memcached's KEY_MAX_LENGTH, for raw and for base64 keys.
	mcKeyMax = 250
	// mcValueMax bounds a value read from a dump or a reply: memcached's
	// largest item size (-I) is 1 GiB.
	mcValueMax = 1 << 30
	// mcRelativeTTLMax is memcached's REALTIME_MAXDELTA: an expiry above
	// 30 days is read as a Unix time, not as seconds from now.
	mcRelativeTTLMax = 30 * 24 * 3600
	// itemsBatch is how many meta gets are in flight at once during a
	// dump: a batch is written while its replies are read.
	itemsBatch = 128
	// crawlerRetry is how often a metadump refused as BUSY (the crawler
	// is on another job) is asked again.
	crawlerRetry = 10 * time.Millisecond
)

// Dump records.
const (
	recItem byte = 'I'
	recEnd  byte = 'E'
)

// mcItem is one memcached item as the dump keeps it.
type mcItem struct {
	key []byte
	// binary says the item was stored with a base64 key (meta "b"), which
	// memcached marks on the item and shows in meta replies; the restore
	// stores it the same way.
	binary bool
	flags  uint32
	// expires is the Unix second the item expires at; 0 is never.
	expires int64
	value   []byte
}

// saveResult is what a dump saved and what it could not.
type saveResult struct {
	// inCache is curr_items when the dump began (expired items
	// included); -1 when the dump could not ask.
	inCache int64
	saved   int64
	// failed counts keys the dump saw but could not save: refused by
	// memcached, or not expressible in the text protocol (a key over
	// 186 bytes holding a space or a line end, set through the binary
	// protocol).
	failed     int64
	firstError string
	bytes      int64
}

// saveMemcachedItems dumps a node's items into its directory before the
// node is stopped, within the runner's items timeout and stop's deadline
// less a margin. A dump cut short keeps what it read; what it did not
// read is lost with the stop, and logged.
func (r *Runner) saveMemcachedItems(ctx context.Context, n *node) {
	// Deadlines are real time; r.now only dates the items' expiry.
	deadline := time.Now().Add(r.itemsTimeout)
	if d, ok := ctx.Deadline(); ok && d.Add(-stopMargin).Before(deadline) {
		deadline = d.Add(-stopMargin)
	}
	dctx, cancel := context.WithDeadline(ctx, deadline)
	defer cancel()
	began := time.Now()
	res, err := dumpMemcached(dctx, hostPort(n.spec), filepath.Join(n.dir, itemsFileName), r.now)
	if err != nil && dctx.Err() != nil {
		// Whatever broke first (a dial, a read), the cause is the deadline.
		err = fmt.Errorf("the dump ran out of time: %w", dctx.Err())
	}
	attrs := []any{"node", n.spec.Key, "saved", res.saved, "items_in_cache", res.inCache, "bytes", res.bytes,
		"took", time.Since(began).Round(time.Millisecond)}
	if res.failed > 0 {
		attrs = append(attrs, "failed", res.failed, "first_failure", res.firstError)
	}
	if err != nil {
		var notSaved any = "all"
		if res.inCache >= 0 {
			notSaved = max(res.inCache-res.saved, res.failed)
		}
		r.log.WarnContext(ctx, "engine: memcached items not all saved; the rest are lost with the stop",
			append(attrs, "not_saved_at_most", notSaved, "err", err)...)
		return
	}
	if res.failed > 0 {
		r.log.WarnContext(ctx, "engine: memcached items saved, some not", attrs...)
		return
	}
	r.log.InfoContext(ctx, "engine: memcached items saved", attrs...)
}

// loadMemcachedItems stores the items of the node's dump file, if any,
// into the node just started, and deletes the file: it is read once, so a
// crash after this start loses the items as it would on AWS. Failures are
// logged; the node runs all the same.
func (r *Runner) loadMemcachedItems(ctx context.Context, s Spec, dir string) {
	path := filepath.Join(dir, itemsFileName)
	if _, err := os.Stat(path); errors.Is(err, fs.ErrNotExist) {
		return
	}
	lctx, cancel := context.WithTimeout(ctx, r.itemsTimeout)
	defer cancel()
	began := time.Now()
	res, err := restoreMemcached(lctx, hostPort(s), path, r.now)
	if rerr := os.Remove(path); rerr != nil && !errors.Is(rerr, fs.ErrNotExist) {
		err = errors.Join(err, rerr)
	}
	attrs := []any{"node", s.Key, "restored", res.restored, "expired", res.expired,
		"took", time.Since(began).Round(time.Millisecond)}
	if res.failed > 0 {
		attrs = append(attrs, "failed", res.failed, "first_failure", res.firstError)
	}
	if err != nil || res.failed > 0 {
		r.log.WarnContext(ctx, "engine: memcached items not all restored", append(attrs, "err", err)...)
		return
	}
	r.log.InfoContext(ctx, "engine: memcached items restored", attrs...)
}

// removeLegacyMemoryFile deletes the warm-restart files an earlier version
// left in dir: memcached no longer runs with -e, and the file is as large
// as the node's memory limit.
func (r *Runner) removeLegacyMemoryFile(ctx context.Context, key, dir string) {
	for _, name := range []string{legacyMemoryFile, legacyMemoryFile + ".meta"} {
		err := os.Remove(filepath.Join(dir, name))
		switch {
		case err == nil:
			r.log.InfoContext(ctx, "engine: removed memcached warm-restart file of an earlier version", "node", key, "file", name)
		case !errors.Is(err, fs.ErrNotExist):
			r.log.WarnContext(ctx, "engine: removing memcached warm-restart file", "node", key, "file", name, "err", err)
		}
	}
}

// wakeMemcached connects to a memcached that was sent SIGTERM, every
// wakePoll until it has ended or ctx ends: memcached's main loop checks
// its stop flag only when it wakes, for its once-a-second clock or for a
// connection, so without this every stop costs up to a second.
func wakeMemcached(ctx context.Context, n *node) {
	t := time.NewTicker(wakePoll)
	defer t.Stop()
	for {
		var d net.Dialer
		dctx, cancel := context.WithTimeout(ctx, wakePoll)
		if c, err := d.DialContext(dctx, "tcp", hostPort(n.spec)); err == nil {
			c.Close()
		}
		cancel()
		select {
		case <-n.done:
			return
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}

// dialMemcached connects to addr; the connection ends with ctx (its
// deadline, or a close when ctx is cancelled). stop releases the watch.
func dialMemcached(ctx context.Context, addr string) (c net.Conn, stop func() bool, err error) {
	var d net.Dialer
	c, err = d.DialContext(ctx, "tcp", addr)
	if err != nil {
		return nil, nil, err
	}
	if dl, ok := ctx.Deadline(); ok {
		_ = c.SetDeadline(dl)
	}
	return c, context.AfterFunc(ctx, func() { c.Close() }), nil
}

// dumpMemcached writes the items of the memcached at addr to path (through
// a temporary file and a rename). When ctx ends first, the items read so
// far are written and ctx's error returned.
func dumpMemcached(ctx context.Context, addr, path string, now func() time.Time) (saveResult, error) {
	res := saveResult{inCache: -1}
	data, stop, err := dialMemcached(ctx, addr)
	if err != nil {
		return res, err
	}
	defer stop()
	defer data.Close()
	dr := bufio.NewReader(data)
	if res.inCache, err = currItems(data, dr); err != nil {
		res.inCache = -1
		return res, fmt.Errorf("stats: %w", err)
	}
	keys, closeKeys, err := metadump(ctx, addr)
	if err != nil {
		return res, err
	}
	defer closeKeys()

	tmp := path + ".tmp"
	f, err := os.OpenFile(tmp, os.O_WRONLY|os.O_CREATE|os.O_TRUNC, 0o600)
	if err != nil {
		return res, err
	}
	defer os.Remove(tmp) // a no-op after the rename
	w := &countingWriter{w: f}
	bw := bufio.NewWriterSize(w, 64<<10)
	bw.WriteString(itemsMagic)

	var dumpErr error
	batch := make([][]byte, 0, itemsBatch)
	for done := false; !done && dumpErr == nil; {
		batch = batch[:0]
		for len(batch) < itemsBatch {
			key, err := keys()
			if errors.Is(err, io.EOF) {
				done = true
				break
			}
			var bad *badKeyLine
			if errors.As(err, &bad) {
				res.failed++
				if res.firstError == "" {
					res.firstError = bad.Error()
				}
				continue
			}
			if err != nil {
				dumpErr = err
				break
			}
			batch = append(batch, key)
		}
		if len(batch) > 0 {
			if err := getBatch(ctx, data, dr, batch, now, &res, func(it mcItem) error {
				res.saved++
				return writeItem(bw, it)
			}); err != nil {
				dumpErr = err
			}
		}
	}
	if dumpErr != nil && ctx.Err() != nil {
		// The connections were closed by the deadline: say so, not
		// "use of closed network connection".
		dumpErr = ctx.Err()
	}
	bw.WriteByte(recEnd)
	bw.Write(binary.AppendUvarint(nil, uint64(res.saved)))
	werr := bw.Flush()
	if werr == nil {
		werr = f.Sync()
	}
	if cerr := f.Close(); werr == nil {
		werr = cerr
	}
	if werr == nil {
		werr = os.Rename(tmp, path)
	}
	if werr != nil {
		res.saved = 0
		return res, errors.Join(dumpErr, fmt.Errorf("writing %s: %w", path, werr))
	}
	res.bytes = w.n
	return res, dumpErr
}

// countingWriter counts the bytes written through it.
type countingWriter struct {
	w io.Writer
	n int64
}

func (c *countingWriter) Write(p []byte) (int, error) {
	n, err := c.w.Write(p)
	c.n += int64(n)
	return n, err
}

// currItems asks memcached's stats for curr_items.
func currItems(c net.Conn, r *bufio.Reader) (int64, error) {
	if _, err := io.WriteString(c, "stats\r\n"); err != nil {
		return 0, err
	}
	var n int64 = -1
	for {
		line, err := readLine(r)
		if err != nil {
			return 0, err
		}
		if line == "END" {
			break
		}
		if v, ok := strings.CutPrefix(line, "STAT curr_items "); ok {
			n, _ = strconv.ParseInt(v, 10, 64)
		} else if !strings.HasPrefix(line, "STAT ") {
			return 0, fmt.Errorf("stats answered %q", line)
		}
	}
	if n < 0 {
		return 0, errors.New("stats has no curr_items")
	}
	return n, nil
}

// metadump starts lru_crawler metadump all on a connection of its own
// (the crawler streams to it until END) and returns a reader of the raw
// keys it lists, io.EOF at the end, and a close. A crawler busy with
// another job is asked again until ctx ends.
func metadump(ctx context.Context, addr string) (next func() ([]byte, error), closeFn func(), err error) {
	for {
		c, stop, err := dialMemcached(ctx, addr)
		if err != nil {
			return nil, nil, err
		}
		closeFn := func() { stop(); c.Close() }
		r := bufio.NewReader(c)
		if _, err := io.WriteString(c, "lru_crawler metadump all\r\n"); err != nil {
			closeFn()
			return nil, nil, err
		}
		first, err := readLine(r)
		if err != nil {
			closeFn()
			return nil, nil, err
		}
		switch {
		case strings.HasPrefix(first, "BUSY"):
			closeFn()
			t := time.NewTimer(crawlerRetry)
			select {
			case <-ctx.Done():
				t.Stop()
				return nil, nil, ctx.Err()
			case <-t.C:
			}
			continue
		case first == "END" || strings.HasPrefix(first, "NOTSTARTED"):
			closeFn()
			return func() ([]byte, error) { return nil, io.EOF }, func() {}, nil
		case !strings.HasPrefix(first, "key="):
			closeFn()
			return nil, nil, fmt.Errorf("lru_crawler metadump answered %q", first)
		}
		pending := first
		next := func() ([]byte, error) {
			line := pending
			pending = ""
			if line == "" {
				if line, err = readLine(r); err != nil {
					return nil, err
				}
			}
			if line == "END" {
				return nil, io.EOF
			}
			return metadumpKey(line)
		}
		return next, closeFn, nil
	}
}

// badKeyLine is a metadump line whose key cannot be read: that item is
// not saved, the others are.
type badKeyLine struct{ line string }

func (e *badKeyLine) Error() string {
	return fmt.Sprintf("metadump line %q has no readable key", e.line)
}

// metadumpKey is the raw key of a metadump line ("key=<uri-encoded> exp=
// ..."): memcached %-encodes every byte but letters, digits and -._~.
func metadumpKey(line string) ([]byte, error) {
	bad := &badKeyLine{line: line}
	enc, ok := strings.CutPrefix(line, "key=")
	if !ok {
		return nil, bad
	}
	enc, _, _ = strings.Cut(enc, " ")
	key := make([]byte, 0, len(enc))
	for i := 0; i < len(enc); i++ {
		if enc[i] != '%' {
			key = append(key, enc[i])
			continue
		}
		if i+2 >= len(enc) {
			return nil, bad
		}
		b, err := strconv.ParseUint(enc[i+1:i+3], 16, 8)
		if err != nil {
			return nil, bad
		}
		key = append(key, byte(b))
		i += 2
	}
	if len(key) == 0 || len(key) > mcKeyMax {
		return nil, bad
	}
	return key, nil
}

// keyToken is how key is written in a meta command: as it is when the
// text protocol can carry it, else base64 with the "b" flag (which
// memcached also records on an item it stores). ok is false for a key
// neither can carry (over 186 bytes with a space, CR, LF or NUL: only
// the binary protocol sets those).
func keyToken(key []byte, binaryKey bool) (tok string, b64, ok bool) {
	plain := !binaryKey && len(key) <= mcKeyMax && bytes.IndexAny(key, " \r\n\x00") < 0
	switch {
	case plain:
		return string(key), false, true
	case base64.StdEncoding.EncodedLen(len(key)) <= mcKeyMax:
		return base64.StdEncoding.EncodeToString(key), true, true
	}
	return "", false, false
}

// getBatch reads the items of keys with pipelined meta gets (value,
// client flags, remaining TTL, key) and hands each found one to save. A
// key gone since the crawl (expired, evicted, deleted) is skipped; one
// memcached refuses is counted in res.failed.
func getBatch(ctx context.Context, c net.Conn, r *bufio.Reader, keys [][]byte, now func() time.Time, res *saveResult, save func(mcItem) error) error {
	var req bytes.Buffer
	sent := make([]bool, len(keys))
	for i, k := range keys {
		tok, b64, ok := keyToken(k, false)
		if !ok {
			res.failed++
			if res.firstError == "" {
				res.firstError = fmt.Sprintf("key %q cannot be read through the text protocol", k)
			}
			continue
		}
		sent[i] = true
		req.WriteString("mg ")
		req.WriteString(tok)
		if b64 {
			req.WriteString(" b")
		}
		// k last: memcached writes a binary item's key as base64 and " b".
		req.WriteString(" v f t k\r\n")
	}
	// Written while the replies are read, so that neither side waits on
	// a full socket buffer.
	wrote := make(chan error, 1)
	go func() {
		_, err := c.Write(req.Bytes())
		wrote <- err
	}()
	err := readBatch(ctx, r, keys, sent, now, res, save)
	if err != nil {
		c.Close() // unblocks the writer
	}
	if werr := <-wrote; err == nil {
		err = werr
	}
	return err
}

// readBatch reads the replies of getBatch's meta gets, in order.
func readBatch(ctx context.Context, r *bufio.Reader, keys [][]byte, sent []bool, now func() time.Time, res *saveResult, save func(mcItem) error) error {
	at := now().Unix()
	for i, k := range keys {
		if !sent[i] {
			continue
		}
		// Replies already buffered would be read after the deadline.
		if err := ctx.Err(); err != nil {
			return err
		}
		line, err := readLine(r)
		if err != nil {
			return err
		}
		if line == "EN" || strings.HasPrefix(line, "EN ") { // a miss echoes k
			continue
		}
		f := strings.Split(line, " ")
		if f[0] != "VA" {
			res.failed++
			if res.firstError == "" {
				res.firstError = fmt.Sprintf("mg %q: %s", k, line)
			}
			if strings.HasPrefix(line, "CLIENT_ERROR") || strings.HasPrefix(line, "SERVER_ERROR") || line == "ERROR" {
				continue
			}
			return fmt.Errorf("mg %q answered %q", k, line)
		}
		if len(f) < 5 || !strings.HasPrefix(f[2], "f") || !strings.HasPrefix(f[3], "t") {
			return fmt.Errorf("mg %q answered %q", k, line)
		}
		size, err1 := strconv.ParseUint(f[1], 10, 64)
		flags, err2 := strconv.ParseUint(f[2][1:], 10, 32)
		ttl, err3 := strconv.ParseInt(f[3][1:], 10, 64)
		if err1 != nil || err2 != nil || err3 != nil || size > mcValueMax {
			return fmt.Errorf("mg %q answered %q", k, line)
		}
		value := make([]byte, size+2)
		if _, err := io.ReadFull(r, value); err != nil {
			return err
		}
		if !bytes.HasSuffix(value, []byte("\r\n")) {
			return fmt.Errorf("mg %q: value not ended by CRLF", k)
		}
		it := mcItem{key: k, flags: uint32(flags), value: value[:size]}
		// A binary item's key comes back base64 and flagged; a text key
		// comes back as it is, and cannot hold this (it is longer).
		bk := " k" + base64.StdEncoding.EncodeToString(k) + " b"
		it.binary = strings.HasSuffix(line, bk) || strings.Contains(line, bk+" ")
		if ttl >= 0 {
			it.expires = at + ttl
		}
		if err := save(it); err != nil {
			return err
		}
	}
	return nil
}

// readLine reads one reply line without its CRLF (metadump ends lines
// with a bare LF).
func readLine(r *bufio.Reader) (string, error) {
	line, err := r.ReadString('\n')
	if err != nil {
		if errors.Is(err, io.EOF) && line != "" {
			err = io.ErrUnexpectedEOF
		}
		return "", err
	}
	return strings.TrimRight(line, "\r\n"), nil
}

// writeItem appends one item record: kind, key length and key, key kind
// (1 = base64 key), client flags, expiry (Unix seconds, 0 never), value
// length and value; the numbers are varints.
func writeItem(w *bufio.Writer, it mcItem) error {
	b := make([]byte, 0, 32+len(it.key))
	b = append(b, recItem)
	b = binary.AppendUvarint(b, uint64(len(it.key)))
	b = append(b, it.key...)
	if it.binary {
		b = append(b, 1)
	} else {
		b = append(b, 0)
	}
	b = binary.AppendUvarint(b, uint64(it.flags))
	b = binary.AppendVarint(b, it.expires)
	b = binary.AppendUvarint(b, uint64(len(it.value)))
	if _, err := w.Write(b); err != nil {
		return err
	}
	_, err := w.Write(it.value)
	return err
}

// errBadDump says a dump file is not one this runner wrote, or is damaged.
var errBadDump = errors.New("damaged or foreign items dump")

// readItem reads the next record: an item, or io.EOF at the end record
// (whose count must match the items read, n).
func readItem(r *bufio.Reader, n int64) (mcItem, error) {
	var it mcItem
	kind, err := r.ReadByte()
	if err != nil {
		return it, fmt.Errorf("%w: no end record", errBadDump)
	}
	bad := func(what string) (mcItem, error) {
		return mcItem{}, fmt.Errorf("%w: record %d: %s", errBadDump, n+1, what)
	}
	switch kind {
	case recEnd:
		count, err := binary.ReadUvarint(r)
		if err != nil || int64(count) != n {
			return bad(fmt.Sprintf("end record counts %d items, read %d", count, n))
		}
		return it, io.EOF
	case recItem:
	default:
		return bad(fmt.Sprintf("unknown record kind %q", kind))
	}
	klen, err := binary.ReadUvarint(r)
	if err != nil || klen == 0 || klen > mcKeyMax {
		return bad("bad key length")
	}
	it.key = make([]byte, klen)
	if _, err := io.ReadFull(r, it.key); err != nil {
		return bad("short key")
	}
	kk, err := r.ReadByte()
	if err != nil || kk > 1 {
		return bad("bad key kind")
	}
	it.binary = kk == 1
	flags, err := binary.ReadUvarint(r)
	if err != nil || flags > 1<<32-1 {
		return bad("bad flags")
	}
	it.flags = uint32(flags)
	if it.expires, err = binary.ReadVarint(r); err != nil {
		return bad("bad expiry")
	}
	vlen, err := binary.ReadUvarint(r)
	if err != nil || vlen > mcValueMax {
		return bad("bad value length")
	}
	it.value = make([]byte, vlen)
	if _, err := io.ReadFull(r, it.value); err != nil {
		return bad("short value")
	}
	return it, nil
}

// restoreResult is what a restore stored, skipped and failed.
type restoreResult struct {
	restored, expired, failed int64
	firstError                string
}

// restoreMemcached stores the items of the dump at path into the
// memcached at addr with quiet meta sets (only failures answer), keeping
// client flags and the remaining TTL; items expired by now are skipped.
func restoreMemcached(ctx context.Context, addr, path string, now func() time.Time) (restoreResult, error) {
	var res restoreResult
	f, err := os.Open(path)
	if err != nil {
		return res, err
	}
	defer f.Close()
	fr := bufio.NewReaderSize(f, 64<<10)
	magic := make([]byte, len(itemsMagic))
	if _, err := io.ReadFull(fr, magic); err != nil || string(magic) != itemsMagic {
		return res, fmt.Errorf("%s: %w: no header", path, errBadDump)
	}
	c, stop, err := dialMemcached(ctx, addr)
	if err != nil {
		return res, err
	}
	defer stop()
	defer c.Close()

	// Replies are read while the sets are written: only failures answer
	// before the closing MN.
	type replies struct {
		failed int64
		first  string
		err    error
	}
	done := make(chan replies, 1)
	go func() {
		var rp replies
		r := bufio.NewReader(c)
		for {
			line, err := readLine(r)
			if err != nil {
				rp.err = err
				break
			}
			if line == "MN" {
				break
			}
			rp.failed++
			if rp.first == "" {
				rp.first = line
			}
		}
		done <- rp
	}()

	cw := bufio.NewWriterSize(c, 64<<10)
	var (
		sent    int64
		readErr error
		at      = now().Unix()
	)
	for n := int64(0); ; n++ {
		it, err := readItem(fr, n)
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			readErr = fmt.Errorf("%s: %w", path, err)
			break
		}
		var ttl int64
		if it.expires != 0 {
			ttl = it.expires - at
			if ttl <= 0 {
				res.expired++
				continue
			}
			if ttl > mcRelativeTTLMax {
				ttl = it.expires // memcached reads it as a Unix time
			}
		}
		tok, b64, ok := keyToken(it.key, it.binary)
		if !ok {
			res.failed++
			if res.firstError == "" {
				res.firstError = fmt.Sprintf("key %q cannot be stored through the text protocol", it.key)
			}
			continue
		}
		cw.WriteString("ms ")
		cw.WriteString(tok)
		cw.WriteString(" ")
		cw.WriteString(strconv.Itoa(len(it.value)))
		if b64 {
			cw.WriteString(" b")
		}
		fmt.Fprintf(cw, " F%d T%d q\r\n", it.flags, ttl)
		cw.Write(it.value)
		if _, err := cw.WriteString("\r\n"); err != nil {
			break // the connection is gone; the reader says why
		}
		sent++
	}
	cw.WriteString("mn\r\n")
	werr := cw.Flush()
	// ctx's end closes the connection, which ends the reader.
	rp := <-done
	res.failed += rp.failed
	if res.firstError == "" {
		res.firstError = rp.first
	}
	res.restored = sent - rp.failed
	connErr := rp.err
	if connErr == nil && werr != nil {
		connErr = werr
	}
	if connErr != nil {
		// restored is then what was sent: the last of it may not be
		// stored, which the error says.
		if ctx.Err() != nil {
			connErr = ctx.Err()
		}
		return res, errors.Join(readErr, connErr)
	}
	return res, readErr
}
