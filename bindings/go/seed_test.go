package ninefold

import (
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// TestSeedExample builds examples/seed (the spec's Go example) and runs
// it against ninefold serve (memfs) over TCP.
func TestSeedExample(t *testing.T) {
	s := byName(t, "memfs")
	bin := filepath.Join(t.TempDir(), "seed")
	build := exec.Command("go", "build", "-o", bin, "./examples/seed")
	if out, err := build.CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	out, err := exec.Command(bin, s.target).CombinedOutput()
	if err != nil {
		t.Fatalf("seed example: %v\n%s", err, out)
	}
	text := string(out)
	if !strings.Contains(text, "17 bytes, size=17, isFile=true") || !strings.Contains(text, "notes.txt") {
		t.Fatalf("seed example output:\n%s", text)
	}
	c := s.connect(t)
	must(t, c.RemoveDirAll("/demo"))
}
