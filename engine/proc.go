package engine

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"
)

// Files in a node's directory besides the engine's own data.
const (
	pidFileName  = "pid"
	logFileName  = "engine.log"
	nodeFileName = "node.json"
)

// clockTicks is USER_HZ, the unit of /proc/<pid>/stat's start time. Linux
// fixes it at 100 in its user-space ABI whatever the kernel's HZ.
const clockTicks = 100

// procInfo is what /proc says about a process.
type procInfo struct {
	// state is the one-letter state of /proc/<pid>/stat; 'Z' is a zombie.
	state byte
	// start is the process's start time in clock ticks since boot; with
	// the pid it names one process even after the pid is reused.
	start uint64
	// started is start as wall time (boot time + start).
	started time.Time
	// args is /proc/<pid>/cmdline. redis rewrites it to its process title
	// ("redis-server 127.3.0.7:6379"); memcached leaves its arguments.
	args []string
	// exe is the binary's path, cwd the working directory ("" when the
	// process is another user's and /proc does not tell).
	exe, cwd string
}

// errNoProcess says /proc has no such process.
var errNoProcess = errors.New("no such process")

// readProc reads /proc/<pid>. A process that is gone, or a zombie, is
// errNoProcess: a zombie has ended and only waits for its parent.
func readProc(pid int) (procInfo, error) {
	var p procInfo
	base := "/proc/" + strconv.Itoa(pid)
	stat, err := os.ReadFile(base + "/stat")
	if errors.Is(err, fs.ErrNotExist) || errors.Is(err, syscall.ESRCH) {
		return p, errNoProcess
	}
	if err != nil {
		return p, err
	}
	// The command name in parentheses may hold spaces and parentheses:
	// the fields start after the last ')'.
	i := bytes.LastIndexByte(stat, ')')
	if i < 0 {
		return p, fmt.Errorf("malformed %s/stat", base)
	}
	fields := strings.Fields(string(stat[i+1:]))
	// fields[0] is field 3 (state); start time is field 22.
	if len(fields) < 20 || len(fields[0]) != 1 {
		return p, fmt.Errorf("malformed %s/stat", base)
	}
	p.state = fields[0][0]
	if p.state == 'Z' || p.state == 'X' {
		return p, errNoProcess
	}
	if p.start, err = strconv.ParseUint(fields[19], 10, 64); err != nil {
		return p, fmt.Errorf("malformed %s/stat start time: %w", base, err)
	}
	if bt, err := bootTime(); err == nil {
		p.started = bt.Add(time.Duration(p.start) * time.Second / clockTicks)
	}
	cmdline, err := os.ReadFile(base + "/cmdline")
	if errors.Is(err, fs.ErrNotExist) {
		return p, errNoProcess
	}
	if err != nil {
		return p, err
	}
	for _, a := range strings.Split(strings.TrimRight(string(cmdline), "\x00"), "\x00") {
		// redis' title is one NUL-terminated string padded with NULs;
		// split it into words like the arguments of other processes.
		p.args = append(p.args, strings.Fields(a)...)
	}
	p.exe, _ = os.Readlink(base + "/exe")
	p.cwd, _ = os.Readlink(base + "/cwd")
	return p, nil
}

// bootTime is the machine's boot time from /proc/stat's btime line.
func bootTime() (time.Time, error) {
	b, err := os.ReadFile("/proc/stat")
	if err != nil {
		return time.Time{}, err
	}
	for _, line := range strings.Split(string(b), "\n") {
		if v, ok := strings.CutPrefix(line, "btime "); ok {
			n, err := strconv.ParseInt(strings.TrimSpace(v), 10, 64)
			if err != nil {
				return time.Time{}, err
			}
			return time.Unix(n, 0), nil
		}
	}
	return time.Time{}, errors.New("/proc/stat has no btime")
}

