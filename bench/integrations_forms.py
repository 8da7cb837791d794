"""Generated forms: what the register and associate pages cost (dashboard/core/shapeforms.py).

Run: .venv/bin/python bench/integrations_forms.py  (throwaway SQLite database in /tmp)
Per registrable service type: reading the model into a layout (once per process: cached),
building and rendering the empty form, validating a full post, and the whole GET and POST of
/services/new/<type>/ through django.test.Client as an admin (DEBUG off, sandbox backend).
Goal: a register page under 50 ms p50 for the largest type (MCP server: six authorizations).
"""

from __future__ import annotations

import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
tmp = tempfile.mkdtemp(prefix="console-bench-")
os.environ.pop("REDIS_URL", None)
os.environ.update(
    DJANGO_SETTINGS_MODULE="dashboard.test_settings",
    DATABASE_URL=f"sqlite:///{tmp}/bench.sqlite3",
    DASHBOARD_VAR_DIR=tmp,
    DASHBOARD_BACKEND="sandbox",
    DASHBOARD_DEBUG="0",
)

import django  # noqa: E402

django.setup()
import logging  # noqa: E402

from django.contrib.auth.models import User  # noqa: E402
from django.core.management import call_command  # noqa: E402
from django.template.loader import render_to_string  # noqa: E402
from django.test import Client  # noqa: E402

from dashboard.core.shapeforms import ShapeForm  # noqa: E402
from dashboard.integrations import catalog  # noqa: E402
from dashboard.sandbox.models import PendingOAuth, RegisteredService  # noqa: E402
from tests.integrations_support import post_data  # noqa: E402

logging.disable(logging.WARNING)
RUNS = 30


def ms(samples: list[float]) -> str:
    ordered = sorted(samples)
    p50 = statistics.median(ordered) * 1000
    p99 = ordered[min(len(ordered) - 1, int(len(ordered) * 0.99))] * 1000
    return f"{p50:.1f} / {p99:.1f}"


def main() -> None:
    call_command("migrate", verbosity=0)
    admin = User.objects.create_superuser("bench", password="x")
    client = Client()
    client.force_login(admin)
    rows = []
    for service_type in catalog.registrable_types():
        start = time.perf_counter()
        layout = catalog.register_layout.__wrapped__(service_type)
        layout_time = time.perf_counter() - start
        fields = len(ShapeForm(layout).fields)
        render, validate, get, post = [], [], [], []
        data = post_data(layout)
        for _ in range(RUNS):
            t = time.perf_counter()
            render_to_string("includes/shapeform.html", {"form": ShapeForm(layout)})
            render.append(time.perf_counter() - t)
            t = time.perf_counter()
            assert ShapeForm(layout, data).is_valid()
            validate.append(time.perf_counter() - t)
            t = time.perf_counter()
            assert client.get(f"/services/new/{service_type}/").status_code == 200
            get.append(time.perf_counter() - t)
            RegisteredService.objects.all().delete()
            PendingOAuth.objects.all().delete()
            t = time.perf_counter()
            assert client.post(f"/services/new/{service_type}/", data).status_code == 302
            post.append(time.perf_counter() - t)
        rows.append(
            f"| {service_type} | {fields} | {layout_time * 1000:.1f} | {ms(render)} | "
            f"{ms(validate)} | {ms(get)} | {ms(post)} |"
        )
    print(f"## Generated registration forms ({RUNS} runs each; p50 / p99 in ms)\n")
    print(
        "| type | fields | layout (once) | render empty form | validate a post | GET page "
        "| POST (register) |"
    )
    print("|---|---|---|---|---|---|---|")
    print("\n".join(rows))


if __name__ == "__main__":
    main()
