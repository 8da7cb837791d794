"""Logging filters: a refused request is one line in the log, not a traceback.

Django logs every PermissionDenied (403), SuspiciousOperation and BadRequest (400) on the
`django.request` logger with the exception attached, so each refusal printed a full
traceback. The path and status are what an operator needs; the traceback of an intended
refusal says nothing. The same for a database that does not answer (503, see
dashboard.core.middleware.DatabaseUnavailableMiddleware): its cause is the database's.
"""

from __future__ import annotations

import logging

from django.core.exceptions import BadRequest, PermissionDenied, SuspiciousOperation
from django.db import InterfaceError, OperationalError

_ONE_LINE = (PermissionDenied, SuspiciousOperation, BadRequest, OperationalError, InterfaceError)


class OneLineRefusals(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        exc = record.exc_info[1] if record.exc_info else None
        if isinstance(exc, _ONE_LINE):
            reason = " ".join(str(exc).split())[:200]
            if reason:
                # The message is %-formatted with its args later: a % in the reason is text.
                reason = reason.replace("%", "%%") if record.args else reason
                record.msg = f"{record.msg} ({reason})"
            record.exc_info = None
            record.exc_text = None
        return True
