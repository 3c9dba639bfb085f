package datadir_test

import (
	"errors"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/amqpemu/amqpemu/internal/datadir"
)

func TestSecondLockFailsNamingHolder(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "data")
	l, err := datadir.Acquire(dir)
	if err != nil {
		t.Fatal(err)
	}
	if l.Dir() != dir {
		t.Fatalf("Dir %q, want %q", l.Dir(), dir)
	}
	// flock belongs to the open file description: a second open in this
	// process conflicts like another process would.
	_, err = datadir.Acquire(dir)
	if !errors.Is(err, datadir.ErrLocked) {
		t.Fatalf("second Acquire: %v, want ErrLocked", err)
	}
	for _, want := range []string{dir, "pid " + strconv.Itoa(os.Getpid())} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error %q does not name %q", err, want)
		}
	}
	if err := l.Release(); err != nil {
		t.Fatal(err)
	}
	l2, err := datadir.Acquire(dir)
	if err != nil {
		t.Fatalf("after Release: %v", err)
	}
	l2.Release()
}

func TestRelativeDirIsReportedAbsolute(t *testing.T) {
	t.Chdir(t.TempDir())
	l, err := datadir.Acquire("rel")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Release()
	if !filepath.IsAbs(l.Dir()) || filepath.Base(l.Dir()) != "rel" {
		t.Fatalf("Dir %q", l.Dir())
	}
	_, err = datadir.Acquire("rel")
	if err == nil || !strings.Contains(err.Error(), l.Dir()) {
		t.Fatalf("second Acquire: %v, want the absolute %s", err, l.Dir())
	}
}

func TestFileIsNotADataDirectory(t *testing.T) {
	path := filepath.Join(t.TempDir(), "afile")
	if err := os.WriteFile(path, []byte("x"), 0o644); err != nil {
		t.Fatal(err)
	}
	_, err := datadir.Acquire(path)
	if !errors.Is(err, datadir.ErrNotDirectory) || !strings.Contains(err.Error(), path) {
		t.Fatalf("Acquire(file): %v, want ErrNotDirectory naming %s", err, path)
	}
}
