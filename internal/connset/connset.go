// Package connset runs a protocol server's accept loops and keeps track of
// its open connections, so that a shutdown can stop accepting, ask each
// connection to end, wait for them and, past a deadline, close their
// sockets. The AMQP and STOMP servers share it.
package connset

import (
	"context"
	"errors"
	"net"
	"sync"
	"time"
)

// ErrClosed is returned by Serve once Close was called.
var ErrClosed = errors.New("server closed")

// Set is the listeners and connections of one server; C identifies a
// connection. The zero value is ready to use.
type Set[C comparable] struct {
	mu        sync.Mutex
	closing   bool
	listeners map[net.Listener]struct{}
	conns     map[C]net.Conn
	wg        sync.WaitGroup // one per connection
}

// Serve accepts connections on ln and hands each to start, until Close or
// an accept error that is not temporary.
func (s *Set[C]) Serve(ln net.Listener, start func(net.Conn)) error {
	if !s.track(ln) {
		ln.Close()
		return ErrClosed
	}
	defer s.untrack(ln)
	var delay time.Duration
	for {
		nc, err := ln.Accept()
		if err != nil {
			if s.isClosing() {
				return ErrClosed
			}
			var ne net.Error
			if errors.As(err, &ne) && ne.Timeout() {
				delay = min(max(2*delay, 5*time.Millisecond), time.Second)
				time.Sleep(delay) // back off on EMFILE and the like, as net/http does
				continue
			}
			return err
		}
		delay = 0
		start(nc)
	}
}

func (s *Set[C]) track(ln net.Listener) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closing {
		return false
	}
	if s.listeners == nil {
		s.listeners = make(map[net.Listener]struct{})
	}
	s.listeners[ln] = struct{}{}
	return true
}

func (s *Set[C]) untrack(ln net.Listener) {
	s.mu.Lock()
	delete(s.listeners, ln)
	s.mu.Unlock()
}

func (s *Set[C]) isClosing() bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.closing
}

// Go runs serve for connection c (socket nc) on a goroutine of its own and
// tracks it until serve returns. Once Close was called it closes nc instead
// and returns false.
func (s *Set[C]) Go(c C, nc net.Conn, serve func()) bool {
	s.mu.Lock()
	if s.closing {
		s.mu.Unlock()
		nc.Close()
		return false
	}
	if s.conns == nil {
		s.conns = make(map[C]net.Conn)
	}
	s.conns[c] = nc
	s.wg.Add(1)
	s.mu.Unlock()
	go func() {
		defer s.wg.Done()
		serve()
		s.mu.Lock()
		delete(s.conns, c)
		s.mu.Unlock()
	}()
	return true
}

// Len is the number of open connections.
func (s *Set[C]) Len() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.conns)
}

// Close stops accepting: it closes every listener, and Serve and Go refuse
// from now on. It returns the connections open now, for the server to ask
// them to end, and whether this was the first call.
func (s *Set[C]) Close() (open []C, first bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	first = !s.closing
	s.closing = true
	for ln := range s.listeners {
		ln.Close()
	}
	for c := range s.conns {
		open = append(open, c)
	}
	return open, first
}

// Wait waits until every connection has ended. If ctx ends first, it
// closes the sockets of those still open, waits for them and returns
// ctx.Err().
func (s *Set[C]) Wait(ctx context.Context) error {
	done := make(chan struct{})
	go func() { s.wg.Wait(); close(done) }()
	select {
	case <-done:
		return nil
	case <-ctx.Done():
		s.mu.Lock()
		for _, nc := range s.conns {
			nc.Close()
		}
		s.mu.Unlock()
		<-done
		return ctx.Err()
	}
}
