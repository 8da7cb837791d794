"""`manage.py sandbox_server --port 4566`: serve the sandbox over HTTP for any AWS SDK or CLI."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from django.core.management.base import BaseCommand, CommandError

from dashboard.sandbox import faults
from dashboard.sandbox.server import SandboxServer, signing_names


class Command(BaseCommand):
    help = (
        "Serve the sandbox emulator over HTTP. Point an SDK at it with endpoint_url and "
        "Config(inject_host_prefix=False), or the AWS CLI with --endpoint-url."
    )

    def add_arguments(self, parser: Any) -> None:
        parser.add_argument("--port", type=int, default=4566, help="Port (default 4566).")
        parser.add_argument(
            "--host",
            default="127.0.0.1",
            help="Address to bind (default 127.0.0.1; the server checks no signatures, so "
            "think twice before exposing it).",
        )

    def handle(self, *args: Any, port: int, host: str, **options: Any) -> None:
        try:
            # Refuse to start on a malformed spec rather than answer every call with a 500.
            faults.parse(settings.SANDBOX_FAULTS)
        except ImproperlyConfigured as exc:
            raise CommandError(str(exc)) from exc
        try:
            server = SandboxServer(host, port)
        except OSError as exc:
            raise CommandError(f"Cannot listen on {host}:{port}: {exc}") from exc
        self.stdout.write(
            self.style.SUCCESS(f"Sandbox listening on {server.url}")
            + f" (services signed as: {', '.join(sorted(signing_names()))}). Ctrl-C stops it."
        )
        try:
            server.serve_forever()
        except KeyboardInterrupt:
            pass
        finally:
            server.server_close()
