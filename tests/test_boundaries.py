"""The house rules that code review alone let slip: only dashboard/aws and dashboard/sandbox
import boto3 or botocore; nothing loads from a CDN."""

from __future__ import annotations

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
AWS_IMPORT = re.compile(r"^\s*(import|from)\s+(boto3|botocore)\b", re.MULTILINE)
CDN = re.compile(r"https?://(cdn\.|unpkg\.com|cdnjs\.|[\w.]*jsdelivr\.net|fonts\.googleapis)")


def test_only_the_aws_layer_and_the_sandbox_import_boto3_or_botocore() -> None:
    allowed = (ROOT / "dashboard" / "aws", ROOT / "dashboard" / "sandbox")
    offenders = [
        str(path.relative_to(ROOT))
        for path in (ROOT / "dashboard").rglob("*.py")
        if not path.is_relative_to(allowed[0])
        and not path.is_relative_to(allowed[1])
        and AWS_IMPORT.search(path.read_text())
    ]
    assert offenders == []


def test_no_page_or_script_loads_from_a_cdn() -> None:
    files = [*(ROOT / "templates").rglob("*.html"), *(ROOT / "static").rglob("*.js")]
    files += list((ROOT / "static").rglob("*.css"))
    offenders = [str(p.relative_to(ROOT)) for p in files if CDN.search(p.read_text())]
    assert offenders == []