// alive tells whether the process pid that started at start ticks still
// runs. A different start time means the pid now names another process.
func alive(pid int, start uint64) bool {
	p, err := readProc(pid)
	return err == nil && p.start == start
}

// readPidFile returns the pid in a node's pid file and the file's
// modification time; ok is false when there is no pid file.
func readPidFile(path string) (pid int, written time.Time, ok bool, err error) {
	b, err := os.ReadFile(path)
	if errors.Is(err, fs.ErrNotExist) {
		return 0, time.Time{}, false, nil
	}
	if err != nil {
		return 0, time.Time{}, false, err
	}
	st, err := os.Stat(path)
	if err != nil {
		return 0, time.Time{}, false, err
	}
	pid, err = strconv.Atoi(strings.TrimSpace(string(b)))
	if err != nil || pid <= 0 {
		// A torn or foreign file names no process; treat it as stale.
		return 0, st.ModTime(), true, nil
	}
	return pid, st.ModTime(), true, nil
}

// writeFileAtomic writes a small file through a temporary file and a
// rename, so a crash never leaves a half-written pid or node file.
func writeFileAtomic(path string, data []byte) error {
	tmp := path + ".tmp"
	if err := os.WriteFile(tmp, data, 0o600); err != nil {
		return err
	}
	return os.Rename(tmp, path)
}

// nodeFile is node.json: what runs in a node's directory, so that Stop and
// Remove can shut down a node of a previous server that nobody adopted yet
// (a cluster deleted while the server was down) without its Spec.
type nodeFile struct {
	Engine  string `json:"engine"`
	Binary  string `json:"binary"`
	Address string `json:"address"`
	Port    int    `json:"port"`
}

func readNodeFile(dir string) (nodeFile, error) {
	var nf nodeFile
	b, err := os.ReadFile(filepath.Join(dir, nodeFileName))
	if err != nil {
		return nf, err
	}
	if err := json.Unmarshal(b, &nf); err != nil {
		return nf, fmt.Errorf("%s: %w", filepath.Join(dir, nodeFileName), err)
	}
	return nf, nil
}

func writeNodeFile(dir string, nf nodeFile) error {
	b, err := json.Marshal(nf)
	if err != nil {
		return err
	}
	return writeFileAtomic(filepath.Join(dir, nodeFileName), append(b, '\n'))
}

// isNodeProcess tells whether p runs binary bin (by its resolved path:
// Debian's redis-server is a symlink to redis-check-rdb) in dir, the
// node's directory (redis changes to --dir, memcached is started there).
// Nothing else runs in a node's directory, so this holds only for the
// node's own engine.
func isNodeProcess(p procInfo, dir, bin string) bool {
	if p.exe == "" || p.cwd == "" || bin == "" {
		return false
	}
	exe := strings.TrimSuffix(p.exe, " (deleted)") // the binary was upgraded under it
	real, err := filepath.EvalSymlinks(bin)
	if err != nil {
		real = bin
	}
	if exe != real && exe != bin {
		return false
	}
	realDir, err := filepath.EvalSymlinks(dir)
	if err != nil {
		return false
	}
	return p.cwd == realDir
}

// namesListener tells whether the command line of p names binary bin and
// the address and port: redis' title carries "addr:port" ("[addr]:port"
// for IPv6), memcached's arguments "-l addr" and "-p port".
func namesListener(p procInfo, bin, addr string, port int) bool {
	if len(p.args) == 0 || filepath.Base(p.args[0]) != filepath.Base(bin) {
		return false
	}
	ps := strconv.Itoa(port)
	var l, pp bool
	for i, a := range p.args {
		if a == addr+":"+ps || a == "["+addr+"]:"+ps {
			return true
		}
		if i+1 < len(p.args) {
			switch a {
			case "-l":
				l = l || p.args[i+1] == addr
			case "-p":
				pp = pp || p.args[i+1] == ps
			}
		}
	}
	return l && pp
}
