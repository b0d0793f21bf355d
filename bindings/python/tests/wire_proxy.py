"""A loopback TCP proxy in front of a 9P server, for tests that need the
server to misbehave at a chosen moment: it forwards whole frames, and can

- rewrite frames on the way (``to_server`` / ``to_client`` hooks),
- stop passing the server's replies on once ``hold_at`` bytes of them went
  through (``held`` is set then; ``release()`` lets them flow again), and
- drop every connection at once (``drop()``: the client reconnects, as it
  does after a network failure), or drop them and refuse new ones
  (``cut()``: the server is gone for good).

Two editors are here too: ``downgrade`` makes the client and server agree
on plain ``9P2000.L`` (so replies have the standard layout), and
``getattr_size(n)`` makes every Rgetattr report a file size of ``n``.
"""

from __future__ import annotations

import socket
import struct
import threading
from collections.abc import Callable

Editor = Callable[[bytearray], bytearray]

TVERSION = 100
RGETATTR = 25
#: Where an Rgetattr carries the size: header (7), valid (8), qid (13),
#: mode, uid, gid (4 each), nlink, rdev (8 each).
RGETATTR_SIZE_AT = 7 + 8 + 13 + 12 + 16


def downgrade(frame: bytearray) -> bytearray:
    """Asks for ``9P2000.L`` where the client asks for ``9P2000.L.Z``."""
    if frame[4] != TVERSION:
        return frame
    (tag, msize, n) = struct.unpack_from("<HIH", frame, 5)
    version = bytes(frame[13 : 13 + n])
    if version != b"9P2000.L.Z":
        return frame
    body = struct.pack("<BHIH", TVERSION, tag, msize, 8) + b"9P2000.L"
    return bytearray(struct.pack("<I", 4 + len(body)) + body)


def getattr_size(size: int) -> Editor:
    """Every Rgetattr says the file is ``size`` bytes long."""

    def edit(frame: bytearray) -> bytearray:
        if frame[4] == RGETATTR and len(frame) >= RGETATTR_SIZE_AT + 8:
            struct.pack_into("<Q", frame, RGETATTR_SIZE_AT, size)
        return frame

    return edit


def _recv_exact(s: socket.socket, n: int) -> bytes | None:
    buf = bytearray()
    while len(buf) < n:
        try:
            chunk = s.recv(n - len(buf))
        except OSError:
            return None
        if not chunk:
            return None
        buf += chunk
    return bytes(buf)


class WireProxy:
    """Listens on a free loopback port (``target``) and forwards each
    connection to ``upstream`` (``tcp://host:port``) frame by frame."""

    def __init__(
        self,
        upstream: str,
        *,
        to_server: Editor | None = None,
        to_client: Editor | None = None,
        hold_at: int | None = None,
    ) -> None:
        host, _, port = upstream.removeprefix("tcp://").rpartition(":")
        self._upstream = (host, int(port))
        self._to_server = to_server
        self._to_client = to_client
        self.hold_at = hold_at
        self.held = threading.Event()
        self._released = threading.Event()
        self._cut = threading.Event()
        #: Bumped by ``drop()``: a pump of an older generation stops.
        self._gen = 0
        self._lock = threading.Lock()
        self._socks: list[socket.socket] = []
        self.to_client_bytes = 0
        self._listener = socket.create_server(("127.0.0.1", 0))
        self.target = f"tcp://127.0.0.1:{self._listener.getsockname()[1]}"
        threading.Thread(target=self._accept, daemon=True).start()

    def _accept(self) -> None:
        while not self._cut.is_set():
            try:
                down, _ = self._listener.accept()
            except OSError:
                return
            try:
                up = socket.create_connection(self._upstream)
            except OSError:
                down.close()
                continue
            for s in (down, up):
                s.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            with self._lock:
                self._socks += [down, up]
                gen = self._gen
            for args in ((down, up, False, gen), (up, down, True, gen)):
                threading.Thread(target=self._pump, args=args, daemon=True).start()

    def _stopped(self, gen: int) -> bool:
        return self._cut.is_set() or gen != self._gen

    def _pump(self, src: socket.socket, dst: socket.socket, replies: bool, gen: int) -> None:
        edit = self._to_client if replies else self._to_server
        while not self._stopped(gen):
            head = _recv_exact(src, 4)
            if head is None:
                break
            (size,) = struct.unpack("<I", head)
            rest = _recv_exact(src, size - 4)
            if rest is None:
                break
            frame = bytearray(head + rest)
            if edit is not None:
                frame = edit(frame)
            if replies and self._hold(gen):
                break
            try:
                dst.sendall(frame)
            except OSError:
                break
            if replies:
                self.to_client_bytes += len(frame)
        try:
            dst.shutdown(socket.SHUT_WR)
        except OSError:
            pass

    def _hold(self, gen: int) -> bool:
        """Waits while replies are held; True once this connection is
        dropped."""
        if self.hold_at is not None and self.to_client_bytes >= self.hold_at:
            self.held.set()
            while not self._released.wait(0.05):
                if self._stopped(gen):
                    return True
        return self._stopped(gen)

    def release(self) -> None:
        """Lets held replies flow again (and stops holding)."""
        self.hold_at = None
        self._released.set()

    def drop(self) -> None:
        """Drops every connection, stops holding, and keeps accepting."""
        self.hold_at = None
        with self._lock:
            self._gen += 1
            socks, self._socks = self._socks, []
        for s in socks:
            try:
                s.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass
            s.close()

    def cut(self) -> None:
        """Drops every connection and stops accepting: the server is gone."""
        self._cut.set()
        try:
            # Wakes the accepting thread (a plain close does not on Linux).
            self._listener.shutdown(socket.SHUT_RDWR)
        except OSError:
            pass
        self._listener.close()
        self.drop()

    def __enter__(self) -> WireProxy:
        return self

    def __exit__(self, *exc: object) -> None:
        self.cut()
