// Package p9ref benchmarks github.com/hugelgupf/p9's native-Go client
// against the server named by NINEFOLD_BENCH_TARGET (tcp://host:port),
// as a reference row beside the ninefold Go package (bindings/go/bench.sh
// runs both against one `ninefold serve`). Benchmark code only; it is its
// own module so the ninefold package has no dependencies.
package p9ref

import (
	"bytes"
	"net"
	"os"
	"strings"
	"testing"

	"github.com/hugelgupf/p9/p9"
)

const benchMiB = 256

// statBatch: stats per iteration (as in the main package's BenchmarkStat).
const statBatch = 1000

func attach(b *testing.B) (p9.File, func()) {
	target := os.Getenv("NINEFOLD_BENCH_TARGET")
	if target == "" {
		b.Skip("NINEFOLD_BENCH_TARGET is not set")
	}
	conn, err := net.Dial("tcp", strings.TrimPrefix(target, "tcp://"))
	if err != nil {
		b.Fatal(err)
	}
	cli, err := p9.NewClient(conn, p9.WithMessageSize(1<<20))
	if err != nil {
		b.Fatal(err)
	}
	root, err := cli.Attach("")
	if err != nil {
		b.Fatal(err)
	}
	return root, func() { root.Close(); cli.Close() }
}

// create makes (or truncates) name under root, open for writing.
func create(b *testing.B, root p9.File, name string) p9.File {
	_, dir, err := root.Walk(nil)
	if err != nil {
		b.Fatal(err)
	}
	if _, f, err := dir.Walk([]string{name}); err == nil {
		f.Close()
		_, f, _ = root.Walk([]string{name})
		if _, _, err := f.Open(p9.WriteOnly); err != nil {
			b.Fatal(err)
		}
		dir.Close()
		return f
	}
	f, _, _, err := dir.Create(name, p9.WriteOnly, 0o644, p9.UID(os.Geteuid()), p9.GID(os.Getegid()))
	if err != nil {
		b.Fatal(err)
	}
	return f
}

func BenchmarkWrite256MiB(b *testing.B) {
	root, done := attach(b)
	defer done()
	data := bytes.Repeat([]byte{0x5a}, benchMiB<<20)
	b.SetBytes(int64(len(data)))
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		f := create(b, root, "bench-p9-w.bin")
		if n, err := f.WriteAt(data, 0); err != nil || n != len(data) {
			b.Fatal(n, err)
		}
		f.Close()
	}
	b.ReportMetric(float64(benchMiB*b.N)/b.Elapsed().Seconds(), "MiB/s")
}

func BenchmarkRead256MiB(b *testing.B) {
	root, done := attach(b)
	defer done()
	data := bytes.Repeat([]byte{0x5a}, benchMiB<<20)
	f := create(b, root, "bench-p9-r.bin")
	if _, err := f.WriteAt(data, 0); err != nil {
		b.Fatal(err)
	}
	f.Close()
	buf := make([]byte, len(data))
	b.SetBytes(int64(len(data)))
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		_, f, err := root.Walk([]string{"bench-p9-r.bin"})
		if err != nil {
			b.Fatal(err)
		}
		if _, _, err := f.Open(p9.ReadOnly); err != nil {
			b.Fatal(err)
		}
		if n, err := f.ReadAt(buf, 0); err != nil || n != len(buf) {
			b.Fatal(n, err)
		}
		f.Close()
	}
	b.ReportMetric(float64(benchMiB*b.N)/b.Elapsed().Seconds(), "MiB/s")
}

func BenchmarkStat(b *testing.B) {
	root, done := attach(b)
	defer done()
	f := create(b, root, "bench-p9-stat")
	f.Close()
	b.ResetTimer()
	for i := 0; i < b.N*statBatch; i++ {
		_, f, err := root.Walk([]string{"bench-p9-stat"})
		if err != nil {
			b.Fatal(err)
		}
		if _, _, _, err := f.GetAttr(p9.AttrMaskAll); err != nil {
			b.Fatal(err)
		}
		f.Close()
	}
	b.ReportMetric(float64(b.N*statBatch)/b.Elapsed().Seconds(), "ops/s")
}
