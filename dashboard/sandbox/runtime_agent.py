"""The sandbox's agent runtimes: what they answer to InvokeAgentRuntime, and how it streams.

Two simulated runtimes live in the sandbox's account (any region):

- `sre_assistant`: an on-call assistant. It reads the prompt from the JSON payload
  (``{"prompt": "..."}``, or "input"/"message"/"inputText"/"question", or the whole text) and
  answers with triage steps for what the prompt is about (latency, errors, saturation,
  deployments, databases), naming the services it mentions and referring to the session's
  earlier prompts. The reply streams token by token (SANDBOX_RUNTIME_TOKEN_SECONDS apart) as
  Server-Sent Events (`data: "<token>"`, then a JSON `data:` line with the stop reason and
  usage), or as plain text, or whole as JSON, as the Accept header asks.
- `payload_echo`: answers, as JSON, with what it received (content type, size, the parsed
  document), for checking a payload.

Every reply says it is simulated: no model is called. Deterministic: the same prompt in the
same session gets the same reply.
"""

from __future__ import annotations

import datetime as dt
import json
import re
from collections.abc import Iterator
from dataclasses import dataclass

TOKEN = re.compile(r"\S+\s*|\s+")
_SERVICE = re.compile(r"\b[a-z][a-z0-9]*(?:[-_][a-z0-9]+)+\b")
PROMPT_KEYS = ("prompt", "input", "message", "inputText", "question", "query", "text")
SIMULATED = "_Simulated reply from the console's sandbox runtime: no model was called._"


@dataclass(frozen=True)
class Runtime:
    runtime_id: str
    name: str
    description: str
    # Its endpoints (qualifiers) and the version each serves; the last version is the newest.
    endpoints: tuple[tuple[str, str], ...] = (("DEFAULT", "1"),)
    streams: bool = True
    created: dt.datetime = dt.datetime(2026, 1, 12, 9, 30, tzinfo=dt.UTC)
    updated: dt.datetime = dt.datetime(2026, 3, 2, 16, 5, tzinfo=dt.UTC)

    @property
    def qualifiers(self) -> tuple[str, ...]:
        return tuple(name for name, _ in self.endpoints)

    @property
    def version(self) -> str:
        return max((version for _, version in self.endpoints), key=int)


RUNTIMES = {
    runtime.runtime_id: runtime
    for runtime in (
        Runtime(
            "sre_assistant-Sbx7Qm2LpA",
            "sre_assistant",
            "On-call assistant: triage steps for what you describe. Streams its reply.",
            (("DEFAULT", "3"), ("prod", "2")),
        ),
        Runtime(
            "payload_echo-Sbx4Hk9TzB",
            "payload_echo",
            "Answers with the payload it received, as JSON: for checking what you send.",
            streams=False,
            created=dt.datetime(2026, 2, 20, 11, 0, tzinfo=dt.UTC),
            updated=dt.datetime(2026, 2, 20, 11, 0, tzinfo=dt.UTC),
        ),
    )
}


def arn_of(runtime: Runtime, region: str, account: str) -> str:
    return f"arn:aws:bedrock-agentcore:{region}:{account}:runtime/{runtime.runtime_id}"


def prompt_of(payload: bytes, content_type: str) -> tuple[str, object]:
    """(the prompt, the parsed document or None). Raises ValueError for JSON that is not."""
    text = payload.decode("utf-8", errors="replace")
    if "json" in content_type.lower():
        try:
            document = json.loads(text) if text.strip() else None
        except RecursionError:
            raise ValueError("nested too deeply to be read") from None
        if isinstance(document, str):
            return document, document
        if isinstance(document, dict):
            for key in PROMPT_KEYS:
                value = document.get(key)
                if isinstance(value, str) and value.strip():
                    return value.strip(), document
        return "", document
    return text.strip(), None


@dataclass(frozen=True)
class Topic:
    name: str
    words: re.Pattern[str]
    title: str
    steps: tuple[str, ...]
    command: str


