"""The house rules that code review alone let slip: only dashboard/aws and dashboard/sandbox
import boto3 or botocore; the console reaches the sandbox only through the transport that
attaches it (and the few places that mount its own HTTP endpoints), never its models; the
sandbox imports nothing from the console's apps; nothing loads from a CDN."""

from __future__ import annotations

import ast
import re
from pathlib import Path

from django.conf import settings

ROOT = Path(__file__).resolve().parent.parent
DASHBOARD = ROOT / "dashboard"
SANDBOX = DASHBOARD / "sandbox"
AWS_IMPORT = re.compile(r"^\s*(import|from)\s+(boto3|botocore)\b", re.MULTILINE)
CDN = re.compile(r"https?://(cdn\.|unpkg\.com|cdnjs\.|[\w.]*jsdelivr\.net|fonts\.googleapis)")

# Outside dashboard/sandbox, these alone may name it, each for one reason:
SANDBOX_DOORS = {
    # The transport: clients are attached to the emulator at botocore's before-send, and
    # signed with the sandbox's credential.
    "dashboard/aws/clients.py",
    # Mounting the sandbox's own HTTP endpoints (browser streams; the OAuth consent page)
    # and installing its app (its models, migrations and the seeding command).
    "dashboard/asgi.py",
    "dashboard/urls.py",
    "dashboard/settings.py",
}


def _module_of(path: Path) -> str:
    parts = list(path.relative_to(ROOT).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def imported_names(path: Path, source: str | None = None) -> set[str]:
    """Every module `path` imports (absolute or relative), and every string constant that
    names a dashboard module (`include("dashboard.sandbox.urls")`, INSTALLED_APPS)."""
    tree = ast.parse(path.read_text() if source is None else source, str(path))
    package = _module_of(path)
    if path.name != "__init__.py":
        package = package.rpartition(".")[0]
    names: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.split(".")
                base = base[: len(base) - (node.level - 1)]
                module = ".".join([*base, *([node.module] if node.module else [])])
            else:
                module = node.module or ""
            names.add(module)
            # `from dashboard import sandbox` imports the package too.
            names.update(f"{module}.{alias.name}" for alias in node.names)
        elif (
            isinstance(node, ast.Constant)
            and isinstance(node.value, str)
            and re.fullmatch(r"dashboard(\.\w+)+", node.value)
        ):
            names.add(node.value)
    return names


def _within(name: str, package: str) -> bool:
    return name == package or name.startswith(package + ".")


def console_apps() -> list[str]:
    """The console's own Django apps: every installed dashboard app but the sandbox."""
    return [
        app
        for app in settings.INSTALLED_APPS
        if app.startswith("dashboard.") and app != "dashboard.sandbox"
    ]


def test_only_the_aws_layer_and_the_sandbox_import_boto3_or_botocore() -> None:
    allowed = (DASHBOARD / "aws", SANDBOX)
    offenders = [
        str(path.relative_to(ROOT))
        for path in DASHBOARD.rglob("*.py")
        if not path.is_relative_to(allowed[0])
        and not path.is_relative_to(allowed[1])
        and AWS_IMPORT.search(path.read_text())
    ]
    assert offenders == []


def test_nothing_outside_the_sandbox_imports_it_but_its_doors() -> None:
    offenders = {
        str(path.relative_to(ROOT)): sorted(
            n for n in imported_names(path) if _within(n, "dashboard.sandbox")
        )
        for path in DASHBOARD.rglob("*.py")
        if not path.is_relative_to(SANDBOX)
        and str(path.relative_to(ROOT)) not in SANDBOX_DOORS
        and any(_within(n, "dashboard.sandbox") for n in imported_names(path))
    }
    assert offenders == {}


def test_the_doors_take_only_the_transport_and_endpoints_never_the_models() -> None:
    for door in SANDBOX_DOORS:
        names = imported_names(ROOT / door)
        assert not any(_within(n, "dashboard.sandbox.models") for n in names), door


def test_the_sandbox_imports_no_console_app() -> None:
    apps = console_apps()
    assert "dashboard.prevention" in apps  # the check has something to check
    offenders = {
        str(path.relative_to(ROOT)): sorted(
            n for n in imported_names(path) if any(_within(n, app) for app in apps)
        )
        for path in SANDBOX.rglob("*.py")
        if any(_within(n, app) for n in imported_names(path) for app in apps)
    }
    assert offenders == {}


def test_the_import_scan_sees_relative_absolute_and_string_imports() -> None:
    # The scan must be able to fail: each form of import is found.
    names = imported_names(
        DASHBOARD / "agentcore" / "probe.py",
        "from ..sandbox import models\n"
        "import dashboard.sandbox.wire\n"
        "from dashboard import sandbox\n"
        "X = 'dashboard.sandbox.urls'\n",
    )
    assert {
        "dashboard.sandbox.models",
        "dashboard.sandbox.wire",
        "dashboard.sandbox",
        "dashboard.sandbox.urls",
    } <= names


def test_no_page_or_script_loads_from_a_cdn() -> None:
    files = [*(ROOT / "templates").rglob("*.html"), *(ROOT / "static").rglob("*.js")]
    files += list((ROOT / "static").rglob("*.css"))
    offenders = [str(p.relative_to(ROOT)) for p in files if CDN.search(p.read_text())]
    assert offenders == []
