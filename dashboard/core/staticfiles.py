"""Static files in production: whitenoise's compressed, cache-busting storage, which still
serves pages when `collectstatic` has not run yet.

Django's manifest storage raises on every `{% static %}` whose file is not in the manifest, so
a production run started by hand before `collectstatic` failed on its very first page (the
login page) with a 500. Here a missing entry falls back to the plain file name, served from the
source folders (WHITENOISE_USE_FINDERS), and the log says once what to run.
"""

from __future__ import annotations

import logging

from whitenoise.storage import CompressedManifestStaticFilesStorage

logger = logging.getLogger(__name__)


class ConsoleStaticFilesStorage(CompressedManifestStaticFilesStorage):
    manifest_strict = False
    _warned = False

    def stored_name(self, name: str) -> str:
        try:
            return super().stored_name(name)
        except ValueError:
            if not ConsoleStaticFilesStorage._warned:
                ConsoleStaticFilesStorage._warned = True
                logger.warning(
                    "Static files are not collected: serving them uncompressed and without "
                    "cache-busting names. Run `manage.py collectstatic --noinput` (the Docker "
                    "image does) and restart."
                )
            return name
