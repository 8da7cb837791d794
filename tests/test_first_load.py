"""The board's first load in production settings (DEBUG off, collectstatic done, daphne) with
an empty browser cache stays small: the HTML is compressed, every static file is compressed and
cached for good under its cache-busting name, and the whole load is at most 60 KB transferred.
The measurement is bench/first_load.py's (which prints the table the README quotes)."""

from __future__ import annotations

import os
import shutil
import signal
import sys
import tempfile
from pathlib import Path

import pytest

from tests.browser_support import require_chromium

pytestmark = pytest.mark.browser

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "bench"))


def test_the_boards_first_load_is_compressed_cached_and_small():
    require_chromium()
    import first_load

    tmp = Path(tempfile.mkdtemp(prefix="console-first-load-test-"))
    process, url, password = first_load.serve(tmp)
    try:
        rows = first_load.measure(url, password)
    finally:
        os.killpg(process.pid, signal.SIGTERM)
        process.wait(timeout=10)
        shutil.rmtree(tmp, ignore_errors=True)
    document = next(r for r in rows if r["type"] == "document")
    assert document["status"] == 200 and "/tasks/" in str(document["url"])
    assert document["encoding"] == "gzip"
    statics = [r for r in rows if str(r["url"]).startswith("/static/") and r["body"]]
    assert {r["type"] for r in statics} >= {"stylesheet", "script"}
    for r in statics:
        assert r["encoding"] in ("gzip", "br"), r
        assert "immutable" in str(r["cache"]) and "max-age=315360000" in str(r["cache"]), r
        assert "." in Path(str(r["url"])).stem, r  # a cache-busting (hashed) name
    total = sum(int(r["bytes"]) for r in rows)
    assert total <= first_load.GOAL, rows
