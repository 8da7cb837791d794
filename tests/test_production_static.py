"""A production run (DEBUG off) serves its pages before `collectstatic` has run (plain file
names from the source folders, one warning in the log), and compressed, cache-busting names
after it."""

from __future__ import annotations

from tests.test_settings import _production, _run

PAGE = (
    "import django; django.setup()\n"
    "from django.core.management import call_command\n"
    "call_command('migrate', verbosity=0)\n"
    "from django.test import Client\n"
    "c = Client(HTTP_HOST='console.example.com')\n"
    "r = c.get('/accounts/login/', secure=True)\n"
    "print('STATUS', r.status_code)\n"
    "import re; css = re.search(r'/static/css/console[^\"]*css', r.content.decode()).group(0)\n"
    "print('CSS', css)\n"
    "s = c.get(css, secure=True)\n"
    "print('CSSSTATUS', s.status_code)\n"
)


def _lines(stdout: str) -> dict[str, str]:
    return dict(line.split(" ", 1) for line in stdout.splitlines() if " " in line)


def test_the_login_page_works_before_and_after_collectstatic(tmp_path):
    env = _production(tmp_path)
    before = _run(["-c", PAGE], env)
    assert before.returncode == 0, before.stderr
    out = _lines(before.stdout)
    assert out["STATUS"] == "200"
    assert out["CSS"] == "/static/css/console.css"
    assert out["CSSSTATUS"] == "200"
    assert "Static files are not collected" in before.stderr

    collected = _run(["manage.py", "collectstatic", "--noinput", "-v0"], env)
    assert collected.returncode == 0, collected.stderr
    after = _run(["-c", PAGE], env)
    out = _lines(after.stdout)
    assert out["STATUS"] == "200"
    assert out["CSS"] != "/static/css/console.css"  # a hashed, cache-busting name
    assert out["CSSSTATUS"] == "200"
    assert "Static files are not collected" not in after.stderr
