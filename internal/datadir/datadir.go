package datadir

import (
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strconv"
	"strings"
)

// LockFile is the name of the lock file inside the data directory.
const LockFile = "amqpemu.lock"

// ErrLocked is wrapped by the error Acquire returns when another process
// holds the directory.
var ErrLocked = errors.New("in use by another amqpemu")

// ErrNotDirectory is wrapped by the error Acquire returns when the path
// exists and is not a directory.
var ErrNotDirectory = errors.New("not a directory")

// Lock is a held data-directory lock.
type Lock struct {
	dir string
	f   *os.File
}

// Dir is the absolute path of the locked directory.
func (l *Lock) Dir() string { return l.dir }

// Acquire makes sure dir is a directory (creating it if missing), then
// takes an exclusive, non-blocking lock on DIR/amqpemu.lock and writes this
// process's id into it. The lock lasts until Release or the process's end
// (the OS drops it when the process dies, however it dies). When another
// process holds it, the error wraps ErrLocked and names the directory and
// the holder's pid.
func Acquire(dir string) (*Lock, error) {
	abs, err := filepath.Abs(dir)
	if err != nil {
		return nil, fmt.Errorf("data directory %q: %w", dir, err)
	}
	if err := ensureDir(abs); err != nil {
		return nil, err
	}
	path := filepath.Join(abs, LockFile)
	f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE, 0o644)
	if err != nil {
		return nil, fmt.Errorf("data directory %s: opening the lock file: %w", abs, err)
	}
	locked, err := tryLock(f)
	if err != nil {
		f.Close()
		return nil, fmt.Errorf("data directory %s: locking %s: %w", abs, LockFile, err)
	}
	if !locked {
		holder := readHolder(f)
		f.Close()
		return nil, fmt.Errorf("data directory %s is %w (%s); stop it or give this one another --data",
			abs, ErrLocked, holder)
	}
	if err := writePID(f); err != nil {
		unlock(f)
		f.Close()
		return nil, fmt.Errorf("data directory %s: writing %s: %w", abs, LockFile, err)
	}
	return &Lock{dir: abs, f: f}, nil
}

// ensureDir creates dir if it is missing and refuses anything that is not a
// directory, naming it: a file there would otherwise surface later as an
// obscure TLS or JetStream error.
func ensureDir(dir string) error {
	fi, err := os.Stat(dir)
	switch {
	case errors.Is(err, os.ErrNotExist):
		if err := os.MkdirAll(dir, 0o700); err != nil { // it holds the messages and the CA key
			return fmt.Errorf("data directory %s: %w", dir, err)
		}
		return nil
	case err != nil:
		return fmt.Errorf("data directory %s: %w", dir, err)
	case !fi.IsDir():
		return fmt.Errorf("data directory %s: %w (it is a %s; give --data a directory)", dir, ErrNotDirectory, kind(fi))
	}
	return nil
}

func kind(fi os.FileInfo) string {
	switch m := fi.Mode(); {
	case m.IsRegular():
		return "file"
	case m&os.ModeSymlink != 0:
		return "symbolic link"
	case m&os.ModeNamedPipe != 0:
		return "named pipe"
	case m&os.ModeSocket != 0:
		return "socket"
	case m&os.ModeDevice != 0:
		return "device"
	}
	return "non-directory"
}

// readHolder says which process holds the lock, from the pid it wrote.
func readHolder(f *os.File) string {
	data, err := io.ReadAll(io.LimitReader(f, 64))
	if err != nil {
		return "pid unknown"
	}
	pid, err := strconv.Atoi(strings.TrimSpace(string(data)))
	if err != nil || pid <= 0 {
		return "pid unknown: it is still starting"
	}
	return "pid " + strconv.Itoa(pid)
}

func writePID(f *os.File) error {
	if err := f.Truncate(0); err != nil {
		return err
	}
	if _, err := f.WriteAt([]byte(strconv.Itoa(os.Getpid())+"\n"), 0); err != nil {
		return err
	}
	return f.Sync()
}

// Release drops the lock. The file stays: removing it would let a process
// that opened it before the removal lock a file nobody else sees.
func (l *Lock) Release() error {
	if l == nil || l.f == nil {
		return nil
	}
	err := errors.Join(unlock(l.f), l.f.Close())
	l.f = nil
	return err
}
