"""The Python example of the client-libraries page, verbatim but for the
module name and the target (``python seed_example.py tcp://127.0.0.1:PORT``)."""

from __future__ import annotations

import asyncio
import sys

import ninefold


async def main(target: str) -> None:
    async with await ninefold.Client.connect(target) as fs:
        await fs.create_dir_all("/demo", 0o755)
        await fs.write("/demo/notes.txt", b"hello from zerofs")
        data = await fs.read("/demo/notes.txt")
        meta = await fs.metadata("/demo/notes.txt")
        print(len(data), meta.size, meta.is_file())
        # A File handle for positioned I/O.
        opts = ninefold.OpenOptions(write=True, create=True)
        async with await fs.open("/demo/data.bin", opts) as f:
            await f.write_at(0, b"\x00" * 4096)
            await f.sync_all()
        # Stream the directory entry by entry.
        async with await fs.open_dir("/demo") as d:
            async for entry in d:
                print(entry.name)
        await fs.rename("/demo/notes.txt", "/demo/notes.md")
        await fs.remove_file("/demo/notes.md")
        await fs.remove_dir_all("/demo")


if __name__ == "__main__":
    asyncio.run(main(sys.argv[1] if len(sys.argv) > 1 else "tcp://127.0.0.1:5564"))
