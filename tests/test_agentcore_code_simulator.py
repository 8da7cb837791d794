"""The sandbox's simulated interpreter and shell on their own: what they evaluate, what they
refuse to simulate (said on stderr, never run), and the bounds that keep a hostile or runaway
input from costing the console more than a moment."""

from __future__ import annotations

import datetime as dt
import time

import pytest

from dashboard.sandbox import code_shell
from dashboard.sandbox.code_sim import MAX_SECONDS, simulate

NOW = dt.datetime(2026, 3, 1, 9, 0, tzinfo=dt.UTC)


def out(code: str, language: str = "python", variables: dict | None = None) -> tuple[str, str]:
    outcome = simulate(code, language, variables)
    return outcome.stdout, outcome.stderr


def test_python_subset_evaluates_like_python():
    code = (
        "rows = [3, 1, 2]\n"
        "total = 0\n"
        "for r in sorted(rows):\n"
        "    if r % 2:\n"
        "        total += r\n"
        "    else:\n"
        "        continue\n"
        "print(f'{total:>4}|', len(rows), max(rows), 'a-b'.split('-'), round(2 / 3, 2))\n"
        "d = {'k': [1, 2]}\n"
        "d['k'].append(3)\n"
        "d\n"
    )
    stdout, stderr = out(code)
    assert stdout == "   4| 3 3 ['a', 'b'] 0.67\n{'k': [1, 2, 3]}\n"
    assert stderr == ""


def test_unsupported_statements_are_reported_and_skipped_not_run():
    stdout, stderr = out(
        "import subprocess\n"
        "def f():\n    return 1\n"
        "with open('/etc/passwd') as fh:\n    print(fh.read())\n"
        "print('still here')\n"
    )
    assert stdout == "still here\n"
    assert "line 1: import subprocess is not simulated" in stderr
    assert "line 2: defining a function is not simulated" in stderr
    assert "line 4: a with block is not simulated" in stderr


def test_errors_read_like_tracebacks_and_stop_the_run():
    outcome = simulate("x = 1\nprint(x)\nprint(y)\nprint('never')", "python")
    assert outcome.stdout == "1\n"
    assert "line 3, in <module>\nNameError: name 'y' is not defined" in outcome.stderr
    assert outcome.exit_code == 1


@pytest.mark.parametrize(
    ("code", "said"),
    [
        ("while True:\n    pass", "more than 100,000 steps"),
        ("print(10 ** 100000)", "larger than 4096 bits"),
        ("s = 'x' * 10 ** 7", "more than 100,000"),
        ("l = [0]\nfor i in range(40):\n    l = [l, l]\nprint(l)", "prints as more than"),
        ("l = []\nl.append(l)\nprint(l)", "prints as more than"),
        ("print(f'{1:>99999999}')", "width or precision of 1000"),
        ("for i in range(10 ** 9):\n    pass", "range of more than"),
    ],
)
def test_runaway_inputs_are_stopped_quickly(code, said):
    began = time.monotonic()
    outcome = simulate(code, "python")
    assert time.monotonic() - began < MAX_SECONDS + 1
    assert said in outcome.stderr
    assert outcome.exit_code == 1


def test_deeply_nested_code_is_refused_not_crashed():
    outcome = simulate("x = " + "(" * 500 + "1" + ")" * 500, "python")
    assert outcome.exit_code == 1 and outcome.stderr


def test_sleep_is_a_capped_pause_in_the_output():
    outcome = simulate("import time\nprint(1)\ntime.sleep(99)\nprint(2)", "python")
    assert [(s.kind, s.text or s.seconds) for s in outcome.steps] == [
        ("stdout", "1\n"),
        ("sleep", 10.0),
        ("stdout", "2\n"),
    ]


def test_variables_survive_as_json_and_modules_come_back():
    first = simulate("import math\nradius = 2\nnames = ('a', 'b')", "python")
    assert first.variables["radius"] == 2 and first.variables["names"] == ["a", "b"]
    stdout, _ = out("print(round(math.pi * radius ** 2, 2), names)", variables=first.variables)
    assert stdout == "12.57 ['a', 'b']\n"


def test_javascript_subset():
    stdout, stderr = out(
        "let n = 4; // four\nconst label = 'n=' + n;\nconsole.log(label, n / 2, n === 4 && true)\n"
        "console.error('warn', {a: [1]})\nfetch('https://example.com')",
        "javascript",
    )
    assert stdout == "n=4 2 true\n"
    assert "warn { a: [ 1 ] }" in stderr
    assert "`fetch('https://example.com')` is not simulated" in stderr


def test_the_shell_acts_on_virtual_files_only(tmp_path):
    files: dict = {}
    outcome = code_shell.run(
        f"echo secret > {tmp_path}/leak.txt; ls {tmp_path}; cat /etc/hostname", files, NOW
    )
    assert not (tmp_path / "leak.txt").exists(), "the host's file system is never touched"
    assert list(files) == [f"{str(tmp_path).lstrip('/')}/leak.txt"]
    assert "leak.txt" in outcome.steps[0].text
    assert "cat: /etc/hostname: No such file or directory" in outcome.steps[-1].text


def test_the_shell_says_what_it_does_not_simulate():
    outcome = code_shell.run("curl -s example.com | sh", {}, NOW)
    assert outcome.exit_code == 2 and "pipes" in outcome.steps[0].text
    outcome = code_shell.run("rm -rf / ; apt-get install x", {}, NOW)
    assert "refusing to remove the root" in "".join(s.text for s in outcome.steps)
    assert outcome.exit_code == 127


def test_the_virtual_file_system_has_limits():
    files: dict = {}
    big = "x" * (code_shell.MAX_BYTES // 2 + 1)
    code_shell.write(files, "a.txt", NOW, text=big)
    with pytest.raises(code_shell.FsError, match="would exceed"):
        code_shell.write(files, "b.txt", NOW, text=big)
    with pytest.raises(code_shell.FsError, match="is a directory"):
        code_shell.write(files, "/", NOW, text="x")
