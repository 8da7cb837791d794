"""Installs are locked and the lock is what runs: requirements/*.txt pin every package to one
version with hashes, inside the ranges pyproject.toml declares; the run and test locks agree; the
environment the tests run in is the test lock; every package the code imports is declared."""

from __future__ import annotations

import ast
import importlib.metadata
import re
import sys
import tomllib
from pathlib import Path

import pytest
from packaging.requirements import Requirement
from packaging.utils import canonicalize_name

ROOT = Path(__file__).resolve().parent.parent
PYPROJECT = tomllib.loads((ROOT / "pyproject.toml").read_text())
PIN = re.compile(r"^([A-Za-z0-9][A-Za-z0-9._-]*)==([^\s;\\]+)")


def _lock(name: str) -> dict[str, str]:
    """{package: version} of a lock file; every pin carries at least one hash."""
    pins: dict[str, str] = {}
    text = (ROOT / "requirements" / name).read_text()
    for entry in re.split(r"\n(?=\S)", text):
        match = PIN.match(entry)
        if not match:
            continue
        assert "--hash=sha256:" in entry, f"{name}: {match.group(1)} has no hash"
        pins[canonicalize_name(match.group(1))] = match.group(2)
    assert pins, f"{name} pins nothing"
    return pins


def _declared(extra: str | None = None) -> list[Requirement]:
    items = PYPROJECT["project"]["dependencies"]
    if extra:
        items = items + PYPROJECT["project"]["optional-dependencies"][extra]
    return [Requirement(item) for item in items]


@pytest.mark.parametrize(("lock", "extra"), [("run.txt", None), ("test.txt", "test")])
def test_the_lock_pins_every_declared_package_inside_its_range(lock, extra):
    pins = _lock(lock)
    outside = {
        str(req): pins.get(canonicalize_name(req.name))
        for req in _declared(extra)
        if pins.get(canonicalize_name(req.name)) not in req.specifier
        or canonicalize_name(req.name) not in pins
    }
    assert not outside, f"{lock} is stale for these (run `make lock`): {outside}"


def test_the_run_and_test_locks_agree_on_every_shared_package():
    run, test = _lock("run.txt"), _lock("test.txt")
    differ = {name: (version, test.get(name)) for name, version in run.items()}
    differ = {name: pair for name, pair in differ.items() if pair[0] != pair[1]}
    assert not differ, f"run.txt and test.txt pin these differently: {differ}"


def test_the_tests_run_on_exactly_the_test_lock():
    pins = _lock("test.txt")
    installed = {
        canonicalize_name(dist.metadata["Name"]): dist.version
        for dist in importlib.metadata.distributions()
    }
    differ = {
        name: (version, installed.get(name))
        for name, version in pins.items()
        if installed.get(name) != version
    }
    assert not differ, f"installed packages differ from requirements/test.txt: {differ}"


def _imported_modules() -> set[str]:
    names: set[str] = set()
    for folder in ("dashboard", "tests", "bench"):
        for path in (ROOT / folder).rglob("*.py"):
            for node in ast.walk(ast.parse(path.read_text(), str(path))):
                if isinstance(node, ast.Import):
                    names.update(alias.name.split(".")[0] for alias in node.names)
                elif isinstance(node, ast.ImportFrom) and node.module and not node.level:
                    names.add(node.module.split(".")[0])
    return names


def test_every_imported_package_is_declared_in_pyproject():
    distributions = importlib.metadata.packages_distributions()
    declared = {canonicalize_name(req.name) for req in _declared("test")}
    # The project's own packages, and the bench scripts some tests import as top-level modules.
    ours = {"dashboard", "tests", "bench"} | {path.stem for path in (ROOT / "bench").glob("*.py")}
    undeclared: dict[str, list[str]] = {}
    imported = _imported_modules() - ours - set(sys.stdlib_module_names)
    assert {"django", "boto3", "channels"} <= imported  # the walk found the code's imports
    for module in sorted(imported):
        owners = {canonicalize_name(name) for name in distributions.get(module, [])}
        if not owners & declared:
            undeclared[module] = sorted(owners) or ["(not installed)"]
    assert not undeclared, f"imported but not declared in pyproject.toml: {undeclared}"
