package ninefold

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"syscall"
	"testing"
	"time"
)

// A server the tests run against.
type server struct {
	name    string // memfs, passthrough, diod
	target  string
	aname   string
	export  string // host directory (passthrough, diod)
	metrics string // http://host:port/metrics (ninefold only)
	cmd     *exec.Cmd
}

var servers []*server

// ninefoldBin is the `ninefold` binary: $NINEFOLD_BIN, else the
// workspace's release build.
func ninefoldBin() string {
	if b := os.Getenv("NINEFOLD_BIN"); b != "" {
		return b
	}
	return filepath.Join("..", "..", "target", "release", "ninefold")
}

func TestMain(m *testing.M) {
	code := func() int {
		tmp, err := os.MkdirTemp("", "ninefold-go-")
		if err != nil {
			fmt.Fprintln(os.Stderr, err)
			return 1
		}
		defer os.RemoveAll(tmp)
		defer func() {
			for _, s := range servers {
				s.stop()
			}
		}()
		if err := startServers(tmp); err != nil {
			fmt.Fprintln(os.Stderr, "starting servers:", err)
			return 1
		}
		return m.Run()
	}()
	os.Exit(code)
}

func startServers(tmp string) error {
	// Benchmarks against a server someone else started (bench.sh), so
	// that every client in the comparison talks to the same process.
	if t := os.Getenv("NINEFOLD_BENCH_TARGET"); t != "" {
		servers = append(servers, &server{name: "memfs", target: t})
		return nil
	}
	bin := ninefoldBin()
	if _, err := os.Stat(bin); err != nil {
		return fmt.Errorf("ninefold binary %s: %w (build it with cargo build --release -p ninefold-cli or set NINEFOLD_BIN)", bin, err)
	}
	mem, err := startNinefold(bin, "memfs", "--memory")
	if err != nil {
		return err
	}
	servers = append(servers, mem)
	export := filepath.Join(tmp, "passthrough")
	if err := os.MkdirAll(export, 0o755); err != nil {
		return err
	}
	pt, err := startNinefold(bin, "passthrough", export)
	if err != nil {
		return err
	}
	pt.export = export
	servers = append(servers, pt)
	if os.Getenv("NINEFOLD_GO_SKIP_DIOD") == "1" {
		fmt.Println("NINEFOLD_GO_SKIP_DIOD=1: the diod runs are SKIPPED")
		return nil
	}
	d, err := startDiod(filepath.Join(tmp, "diod"))
	if err != nil {
		return fmt.Errorf("%w (install diod with apt-get install -y diod, or set NINEFOLD_GO_SKIP_DIOD=1 to skip it)", err)
	}
	servers = append(servers, d)
	return nil
}

var (
	listenRe  = regexp.MustCompile(`listening on (tcp://\S+)`)
	metricsRe = regexp.MustCompile(`metrics on (http://\S+/metrics)`)
)

// startNinefold runs `ninefold serve` on ephemeral ports and reads the
// addresses it prints.
func startNinefold(bin, name string, args ...string) (*server, error) {
	all := append([]string{"serve", "--listen", "tcp://127.0.0.1:0", "--metrics", "127.0.0.1:0", "--log", "warn"}, args...)
	cmd := exec.Command(bin, all...)
	out, err := cmd.StdoutPipe()
	if err != nil {
		return nil, err
	}
	cmd.Stderr = os.Stderr
	cmd.SysProcAttr = dieWithUs()
	if err := cmd.Start(); err != nil {
		return nil, err
	}
	s := &server{name: name, cmd: cmd}
	found := make(chan error, 1)
	go func() {
		sc := bufio.NewScanner(out)
		for sc.Scan() {
			line := sc.Text()
			if m := listenRe.FindStringSubmatch(line); m != nil {
				s.target = m[1]
			}
			if m := metricsRe.FindStringSubmatch(line); m != nil {
				s.metrics = m[1]
			}
			if s.target != "" && s.metrics != "" {
				found <- nil
				_, _ = io.Copy(io.Discard, out)
				return
			}
		}
		found <- fmt.Errorf("%s: ninefold serve exited before printing its addresses", name)
	}()
	select {
	case err := <-found:
		if err != nil {
			s.stop()
			return nil, err
		}
	case <-time.After(30 * time.Second):
		s.stop()
		return nil, fmt.Errorf("%s: ninefold serve did not start", name)
	}
	return s, nil
}

