# The console: daphne serving HTTP and websockets. See docker-compose.yml for a full setup.
FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    # templates/ and static/ live beside the package: run from the source tree.
    PYTHONPATH=/app \
    DASHBOARD_VAR_DIR=/app/var

WORKDIR /app

# Dependencies first, from the lock (exact versions and hashes), so code changes do not
# reinstall them; then the project itself, without dependencies.
COPY requirements/run.txt ./requirements/run.txt
RUN pip install --require-hashes --no-deps -r requirements/run.txt
COPY pyproject.toml README.md ./
COPY dashboard ./dashboard
RUN pip install --no-deps --no-build-isolation .

COPY manage.py ./
COPY templates ./templates
COPY static ./static

# collectstatic reads settings, which need a key and hosts with DEBUG off; these are used for
# nothing else and never reach the running container.
RUN SECRET_KEY=collectstatic-only-not-a-secret ALLOWED_HOSTS=localhost \
    python manage.py collectstatic --noinput -v0 \
 && useradd --system --uid 10001 --no-create-home --home-dir /app console \
 && chown -R console /app/var

USER console
EXPOSE 8000
CMD ["daphne", "-b", "0.0.0.0", "-p", "8000", "dashboard.asgi:application"]
