#!/usr/bin/env python3
"""Golden byte vectors for ninefold-proto, built from the wire layouts alone.

Every vector is packed field by field from the reference documents
(kernel-interop.md section 20, zerofs-dialect.md sections 2.2, 3.2, 4 and 5),
never from the crate's encoder, so tests/vectors.rs can catch a mistake on
either side. Run from anywhere:

    python3 crates/ninefold-proto/tests/vectors/gen.py

It (re)writes tests/vectors/<dialect>/<name>.bin next to this script, where
<dialect> is base (9P2000), u (9P2000.u), l (9P2000.L) or z (9P2000.L.Z).
The output is deterministic: running it twice gives identical files.

Conventions (kernel-interop.md 20.1): integers little-endian; string =
len[2] + bytes; qid = type[1] version[4] path[8]; frame = size[4] type[1]
tag[2] body, with size counting the whole frame.

Values are chosen to be distinct in every field (a swapped or mis-sized field
changes the bytes), not to be realistic.
"""

import os
import struct

HERE = os.path.dirname(os.path.abspath(__file__))


# ---------------------------------------------------------------- primitives


def u8(v):
    return struct.pack("<B", v)


def u16(v):
    return struct.pack("<H", v)


def u32(v):
    return struct.pack("<I", v)


def u64(v):
    return struct.pack("<Q", v)


def s(b):
    """string: len[2] + raw bytes (not necessarily UTF-8)."""
    assert isinstance(b, bytes)
    return u16(len(b)) + b


def qid(ty, version, path):
    """qid: type[1] version[4] path[8] (13 bytes)."""
    out = b"".join([
        u8(ty),          # qid.type
        u32(version),    # qid.version
        u64(path),       # qid.path
    ])
    assert len(out) == 13
    return out


def frame(ty, tag, *fields):
    """size[4] type[1] tag[2] body; size counts the whole frame."""
    body = b"".join(fields)
    size = 4 + 1 + 2 + len(body)
    return b"".join([
        u32(size),       # size
        u8(ty),          # type
        u16(tag),        # tag
        body,
    ])


def rstat(tag, record):
    """Rstat (125): n[2] stat[n], where the stat record is size[2] + record
    and n counts the record including its size field (n = size + 2)."""
    return frame(
        125, tag,                   # Rstat
        u16(len(record) + 2),       # n[2] = size + 2
        u16(len(record)),           # size[2] (bytes after itself)
        record,                     # the rest of the stat record
    )


def envelope(op_id, flags, origin_writer_epoch):
    """zerofs-dialect.md 4.1: op_id[16] flags[1] origin_writer_epoch[8]."""
    assert len(op_id) == 16
    out = b"".join([
        op_id,                      # op_id[16]          (frame offset 7)
        u8(flags),                  # flags[1]           (frame offset 23)
        u64(origin_writer_epoch),   # origin_writer_epoch[8] (frame offset 24)
    ])
    assert len(out) == 25
    return out


def attr(a):
    """The 145-byte attribute block (kernel-interop.md 20.5,
    zerofs-dialect.md 3.2). Comments give the offset from the 3.2 table."""
    out = b"".join([
        qid(a["qid_type"], a["qid_version"], a["qid_path"]),  # 0 qid[13]
        u32(a["mode"]),           # 13  mode[4]
        u32(a["uid"]),            # 17  uid[4]
        u32(a["gid"]),            # 21  gid[4]
        u64(a["nlink"]),          # 25  nlink[8]
        u64(a["rdev"]),           # 33  rdev[8]
        u64(a["size"]),           # 41  size[8]
        u64(a["blksize"]),        # 49  blksize[8]
        u64(a["blocks"]),         # 57  blocks[8]
        u64(a["atime_sec"]),      # 65  atime_sec[8]
        u64(a["atime_nsec"]),     # 73  atime_nsec[8]
        u64(a["mtime_sec"]),      # 81  mtime_sec[8]
        u64(a["mtime_nsec"]),     # 89  mtime_nsec[8]
        u64(a["ctime_sec"]),      # 97  ctime_sec[8]
        u64(a["ctime_nsec"]),     # 105 ctime_nsec[8]
        u64(a["btime_sec"]),      # 113 btime_sec[8]
        u64(a["btime_nsec"]),     # 121 btime_nsec[8]
        u64(a["gen"]),            # 129 gen[8]
        u64(a["data_version"]),   # 137 data_version[8]
    ])
    assert len(out) == 145
    # Spot-check offsets against the zerofs-dialect.md 3.2 table.
    assert out[13:17] == u32(a["mode"])
    assert out[41:49] == u64(a["size"])
    assert out[137:145] == u64(a["data_version"])
    return out