// startDiod runs diod on a free port exporting dir (aname = dir).
func startDiod(dir string) (*server, error) { return startDiodLogged(dir, nil) }

// startDiodLogged is startDiod with diod's protocol trace (-d 1) sent to
// log when log is not nil.
func startDiodLogged(dir string, log io.Writer) (*server, error) {
	bin, err := exec.LookPath("diod")
	if err != nil {
		return nil, fmt.Errorf("diod not found: %w", err)
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, err
	}
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, err
	}
	addr := l.Addr().String()
	l.Close()
	args := []string{"-f", "-n", "-l", addr, "-e", dir, "-L", "stderr", "-c", "/dev/null"}
	if log != nil {
		args = append(args, "-d", "1")
	} else {
		log = io.Discard
	}
	cmd := exec.Command(bin, args...)
	cmd.Dir = dir
	cmd.Stdout = log
	cmd.Stderr = log
	cmd.SysProcAttr = dieWithUs()
	if err := cmd.Start(); err != nil {
		return nil, err
	}
	s := &server{name: "diod", target: "tcp://" + addr, aname: dir, export: dir, cmd: cmd}
	deadline := time.Now().Add(20 * time.Second)
	for {
		c, err := net.DialTimeout("tcp", addr, time.Second)
		if err == nil {
			c.Close()
			return s, nil
		}
		if time.Now().After(deadline) {
			s.stop()
			return nil, fmt.Errorf("diod did not listen on %s", addr)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

func (s *server) stop() {
	if s.cmd != nil && s.cmd.Process != nil {
		_ = s.cmd.Process.Kill()
		_ = s.cmd.Wait()
		s.cmd = nil
	}
}

// connect opens a client on s; it is closed when the test ends.
func (s *server) connect(t testing.TB) *Client {
	t.Helper()
	c, err := ClientConnectWith(s.target, ConnectOptions{Aname: s.aname})
	if err != nil {
		t.Fatalf("%s: connect: %v", s.name, err)
	}
	t.Cleanup(func() { c.Close() })
	return c
}

// eachServer runs f as a subtest per server, in a fresh directory
// (whose client path it gets).
func eachServer(t *testing.T, f func(t *testing.T, s *server, c *Client, dir string)) {
	for _, s := range servers {
		t.Run(s.name, func(t *testing.T) {
			c := s.connect(t)
			dir := "/" + strings.NewReplacer("/", "_", " ", "_").Replace(t.Name())
			_ = c.RemoveDirAll(dir)
			if err := c.CreateDirAll(dir, 0o755); err != nil {
				t.Fatalf("mkdir %s: %v", dir, err)
			}
			t.Cleanup(func() { _ = c.RemoveDirAll(dir) })
			f(t, s, c, dir)
		})
	}
}

// server by name.
func byName(t *testing.T, name string) *server {
	for _, s := range servers {
		if s.name == name {
			return s
		}
	}
	t.Fatalf("no %s server", name)
	return nil
}

// scrape sums the Prometheus samples whose line starts with prefix and
// contains every one of labels.
func scrape(t testing.TB, url, prefix string, labels ...string) float64 {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	req, _ := http.NewRequestWithContext(ctx, "GET", url, nil)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatalf("metrics: %v", err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	var total float64
	for _, line := range strings.Split(string(body), "\n") {
		ok := strings.HasPrefix(line, prefix)
		for _, l := range labels {
			ok = ok && strings.Contains(line, l)
		}
		if ok {
			var v float64
			f := strings.Fields(line)
			if _, err := fmt.Sscan(f[len(f)-1], &v); err == nil {
				total += v
			}
		}
	}
	return total
}

// dieWithUs makes a server the tests start die with the test binary, so
// that a timeout or crash leaves no server behind (holding `go test`'s
// output pipe open, which would keep `go test` waiting).
func dieWithUs() *syscall.SysProcAttr {
	return &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
}
