//go:build !unix

package datadir

import "os"

// tryLock: no advisory lock on this platform; the pid file is still
// written, and the embedded JetStream's own store lock is the guard.
func tryLock(*os.File) (bool, error) { return true, nil }

func unlock(*os.File) error { return nil }