# ------------------------------------------------------------ constants

S_IFDIR = 0o040000
S_IFREG = 0o100000
QTDIR = 0x80
QTSYMLINK = 0x02
QTFILE = 0x00
DT_DIR = 4
DT_REG = 8
DMSYMLINK = 0x02000000
NOTAG = 0xFFFF
NOFID = 0xFFFFFFFF

# Attribute block A: a regular file (l/rgetattr.bin).
ATTR_A = dict(
    qid_type=QTFILE, qid_version=0x65A1B2C3, qid_path=0x000000ABCDEF0123,
    mode=S_IFREG | 0o644, uid=1000, gid=100,
    nlink=2, rdev=0x803, size=0x0000000100001234, blksize=4096,
    blocks=0x000000000080000A,  # ceil(size / 512)
    atime_sec=1700000001, atime_nsec=101000001,
    mtime_sec=1700000002, mtime_nsec=202000002,
    ctime_sec=1700000003, ctime_nsec=303000003,
    btime_sec=1600000004, btime_nsec=404000004,
    gen=0x5EED0005, data_version=0x00000DA7A0000006,
)
assert ATTR_A["blocks"] == (ATTR_A["size"] + 511) // 512

# Attribute block B: a newly created file (z/rlcreateattr.bin).
ATTR_B = dict(
    qid_type=QTFILE, qid_version=0x00000017, qid_path=0x0000000000BEEF01,
    mode=S_IFREG | 0o640, uid=1001, gid=1002,
    nlink=1, rdev=0x0000000000000004, size=0x0000000000000003, blksize=8192,
    blocks=0x0000000000000005,
    atime_sec=1710000011, atime_nsec=11,
    mtime_sec=1710000012, mtime_nsec=12,
    ctime_sec=1710000013, ctime_nsec=13,
    btime_sec=1710000014, btime_nsec=14,
    gen=0x0000000000000015, data_version=0x0000000000000016,
)

# Attribute block C: a directory, the end of a walk (z/rwalkgetattr.bin).
ATTR_C = dict(
    qid_type=QTDIR, qid_version=0x00C0FFEE, qid_path=0x0000000000000333,
    mode=S_IFDIR | 0o755, uid=2001, gid=2002,
    nlink=7, rdev=0x0000000000000009, size=0x0000000000001000, blksize=65536,
    blocks=0x0000000000000008,
    atime_sec=1720000021, atime_nsec=210000021,
    mtime_sec=1720000022, mtime_nsec=220000022,
    ctime_sec=1720000023, ctime_nsec=230000023,
    btime_sec=1720000024, btime_nsec=240000024,
    gen=0x0000000000000025, data_version=0x0000000000000026,
)

# A UUIDv4-shaped op_id (zerofs-dialect.md 4.1); bytes 12..16 read as a
# huge count when the frame is misread as plain 9P2000.L.
OP_ID_WRITE = bytes.fromhex("3f2a9c4e7b1d4e8a9c5f0d6e1b2a3c4d")
OP_ID_CREATE = bytes.fromhex("a1b2c3d4e5f647089a1b2c3d4e5f6071")
OP_ID_SETATTR = bytes.fromhex("0badcafe12344321a5a55a5ac3c33c3c")

WRITE_DATA = b"hello, ninefold"


# -------------------------------------------------------------- vectors

