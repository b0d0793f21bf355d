// The Go example of the client-library spec, as written there with only
// the import path changed to this module. The spec connects to
// "unix:/run/zerofs/9p.sock"; a first argument overrides that target
// (the tests pass their server's address).
package main

import (
	"log"
	"os"

	zerofs "github.com/ninefold/ninefold/bindings/go"
)

func main() {
	target := "unix:/run/zerofs/9p.sock"
	if len(os.Args) > 1 {
		target = os.Args[1]
	}

	fs, err := zerofs.ClientConnect(target)
	if err != nil {
		log.Fatal(err)
	}
	defer fs.Close()
	must := func(err error) {
		if err != nil {
			log.Fatal(err)
		}
	}
	must(fs.CreateDirAll("/demo", 0o755))
	must(fs.Write("/demo/notes.txt", []byte("hello from zerofs")))
	data, err := fs.Read("/demo/notes.txt")
	must(err)
	meta, err := fs.Metadata("/demo/notes.txt")
	must(err)
	log.Printf("%d bytes, size=%d, isFile=%v", len(data), meta.Size, meta.IsFile())
	// Stream the directory with a range-over-func iterator.
	dir, err := fs.OpenDir("/demo")
	must(err)
	defer dir.Close()
	for entry, err := range dir.Entries() {
		must(err)
		log.Println(entry.Name)
	}
}
