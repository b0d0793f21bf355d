#!/usr/bin/env python3
"""Generate the tree for the kernel tar suite (runs on the HOST).

gen-tree.py DIR [NFILES] [SEED]: creates DIR/ with NFILES regular files
(default 3000) in nested directories (up to 5 levels), deterministic for a
given SEED. Sizes are varied: empty files, a few bytes, a few KiB, tens of
KiB, up to 140 KB, and one 1-2 MiB file per thousand (larger than one
256 KiB msize); about 15 MB in all, half random bytes and half compressible text. Also: empty
directories, symlinks (relative, dangling, to a directory), one hard-link
pair (links/hard-a, links/hard-b), modes 600/640/444/755, names with
spaces, dashes and long (200-byte) names.
"""
import os
import random
import sys

root = sys.argv[1]
nfiles = int(sys.argv[2]) if len(sys.argv) > 2 else 3000
rng = random.Random(int(sys.argv[3]) if len(sys.argv) > 3 else 9)

WORDS = b"ninefold walk open read write clunk attach version getattr readdir " \
        b"lcreate mkdir rename unlink fsync statfs xattr lock symlink link\n"


def size(i):
    if i % 1000 == 500:
        return rng.randint(1 << 20, 2 << 20)
    r = rng.random()
    if r < 0.05:
        return 0
    if r < 0.30:
        return rng.randint(1, 200)
    if r < 0.80:
        return rng.randint(200, 4096)
    if r < 0.97:
        return rng.randint(4096, 32768)
    return rng.randint(32768, 140_000)


def data(n):
    if rng.random() < 0.5:
        return rng.randbytes(n)
    start = rng.randrange(len(WORDS))
    reps = (WORDS * (n // len(WORDS) + 2))[start:start + n]
    return reps


os.makedirs(root)
dirs = [root]
# ~100 directories, nested up to 5 levels below root
for i in range(100):
    parent = rng.choice([d for d in dirs if d.count(os.sep) - root.count(os.sep) < 5])
    name = rng.choice(["d%03d" % i, "dir %03d" % i, "sub-%03d.x" % i])
    d = os.path.join(parent, name)
    os.makedirs(d)
    dirs.append(d)
for i in range(5):
    os.makedirs(os.path.join(rng.choice(dirs), "empty%d" % i))
for i in range(nfiles):
    d = rng.choice(dirs)
    if i % 500 == 7:
        name = ("long%04d-" % i) + "n" * 191
    else:
        name = rng.choice(["f%05d" % i, "file %05d.txt" % i, "blob-%05d.bin" % i])
    p = os.path.join(d, name)
    with open(p, "wb") as f:
        f.write(data(size(i)))
    os.chmod(p, rng.choice([0o644, 0o644, 0o644, 0o600, 0o640, 0o444, 0o755]))
links = os.path.join(root, "links")
os.makedirs(links)
with open(os.path.join(links, "hard-a"), "wb") as f:
    f.write(b"hard link contents\n")
os.link(os.path.join(links, "hard-a"), os.path.join(links, "hard-b"))
os.symlink("hard-a", os.path.join(links, "sym-rel"))
os.symlink("does/not/exist", os.path.join(links, "sym-dangling"))
os.symlink("..", os.path.join(links, "sym-dir"))
os.symlink("/etc/hostname", os.path.join(links, "sym-abs"))
for d in dirs[1:20]:
    os.chmod(d, 0o750)
