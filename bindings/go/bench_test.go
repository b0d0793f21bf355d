package ninefold

import (
	"bytes"
	"fmt"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"testing"
)

// Benchmarks against ninefold serve (memfs), with the Rust client doing
// the same work against the same server in the same run when
// NINEFOLD_RUST_REF names the rust_ref example
// (cargo build --release -p ninefold-capi --example rust_ref);
// bindings/go/bench.sh does all of it and prints the ratios.

const benchMiB = 256

// statBatch is how many stats one iteration of BenchmarkStat makes, so
// that a small fixed -benchtime (bench.sh runs 3x) still times thousands.
const statBatch = 1000

// rustRef runs the Rust reference client b.N times and reports its time.
func rustRef(b *testing.B, s *server, op, path string, mib int) {
	rustRefN(b, s, op, path, mib, 1)
}

// rustRefN is rustRef with per operations in each of b.N iterations.
func rustRefN(b *testing.B, s *server, op, path string, mib, per int) {
	bin := os.Getenv("NINEFOLD_RUST_REF")
	if bin == "" {
		b.Skip("NINEFOLD_RUST_REF is not set: no Rust reference row")
	}
	out, err := exec.Command(bin, "--target", s.target, "--aname", s.aname, "--op", op,
		"--path", path, "--mib", strconv.Itoa(mib), "--iters", strconv.Itoa(b.N*per)).CombinedOutput()
	if err != nil {
		b.Fatalf("rust_ref: %v\n%s", err, out)
	}
	line := strings.TrimSpace(string(out))
	secs, err := strconv.ParseFloat(strings.TrimPrefix(line[strings.LastIndex(line, "secs="):], "secs="), 64)
	if err != nil {
		b.Fatalf("rust_ref output %q", out)
	}
	// Replace the wall clock (process start, connect, setup) with the
	// reference's own measurement.
	b.ReportMetric(secs*1e9/float64(b.N), "ns/op")
	if mib > 0 {
		b.ReportMetric(float64(mib*b.N)/secs, "MiB/s")
	} else {
		b.ReportMetric(float64(b.N*per)/secs, "ops/s")
	}
}

func BenchmarkWrite256MiB(b *testing.B) {
	s := byNameB(b, "memfs")
	data := bytes.Repeat([]byte{0x5a}, benchMiB<<20)
	b.Run("go", func(b *testing.B) {
		c := s.connect(b)
		b.SetBytes(int64(len(data)))
		b.ResetTimer()
		for i := 0; i < b.N; i++ {
			if err := c.Write("/bench-go-w.bin", data); err != nil {
				b.Fatal(err)
			}
		}
		b.ReportMetric(float64(benchMiB*b.N)/b.Elapsed().Seconds(), "MiB/s")
	})
	b.Run("rust", func(b *testing.B) { rustRef(b, s, "write", "/bench-rust-w.bin", benchMiB) })
}

func BenchmarkRead256MiB(b *testing.B) {
	s := byNameB(b, "memfs")
	data := bytes.Repeat([]byte{0x5a}, benchMiB<<20)
	b.Run("go", func(b *testing.B) {
		c := s.connect(b)
		if err := c.Write("/bench-go-r.bin", data); err != nil {
			b.Fatal(err)
		}
		b.SetBytes(int64(len(data)))
		b.ResetTimer()
		for i := 0; i < b.N; i++ {
			got, err := c.Read("/bench-go-r.bin")
			if err != nil || len(got) != len(data) {
				b.Fatal(len(got), err)
			}
		}
		b.ReportMetric(float64(benchMiB*b.N)/b.Elapsed().Seconds(), "MiB/s")
	})
	b.Run("go-readinto", func(b *testing.B) {
		c := s.connect(b)
		if err := c.Write("/bench-go-r.bin", data); err != nil {
			b.Fatal(err)
		}
		f, err := c.Open("/bench-go-r.bin", OpenOptions{Read: true})
		if err != nil {
			b.Fatal(err)
		}
		defer f.Close()
		buf := make([]byte, len(data))
		b.SetBytes(int64(len(data)))
		b.ResetTimer()
		for i := 0; i < b.N; i++ {
			n, err := f.ReadInto(buf, 0)
			if err != nil || n != len(data) {
				b.Fatal(n, err)
			}
		}
		b.ReportMetric(float64(benchMiB*b.N)/b.Elapsed().Seconds(), "MiB/s")
	})
	b.Run("rust", func(b *testing.B) { rustRef(b, s, "read", "/bench-rust-r.bin", benchMiB) })
}

func BenchmarkStat(b *testing.B) {
	s := byNameB(b, "memfs")
	b.Run("go", func(b *testing.B) {
		c := s.connect(b)
		if err := c.Write("/bench-stat", []byte("x")); err != nil {
			b.Fatal(err)
		}
		b.ResetTimer()
		for i := 0; i < b.N*statBatch; i++ {
			if _, err := c.Stat("/bench-stat"); err != nil {
				b.Fatal(err)
			}
		}
		b.ReportMetric(float64(b.N*statBatch)/b.Elapsed().Seconds(), "ops/s")
	})
	b.Run("rust", func(b *testing.B) { rustRefN(b, s, "stat", "/bench-stat-rust", 0, statBatch) })
}

// BenchmarkCallOverhead is one cgo round trip into the library with no
// I/O (Capabilities): the fixed cost each Go call adds.
func BenchmarkCallOverhead(b *testing.B) {
	c := byNameB(b, "memfs").connect(b)
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		if c.Capabilities().Msize == 0 {
			b.Fatal("no capabilities")
		}
	}
}

func byNameB(b *testing.B, name string) *server {
	for _, s := range servers {
		if s.name == name {
			return s
		}
	}
	b.Fatal(fmt.Sprintf("no %s server", name))
	return nil
}
