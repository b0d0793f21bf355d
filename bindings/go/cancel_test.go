package ninefold

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"syscall"
	"testing"
	"time"
)

// waitFor polls cond for up to 10 s.
func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// TestCancelFlushesServerSide opens a FIFO for reading on the
// passthrough server (the server's open blocks until a writer comes),
// cancels the context, and checks on the server's metrics that the
// request was flushed and its fid released.
func TestCancelFlushesServerSide(t *testing.T) {
	s := byName(t, "passthrough")
	c := s.connect(t)
	dir := "/cancel"
	_ = c.RemoveDirAll(dir)
	must1[Metadata](t)(c.CreateDir(dir, 0o755))
	defer c.RemoveDirAll(dir)
	must1[Metadata](t)(c.Mknod(dir+"/fifo", NodeKindFifo{}, 0o666))

	const active, fids, dur = "ninefold_server_active_requests", "ninefold_server_fid_count", "ninefold_server_duration_seconds_count{"
	flushes := func() float64 { return scrape(t, s.metrics, dur, `rpc_method="Tflush"`) }
	baseFids, baseFlush := scrape(t, s.metrics, fids), flushes()

	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() {
		f, err := c.OpenContext(ctx, dir+"/fifo", OpenOptions{Read: true})
		if f != nil {
			f.Close()
		}
		done <- err
	}()
	// The Tlopen is waiting in the server.
	waitFor(t, "the open to reach the server", func() bool { return scrape(t, s.metrics, active) >= 1 })
	select {
	case err := <-done:
		t.Fatalf("open returned before cancel: %v", err)
	case <-time.After(100 * time.Millisecond):
	}
	t0 := time.Now()
	cancel()
	select {
	case err := <-done:
		var pe interface{ Unwrap() error }
		if !errors.Is(err, context.Canceled) || !errors.As(err, &pe) {
			t.Fatalf("cancelled open: %v", err)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("cancel did not end the call")
	}
	if d := time.Since(t0); d > 2*time.Second {
		t.Fatalf("cancel took %v", d)
	}
	// Let the server's open finish: a writer arrives.
	w := make(chan *os.File, 1)
	go func() {
		f, err := os.OpenFile(filepath.Join(s.export, "cancel", "fifo"), os.O_WRONLY, 0)
		if err != nil {
			t.Error(err)
		}
		w <- f
	}()
	select {
	case f := <-w:
		if f != nil {
			defer f.Close()
		}
	case <-time.After(10 * time.Second):
		t.Fatal("the server's open never completed")
	}
	// The server saw a Tflush for it, and every fid the call bound is
	// clunked again.
	waitFor(t, "a Tflush at the server", func() bool { return flushes() > baseFlush })
	waitFor(t, "the fid count to return to its baseline", func() bool { return scrape(t, s.metrics, fids) <= baseFids })
	waitFor(t, "no request in flight", func() bool { return scrape(t, s.metrics, active) == 0 })
	// The client still works.
	if _, err := c.Stat(dir + "/fifo"); err != nil {
		t.Fatal(err)
	}
}

// TestDeadline: a context deadline ends a blocked call the same way.
func TestDeadline(t *testing.T) {
	s := byName(t, "passthrough")
	c := s.connect(t)
	dir := "/deadline"
	_ = c.RemoveDirAll(dir)
	must1[Metadata](t)(c.CreateDir(dir, 0o755))
	defer c.RemoveDirAll(dir)
	must1[Metadata](t)(c.Mknod(dir+"/fifo", NodeKindFifo{}, 0o666))
	ctx, cancel := context.WithTimeout(context.Background(), 300*time.Millisecond)
	defer cancel()
	t0 := time.Now()
	_, err := c.OpenContext(ctx, dir+"/fifo", OpenOptions{Read: true})
	if !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("deadline: %v", err)
	}
	if d := time.Since(t0); d > 3*time.Second {
		t.Fatalf("deadline took %v", d)
	}
	// Unblock the server's open.
	f, err := os.OpenFile(filepath.Join(s.export, "deadline", "fifo"), os.O_WRONLY|syscall.O_NONBLOCK, 0)
	if err == nil {
		f.Close()
	}
}
