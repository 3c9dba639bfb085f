package connset

import (
	"context"
	"errors"
	"net"
	"testing"
	"time"
)

// A connection that ends when asked and one that ignores the request: Wait
// returns once the first is gone and, past its deadline, closes the second.
func TestCloseWaitsThenClosesSockets(t *testing.T) {
	var s Set[int]
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	stop := make(chan struct{})
	served := make(chan error, 1)
	n := 0
	go func() {
		served <- s.Serve(ln, func(nc net.Conn) {
			n++
			id, polite := n, n == 1
			s.Go(id, nc, func() {
				if polite {
					<-stop
					nc.Close()
					return
				}
				nc.Read(make([]byte, 1)) // ends only when its socket is closed
			})
		})
	}()
	for range 2 {
		c, err := net.Dial("tcp", ln.Addr().String())
		if err != nil {
			t.Fatal(err)
		}
		defer c.Close()
	}
	deadline := time.Now().Add(5 * time.Second)
	for s.Len() != 2 {
		if time.Now().After(deadline) {
			t.Fatalf("%d connections tracked, want 2", s.Len())
		}
		time.Sleep(time.Millisecond)
	}

	open, first := s.Close()
	if len(open) != 2 || !first {
		t.Fatalf("Close: %v %v", open, first)
	}
	if _, again := s.Close(); again {
		t.Fatal("second Close reported first")
	}
	if err := <-served; !errors.Is(err, ErrClosed) {
		t.Fatalf("Serve returned %v", err)
	}
	close(stop)
	ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
	defer cancel()
	if err := s.Wait(ctx); !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("Wait returned %v, want the deadline", err)
	}
	if s.Len() != 0 {
		t.Fatalf("%d connections left", s.Len())
	}
	if s.Go(3, &net.TCPConn{}, func() { t.Error("ran after Close") }) {
		t.Fatal("Go accepted a connection after Close")
	}
}