def vectors():
    v = {}

    # ---------------------------------------------------------- 9P2000.L.Z

    # zerofs-dialect.md 2.2: the captured Tversion, byte for byte.
    v["z/tversion.bin"] = frame(
        100, NOTAG,                 # Tversion, tag NOTAG
        u32(1048576),               # msize[4]
        s(b"9P2000.L.Z"),           # version[s]
    )
    # The capture as printed in zerofs-dialect.md 2.2.
    assert v["z/tversion.bin"] == bytes.fromhex(
        "17 00 00 00  64  ff ff  00 00 10 00  0a 00  39 50 32 30 30 30 2e 4c 2e 5a"
    ), v["z/tversion.bin"].hex()

    # zerofs-dialect.md 2.2: the captured Tgetlineage (233, tag 0, empty).
    v["z/tgetlineage.bin"] = frame(
        233, 0x0000,                # Tgetlineage, tag 0
    )
    assert v["z/tgetlineage.bin"] == bytes.fromhex("07 00 00 00  e9  00 00")

    # zerofs-dialect.md 5.5: Rgetlineage token[8] writer_epoch[8]; size 23.
    v["z/rgetlineage.bin"] = frame(
        234, 0x0000,                # Rgetlineage, tag 0
        u64(0x1122334455667788),    # token[8]
        u64(0x0000000500000003),    # writer_epoch[8]
    )
    assert len(v["z/rgetlineage.bin"]) == 23

    # zerofs-dialect.md 4.2: Twrite in .Z = header env fid offset count data;
    # fixed overhead 48 bytes.
    v["z/twrite.bin"] = frame(
        118, 0x2007,                # Twrite
        envelope(
            OP_ID_WRITE,            # op_id[16]
            0x01,                   # flags[1] = RETRY
            0x0000000500000003,     # origin_writer_epoch[8]
        ),
        u32(0x00000011),            # fid[4]
        u64(0x0000000100000200),    # offset[8]
        u32(len(WRITE_DATA)),       # count[4]
        WRITE_DATA,                 # data[count]
    )
    assert len(v["z/twrite.bin"]) - len(WRITE_DATA) == 48

    # zerofs-dialect.md 5.7: Tlcreateattr env dfid newfid name flags mode gid.
    v["z/tlcreateattr.bin"] = frame(
        238, 0x2008,                # Tlcreateattr
        envelope(
            OP_ID_CREATE,           # op_id[16]
            0x00,                   # flags[1] (first attempt)
            0x0000000000000006,     # origin_writer_epoch[8]
        ),
        u32(0x00000003),            # dfid[4]
        u32(0x00000004),            # newfid[4]
        s(b"report.txt"),           # name[s]
        u32(0o102),                 # flags[4] = P9_DOTL_RDWR | P9_DOTL_CREATE
        u32(S_IFREG | 0o640),       # mode[4]
        u32(1002),                  # gid[4]
    )

    # zerofs-dialect.md 5.7: Rlcreateattr iounit[4] THEN stat[145].
    v["z/rlcreateattr.bin"] = frame(
        239, 0x2008,                # Rlcreateattr
        u32(0x00002000),            # iounit[4]
        attr(ATTR_B),               # stat[145]
    )
    assert len(v["z/rlcreateattr.bin"]) == 7 + 149

    # zerofs-dialect.md 5.11: Twalkgetattr fid newfid nwname nwname*wname[s].
    v["z/twalkgetattr.bin"] = frame(
        252, 0x2009,                # Twalkgetattr
        u32(0x00000001),            # fid[4]
        u32(0x00000002),            # newfid[4]
        u16(3),                     # nwname[2]
        s(b"home"),                 # wname[0]
        s(b"alice"),                # wname[1]
        s(b"docs"),                 # wname[2]
    )

    # zerofs-dialect.md 5.11: Rwalkgetattr nwqid nwqid*qid[13] stat[145].
    v["z/rwalkgetattr.bin"] = frame(
        253, 0x2009,                # Rwalkgetattr
        u16(3),                     # nwqid[2]
        qid(QTDIR, 0x00000101, 0x0000000000000111),   # wqid[0]
        qid(QTDIR, 0x00000202, 0x0000000000000222),   # wqid[1]
        qid(QTDIR, 0x00C0FFEE, 0x0000000000000333),   # wqid[2] (= stat qid)
        attr(ATTR_C),               # stat[145]
    )

    # zerofs-dialect.md 5.9: Tsetattrattr env fid valid mode uid gid size
    # atime_sec atime_nsec mtime_sec mtime_nsec.
    v["z/tsetattrattr.bin"] = frame(
        248, 0x200A,                # Tsetattrattr
        envelope(
            OP_ID_SETATTR,          # op_id[16]
            0x00,                   # flags[1]
            0x0000000000000007,     # origin_writer_epoch[8]
        ),
        u32(0x00000021),            # fid[4]
        u32(0x000001BF),            # valid[4] = MODE|UID|GID|SIZE|ATIME|MTIME|ATIME_SET|MTIME_SET
        u32(0o600),                 # mode[4]
        u32(1003),                  # uid[4]
        u32(1004),                  # gid[4]
        u64(0x0000000200001000),    # size[8]
        u64(1650000001),            # atime_sec[8]
        u64(123456789),             # atime_nsec[8]
        u64(1650000002),            # mtime_sec[8]
        u64(987654321),             # mtime_nsec[8]
    )

    # zerofs-dialect.md 5.3: Rlopenatread qid iounit eof[1] count[4] data.
    script = b"#!/bin/sh\necho hi\n"
    v["z/rlopenatread.bin"] = frame(
        231, 0x200B,                # Rlopenatread
        qid(QTFILE, 0x0000000C, 0x0000000000000077),  # qid[13]
        u32(0x00001000),            # iounit[4]
        u8(1),                      # eof[1]
        u32(len(script)),           # count[4]
        script,                     # data[count]
    )
    assert len(v["z/rlopenatread.bin"]) - len(script) == 29

    # zerofs-dialect.md 5.10: Trebind fid inode_id root_inode flags uname
    # n_uname; uname in the binary credential form.
    creds = b"".join([
        u8(0xFF),                   # binary marker
        u8(0x01),                   # version
        u32(100),                   # gid[4] (primary)
        u8(2),                      # count[1] (no incomplete bit)
        u32(10),                    # gid[0]
        u32(20),                    # gid[1]
    ])
    assert len(creds) == 7 + 4 * 2
    v["z/trebind.bin"] = frame(
        250, 0x200C,                # Trebind
        u32(0x00000031),            # fid[4]
        u64(0x0000000100000077),    # inode_id[8]
        u64(0x0000000000000002),    # root_inode[8]
        u8(0x03),                   # flags[1] = REPLAY | OPENED
        s(creds),                   # uname[s]
        u32(1000),                  # n_uname[4]
    )

    # ------------------------------------------------------------ 9P2000.L

    # kernel-interop.md 20.4: Rgetattr valid[8] + 145-byte block.
    v["l/rgetattr.bin"] = frame(
        25, 0x3001,                 # Rgetattr
        u64(0x17FF),                # valid[8] = BASIC | GEN
        attr(ATTR_A),               # attributes[145]
    )
    assert len(v["l/rgetattr.bin"]) == 7 + 8 + 145

    # kernel-interop.md 20.4: Rreaddir count[4] data[count]; entries
    # qid[13] offset[8] type[1] name[s].
    entries = b"".join([
        # entry 0: "."
        qid(QTDIR, 0x00000005, 0x000000000000002A),   # qid[13]
        u64(1),                     # offset[8] (cookie)
        u8(DT_DIR),                 # type[1]
        s(b"."),                    # name[s]
        # entry 1: ".."
        qid(QTDIR, 0x00000006, 0x0000000000000001),   # qid[13]
        u64(2),                     # offset[8]
        u8(DT_DIR),                 # type[1]
        s(b".."),                   # name[s]
        # entry 2: "caf\xe9" (Latin-1, not UTF-8)
        qid(QTFILE, 0x00000007, 0x0000000000010003),  # qid[13]
        u64(3),                     # offset[8]
        u8(DT_REG),                 # type[1]
        s(b"caf\xe9"),              # name[s]
    ])
    v["l/rreaddir.bin"] = frame(
        41, 0x3002,                 # Rreaddir
        u32(len(entries)),          # count[4]
        entries,                    # data[count]
    )

    # kernel-interop.md 20.4: Rlerror ecode[4]; size 11.
    v["l/rlerror.bin"] = frame(
        7, 0x3003,                  # Rlerror
        u32(2),                     # ecode[4] = ENOENT
    )
    assert len(v["l/rlerror.bin"]) == 11

    # kernel-interop.md 20.2/20.4: Twrite in plain .L: no envelope; overhead 23.
    v["l/twrite.bin"] = frame(
        118, 0x2007,                # Twrite
        u32(0x00000011),            # fid[4]
        u64(0x0000000100000200),    # offset[8]
        u32(len(WRITE_DATA)),       # count[4]
        WRITE_DATA,                 # data[count]
    )
    assert len(v["l/twrite.bin"]) - len(WRITE_DATA) == 23

    # kernel-interop.md 20.4: .L Tattach uses the .u form (+ n_uname[4]).
    v["l/tattach.bin"] = frame(
        104, 0x3004,                # Tattach
        u32(0x00000010),            # fid[4]
        u32(NOFID),                 # afid[4]
        s(b"alice"),                # uname[s]
        s(b"/export"),              # aname[s]
        u32(1000),                  # n_uname[4]
    )

    # ------------------------------------------------------------ 9P2000.u

    # kernel-interop.md 20.3: stat + extension[s] n_uid[4] n_gid[4] n_muid[4];
    # a symlink (DMSYMLINK, extension = target).
    target = b"../target/file"
    ustat = b"".join([
        u16(0x0009),                # type[2]
        u32(0x00000803),            # dev[4]
        qid(QTSYMLINK, 0x0000000B, 0x0000000000000099),  # qid[13]
        u32(DMSYMLINK | 0o777),     # mode[4]
        u32(1600000011),            # atime[4]
        u32(1600000012),            # mtime[4]
        u64(len(target)),           # length[8]
        s(b"link"),                 # name[s]
        s(b"alice"),                # uid[s]
        s(b"staff"),                # gid[s]
        s(b"bob"),                  # muid[s]
        s(target),                  # extension[s]
        u32(1000),                  # n_uid[4]
        u32(50),                    # n_gid[4]
        u32(1001),                  # n_muid[4]
    ])
    v["u/rstat.bin"] = rstat(0x4001, ustat)

    # kernel-interop.md 20.3: Rerror ename[s] errno[4].
    v["u/rerror.bin"] = frame(
        107, 0x4002,                # Rerror
        s(b"Permission denied"),    # ename[s]
        u32(13),                    # errno[4] = EACCES
    )

    # -------------------------------------------------------------- 9P2000

    # kernel-interop.md 20.2: Rstat n[2] stat[n]; stat = size[2] type[2]
    # dev[4] qid[13] mode[4] atime[4] mtime[4] length[8] name uid gid muid.
    bstat = b"".join([
        u16(0x0007),                # type[2]
        u32(0x00000301),            # dev[4]
        qid(QTFILE, 0x00000004, 0x0000000000000088),  # qid[13]
        u32(0o644),                 # mode[4]
        u32(1600000001),            # atime[4]
        u32(1600000002),            # mtime[4]
        u64(0x0000000100000005),    # length[8]
        s(b"notes.txt"),            # name[s]
        s(b"glenda"),               # uid[s]
        s(b"sys"),                  # gid[s]
        s(b"bootes"),               # muid[s]
    ])
    v["base/rstat.bin"] = rstat(0x5001, bstat)

    # kernel-interop.md 20.2: Rerror ename[s] only.
    v["base/rerror.bin"] = frame(
        107, 0x5002,                # Rerror
        s(b"file does not exist"),  # ename[s]
    )

    # kernel-interop.md 20.2: Tattach fid afid uname aname (no n_uname).
    v["base/tattach.bin"] = frame(
        104, 0x5003,                # Tattach
        u32(0x00000010),            # fid[4]
        u32(NOFID),                 # afid[4]
        s(b"glenda"),               # uname[s]
        s(b""),                     # aname[s] (empty: default tree)
    )

    return v


def main():
    for name, data in sorted(vectors().items()):
        # Every frame's size field must equal its length.
        assert struct.unpack_from("<I", data)[0] == len(data), name
        path = os.path.join(HERE, name)
        os.makedirs(os.path.dirname(path), exist_ok=True)
        with open(path, "wb") as f:
            f.write(data)
        print(f"{name:24} {len(data):4} bytes")


if __name__ == "__main__":
    main()
