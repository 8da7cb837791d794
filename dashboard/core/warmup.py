"""Work a process would otherwise do on its first live update, done at start-up instead.

The first page or fragment a fresh daphne process renders pays for importing every app's URL
module (Django populates its resolver on the first `reverse()`), compiling the templates it
uses (the cached loader compiles on first use) and Markdown's parser: measured at about 0.6 s
of the event loop in a new process (py-spy, bench/fanout.py), which every stream relayed at that
moment waited for. `warm()` does it before the process serves anyone.

And the cyclic garbage collector: a console process holds many long-lived objects (sockets,
their consumers, stream state), and a full collection walks them all, pausing every stream of
the process (the p99 of bench/fanout.py's 100 concurrent replies fell from about 400 ms to
about 130 ms without those pauses). `tune_gc()` moves what exists after start-up out of the
collector's sight (`gc.freeze`) and collects the young generation less often.
"""

from __future__ import annotations

import gc
import logging
import time
from pathlib import Path

from django.conf import settings

logger = logging.getLogger(__name__)


def warm() -> None:
    began = time.perf_counter()
    from django.template import TemplateDoesNotExist
    from django.template.loader import get_template
    from django.urls import get_resolver

    get_resolver()._populate()  # every app's URL module, once
    count = 0
    for folder in settings.TEMPLATES[0]["DIRS"]:
        for path in Path(folder).rglob("*.html"):
            try:
                get_template(str(path.relative_to(folder)))
                count += 1
            except (TemplateDoesNotExist, Exception):  # a broken template shows on its page
                logger.debug("Could not compile %s", path, exc_info=True)
    from dashboard.core.markdown import render_markdown

    render_markdown("**warm**")
    logger.info("Warmed up in %.2f s (%d templates)", time.perf_counter() - began, count)


def tune_gc() -> None:
    gc.collect()
    gc.freeze()
    gc.set_threshold(50_000, 20, 20)
