package ninefold

import (
	"context"
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
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

// cancelBlockedOpen opens a FIFO for reading (the server's open(2)
// blocks until a writer comes), waits until the server has the request
// (reached), cancels the context and checks the call returns at once
// with context.Canceled; then it opens the FIFO for writing on the host
// so the server's open can finish.
func cancelBlockedOpen(t *testing.T, c *Client, path, hostFifo string, reached func() bool) {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	done := make(chan error, 1)
	go func() {
		f, err := c.OpenContext(ctx, path, OpenOptions{Read: true})
		if f != nil {
			f.Close()
		}
		done <- err
	}()
	waitFor(t, "the open to reach the server", reached)
	select {
	case err := <-done:
		t.Fatalf("open returned before cancel: %v", err)
	case <-time.After(100 * time.Millisecond):
	}
	t0 := time.Now()
	cancel()
	select {
	case err := <-done:
		var pe *fs.PathError
		if !errors.Is(err, context.Canceled) || !errors.As(err, &pe) || pe.Path != path {
			t.Fatalf("cancelled open: %v", err)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("cancel did not end the call")
	}
	if d := time.Since(t0); d > 2*time.Second {
		t.Fatalf("cancel took %v", d)
	}
	w := make(chan *os.File, 1)
	go func() {
		f, err := os.OpenFile(hostFifo, os.O_WRONLY, 0)
		if err != nil {
			t.Error(err)
		}
		w <- f
	}()
	select {
	case f := <-w:
		if f != nil {
			f.Close()
		}
	case <-time.After(10 * time.Second):
		t.Fatal("the server's open never completed")
	}
}

// cancelBlockedRead opens a FIFO for reading (our server opens it at
// once, non-blocking) and reads it with no writer, so the Tread waits in
// the server; when the server has it (reached), it cancels the context and
// checks the call returns at once with context.Canceled.
func cancelBlockedRead(t *testing.T, c *Client, path string, reached func() bool) {
	f, err := c.Open(path, OpenOptions{Read: true})
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	done := make(chan error, 1)
	go func() {
		_, err := f.ReadAtContext(ctx, 0, 10)
		done <- err
	}()
	waitFor(t, "the read to reach the server", reached)
	select {
	case err := <-done:
		t.Fatalf("read returned before cancel: %v", err)
	case <-time.After(100 * time.Millisecond):
	}
	t0 := time.Now()
	cancel()
	select {
	case err := <-done:
		if !errors.Is(err, context.Canceled) {
			t.Fatalf("cancelled read: %v", err)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("cancel did not end the call")
	}
	if d := time.Since(t0); d > 2*time.Second {
		t.Fatalf("cancel took %v", d)
	}
}

// TestCancelReleasesFidServerSide: against ninefold serve, the metrics
// show the Tread in flight, then (after cancel) no request in flight
// and, once the file is closed, the fid count back to where it was.
func TestCancelReleasesFidServerSide(t *testing.T) {
	s := byName(t, "passthrough")
	c := s.connect(t)
	dir := "/cancel"
	_ = c.RemoveDirAll(dir)
	must1[Metadata](t)(c.CreateDir(dir, 0o755))
	defer c.RemoveDirAll(dir)
	must1[Metadata](t)(c.Mknod(dir+"/fifo", NodeKindFifo{}, 0o666))
	const active, fids = "ninefold_server_active_requests", "ninefold_server_fid_count"
	baseFids := scrape(t, s.metrics, fids)
	cancelBlockedRead(t, c, dir+"/fifo", func() bool {
		return scrape(t, s.metrics, active) >= 1
	})
	waitFor(t, "no request in flight", func() bool { return scrape(t, s.metrics, active) == 0 })
	waitFor(t, "the fid count to return to its baseline", func() bool { return scrape(t, s.metrics, fids) <= baseFids })
	if _, err := c.Stat(dir + "/fifo"); err != nil {
		t.Fatal(err)
	}
}

// syncBuf is a log sink shared with a server's stderr.
type syncBuf struct {
	mu sync.Mutex
	b  strings.Builder
}

func (s *syncBuf) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuf) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// TestCancelFlushesServerSide: against diod with its protocol trace on,
// the server's own log shows the Tflush of the cancelled Tlopen and the
// Tclunk of the fid it had walked.
func TestCancelFlushesServerSide(t *testing.T) {
	if os.Getenv("NINEFOLD_GO_SKIP_DIOD") == "1" {
		t.Skip("NINEFOLD_GO_SKIP_DIOD=1: skipping the diod run")
	}
	dir := t.TempDir()
	log := &syncBuf{}
	s, err := startDiodLogged(dir, log)
	if err != nil {
		t.Fatal(err)
	}
	defer s.stop()
	c := s.connect(t)
	must1[Metadata](t)(c.Mknod("/fifo", NodeKindFifo{}, 0o666))
	lopen := regexp.MustCompile(`P9_TLOPEN tag (\d+) fid (\d+)`)
	cancelBlockedOpen(t, c, "/fifo", filepath.Join(dir, "fifo"), func() bool {
		return lopen.MatchString(log.String())
	})
	m := lopen.FindStringSubmatch(log.String())
	flush := regexp.MustCompile(`P9_TFLUSH tag \d+ oldtag ` + m[1] + `\b`)
	clunk := regexp.MustCompile(`P9_TCLUNK tag \d+ fid ` + m[2] + `\b`)
	waitFor(t, "diod to log the Tflush of tag "+m[1], func() bool { return flush.MatchString(log.String()) })
	waitFor(t, "diod to log the Tclunk of fid "+m[2], func() bool { return clunk.MatchString(log.String()) })
	if testing.Verbose() {
		t.Logf("diod log:\n%s", log.String())
	}
}

// TestDeadline: a context deadline ends a blocked call (a FIFO read with
// no writer) the same way.
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
	f, err := c.Open(dir+"/fifo", OpenOptions{Read: true})
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	t0 := time.Now()
	_, err = f.ReadAtContext(ctx, 0, 10)
	if !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("deadline: %v", err)
	}
	if d := time.Since(t0); d > 3*time.Second {
		t.Fatalf("deadline took %v", d)
	}
}
