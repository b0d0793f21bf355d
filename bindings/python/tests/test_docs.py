"""docs/PYTHON.md: every code block runs (against a memfs server), and every
public call of the package is documented there."""

from __future__ import annotations

import re

import pytest

import ninefold
from conftest import REPO, get_server

DOC = REPO / "docs" / "PYTHON.md"


def blocks() -> list[str]:
    return re.findall(r"```python\n(.*?)```", DOC.read_text(), re.S)


@pytest.mark.parametrize("index", range(len(blocks())))
def test_block_runs(index: int) -> None:
    s = get_server("memfs")
    code = blocks()[index].replace("tcp://127.0.0.1:5564", s.target)
    host, port = s.target.removeprefix("tcp://").split(":")
    code = code.replace("127.0.0.1:5564", f"{host}:{port}").replace("port=5564", f"port={port}")
    exec(compile(code, f"{DOC.name}[{index}]", "exec"), {"__name__": "__doc_block__"})


@pytest.mark.parametrize(
    "cls",
    [
        ninefold.Client,
        ninefold.File,
        ninefold.Dir,
        ninefold.SyncClient,
        ninefold.SyncFile,
        ninefold.SyncDir,
        ninefold.Metadata,
        ninefold.DirEntry,
    ],
)
def test_every_call_documented(cls: type) -> None:
    text = DOC.read_text()
    missing = [
        n
        for n in dir(cls)
        if not n.startswith("_")
        and f"`{n}" not in text
        and f"{n}(" not in text
        and f"{n}`" not in text
    ]
    assert not missing, f"{cls.__name__}: undocumented {missing}"