TOPICS = (
    Topic(
        "errors",
        re.compile(r"\b(5\d\d|5xx|errors?|exceptions?|fail\w*|crash\w*)\b", re.I),
        "errors on {service}",
        (
            "**Size the blast radius.** Compare the error rate of `{service}` with its "
            "baseline for the same hour yesterday; note when it started.",
            "**Find the failing dependency.** Break the errors down by downstream call: a "
            "single dependency behind most of them is the usual culprit.",
            "**Correlate with changes.** List deployments and configuration changes to "
            "`{service}` and its dependencies in the 30 minutes before the start.",
            "**Mitigate first.** If a change lines up, roll it back; otherwise shed load or "
            "fail over while you keep digging.",
        ),
        "aws cloudwatch get-metric-data --metric-data-queries file://{service}-5xx.json "
        "--start-time $(date -u -d '-1 hour' +%FT%TZ) --end-time $(date -u +%FT%TZ)",
    ),
    Topic(
        "latency",
        re.compile(r"\b(latency|slow\w*|p9\d|timeouts?|timing out)\b", re.I),
        "latency on {service}",
        (
            "**Check the shape.** Is it every request (p50 up) or a tail (only p99)? A tail "
            "points at a dependency, a queue or garbage collection.",
            "**Follow a slow trace.** Open a slow request of `{service}` in X-Ray and see "
            "which segment grew.",
            "**Look for saturation.** CPU, connection pools and thread pools of `{service}` "
            "near their limits make latency climb long before errors appear.",
            "**Compare with traffic.** A latency rise that tracks a traffic rise is capacity; "
            "one that does not is a regression.",
        ),
        "aws xray get-trace-summaries --start-time $(date -u -d '-15 min' +%s) "
        '--end-time $(date -u +%s) --filter-expression \'service("{service}") '
        "AND responsetime > 1'",
    ),
    Topic(
        "saturation",
        re.compile(r"\b(cpu|memory|oom\w*|disk|throttl\w*|saturat\w*|heap)\b", re.I),
        "resource pressure on {service}",
        (
            "**Confirm which resource.** CPU, memory, disk or a quota: each has a different fix.",
            "**Find what grew.** Compare per-host or per-task usage of `{service}`: one outlier "
            "is a leak or a hot key; all of them is load.",
            "**Buy time.** Scale out or raise the limit, then look for the cause.",
            "**Prevent a repeat.** Alarm on the trend (e.g. memory growth per hour), not only "
            "on the threshold.",
        ),
        "aws ecs describe-services --cluster prod --services {service} "
        "--query 'services[0].deployments'",
    ),
    Topic(
        "deployments",
        re.compile(r"\b(deploy\w*|release\w*|roll ?back\w*|change\w*|rollout)\b", re.I),
        "a change to {service}",
        (
            "**Pin down the change.** Which commit, configuration or feature flag reached "
            "`{service}`, and when.",
            "**Line it up with the symptoms.** Did errors or latency move within minutes of "
            "the rollout reaching each host?",
            "**Roll back if in doubt.** A rollback is cheaper than an outage; diagnose the "
            "change afterwards.",
            "**Guard the next one.** Add the failing signal to the deployment's alarms so the "
            "rollout stops by itself.",
        ),
        "aws deploy list-deployments --application-name {service} --include-only-statuses "
        "Succeeded InProgress",
    ),
    Topic(
        "database",
        re.compile(r"\b(database|db|rds|aurora|postgres\w*|mysql|dynamo\w*|quer\w*)\b", re.I),
        "the database behind {service}",
        (
            "**Check connections.** A full connection pool on `{service}` looks like a slow "
            "database but is not.",
            "**Find the expensive queries.** Performance Insights ranks them by load; compare "
            "with yesterday.",
            "**Look at locks and replication.** Lock waits and replica lag explain sudden "
            "slowness without more traffic.",
            "**Relieve it.** Kill runaway queries, add the missing index, or fail reads over to "
            "a replica.",
        ),
        "aws pi get-resource-metrics --service-type RDS --identifier db-{service} "
        "--metric-queries Metric=db.load.avg",
    ),
)
GENERAL = Topic(
    "general",
    re.compile(r"$^"),
    "{service}",
    (
        "**State the symptom.** What do users see, since when, and how many of them?",
        "**Check the golden signals** of `{service}`: traffic, errors, latency, saturation.",
        "**Look for what changed**: deployments, configuration, traffic, dependencies.",
        "**Decide on mitigation** before root cause: roll back, fail over or scale.",
    ),
    "aws cloudwatch describe-alarms --state-value ALARM",
)


def topic_of(prompt: str) -> Topic:
    return next((topic for topic in TOPICS if topic.words.search(prompt)), GENERAL)


def service_of(prompt: str) -> str:
    found = _SERVICE.search(prompt.lower())
    return found.group(0) if found else "the affected service"


def _quote(text: str, limit: int = 80) -> str:
    flat = " ".join(text.split())
    return flat if len(flat) <= limit else flat[: limit - 1].rstrip() + "…"


def compose(prompt: str, earlier: list[str]) -> tuple[str, str]:
    """(the reply as Markdown, its topic's name)."""
    if not prompt:
        return (
            "I did not find a prompt in the payload. Send JSON such as "
            '`{"prompt": "Why is checkout-api returning 5xx?"}`.\n\n' + SIMULATED,
            "none",
        )
    topic = topic_of(prompt)
    service = service_of(prompt)
    shown = service if service != "the affected service" else ""
    title = topic.title.format(service=shown or service).strip()
    parts = [f"You asked: “{_quote(prompt)}”.", ""]
    if earlier:
        parts += [f"Earlier in this session you asked about “{_quote(earlier[-1], 60)}”.", ""]
    parts += [f"Here is how I would approach **{title}**:", ""]
    parts += [f"{n}. {step.format(service=service)}" for n, step in enumerate(topic.steps, 1)]
    parts += [
        "",
        "To start, run:",
        "",
        "```bash",
        topic.command.format(service=shown or "my-service"),
        "```",
        "",
        SIMULATED,
    ]
    return "\n".join(parts), topic.name


def tokens(text: str) -> Iterator[str]:
    yield from TOKEN.findall(text)


SUPPORTED = ("text/event-stream", "application/json", "text/plain")


def negotiate(accept: str, streams: bool) -> str | None:
    """The media type to answer with, or None when Accept allows none of ours."""
    wanted = [part.split(";")[0].strip().lower() for part in (accept or "").split(",")]
    wanted = [w for w in wanted if w]
    if not wanted or "*/*" in wanted:
        return "text/event-stream" if streams else "application/json"
    for media in wanted:
        if media in SUPPORTED:
            return media
        if media in ("text/*", "application/*"):
            return next(s for s in SUPPORTED if s.startswith(media[:-1]))
    return None
