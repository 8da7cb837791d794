"""What the emulated agent writes while it works a task, and when: one deterministic script per
task, drawn from a random generator seeded with the task id, grounded in the task's title.

A script is a list of steps, each a journal record at an offset (seconds from the execution's
start at `SANDBOX_PACE` 1.0). An APPROVAL_REQUEST step pauses the script until the request is
answered; the last step carries the outcome (COMPLETED or FAILED). Timestamps inside content
are written as `Ago(seconds)` and turned into text when the record is written (`materialize`),
because the script is drawn before anyone knows when the execution will start.
"""

from __future__ import annotations

import datetime as dt
import functools
import random
import re
import uuid
from dataclasses import dataclass, field
from typing import Any

RECORD_TYPES = (
    "PLANNING",
    "DATA_FETCHED",
    "OBSERVATION",
    "FINDING",
    "ROOT_CAUSE",
    "USER_REQUEST",
    "UPDATE",
    "APPROVAL_REQUEST",
    "APPROVAL_RESPONSE",
)


@dataclass(frozen=True)
class Ago:
    """A moment `seconds` before the record that holds it is written."""

    seconds: float


@dataclass(frozen=True)
class Step:
    offset: float
    record_type: str
    content: dict[str, Any]
    user: dict[str, str] | None = None
    outcome: str | None = None  # COMPLETED / FAILED on the last step
    # Used instead of `content` when the approval just before this step was rejected.
    if_rejected: dict[str, Any] | None = None


@dataclass(frozen=True)
class Script:
    start_delay: float  # seconds between "may start" and the execution actually starting
    steps: tuple[Step, ...] = field(default_factory=tuple)

    @property
    def outcome(self) -> str:
        return self.steps[-1].outcome or "COMPLETED"

    @property
    def has_approval(self) -> bool:
        return any(s.record_type == "APPROVAL_REQUEST" for s in self.steps)


def materialize(value: Any, at: dt.datetime) -> Any:
    """`value` with every `Ago` replaced by the ISO time it stands for, relative to `at`."""
    if isinstance(value, Ago):
        moment = at - dt.timedelta(seconds=value.seconds)
        return moment.astimezone(dt.UTC).replace(microsecond=0).isoformat().replace("+00:00", "Z")
    if isinstance(value, dict):
        return {k: materialize(v, at) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [materialize(v, at) for v in value]
    return value


def uuid7(at: dt.datetime, rng: random.Random) -> str:
    """A UUIDv7 (millisecond time, then random bits), as the model's ApprovalId pattern wants."""
    millis = int(at.timestamp() * 1000) & ((1 << 48) - 1)
    value = (millis << 80) | (0x7 << 76) | (rng.getrandbits(12) << 64)
    value |= (0b10 << 62) | rng.getrandbits(62)
    return str(uuid.UUID(int=value))


# --- themes: what kind of trouble the title describes -----------------------------------------


@dataclass(frozen=True)
class Theme:
    keywords: tuple[str, ...]
    alarm: str
    namespace: str
    metric: str
    unit: str
    baseline: tuple[float, float]
    peak: tuple[float, float]
    log_query: str
    log_lines: tuple[str, ...]
    plan: tuple[str, ...]
    observations: tuple[str, ...]
    findings: tuple[tuple[str, str, str], ...]  # title, severity, details
    root_causes: tuple[tuple[str, str, tuple[str, ...]], ...]  # title, summary, factors
    actions: tuple[tuple[str, dict[str, Any], str], ...]  # tool, arguments, reason


_ERRORS = Theme(
    keywords=("5xx", "error", "500", "502", "503", "exception", "fail", "crash"),
    alarm="{service}-5xx-rate-high",
    namespace="AWS/ApplicationELB",
    metric="HTTPCode_Target_5XX_Count",
    unit="Count",
    baseline=(2, 15),
    peak=(180, 900),
    log_query="fields @timestamp, @message | filter level = 'ERROR' | "
    "stats count(*) by exception | sort count desc | limit 20",
    log_lines=(
        "ERROR [{service}] upstream request failed: 503 Service Unavailable from {dependency}",
        "ERROR [{service}] java.net.SocketTimeoutException: Read timed out after 3000 ms",
        "WARN  [{service}] circuit breaker OPEN for {dependency} (failure rate 62.5%)",
    ),
    plan=(
        "Confirm the error rate on the load balancer and which target groups are affected",
        "Group application errors by exception type in CloudWatch Logs",
        "Correlate the start of the errors with deployments and configuration changes",
        "Check the health of downstream dependency {dependency}",
    ),
    observations=(
        "5xx responses started {mins} minutes ago and are concentrated on {pct}% of targets "
        "in {az}.",
        "Errors are dominated by timeouts calling {dependency}; client-side retries triple "
        "the request volume during the spike.",
        "The error rate dropped briefly when the autoscaling group added capacity, then "
        "climbed again.",
    ),
    findings=(
        (
            "Error spike follows deployment {deploy_id}",
            "HIGH",
            "The first 5xx responses appear 90 seconds after deployment {deploy_id} of "
            "{service} (commit {commit}) reached 100% of targets.",
        ),
        (
            "Timeouts calling {dependency}",
            "HIGH",
            "{pct}% of failed requests end in a read timeout against {dependency}; its p99 "
            "latency rose from 120 ms to 2.8 s.",
        ),
        (
            "Unhealthy targets in {az}",
            "MEDIUM",
            "Target group health checks failed for 4 of 9 targets in {az} while the other "
            "zones stayed healthy.",
        ),
    ),
    root_causes=(
        (
            "Regression in deployment {deploy_id}",
            "Commit {commit} lowered the HTTP client timeout for {dependency} from 3 s to 300 "
            "ms. Requests that previously succeeded now time out and surface as 5xx.",
            (
                "Timeout change shipped without a canary",
                "Retries amplified load on {dependency}",
                "Alarm threshold delayed detection by 6 minutes",
            ),
        ),
        (
            "Downstream dependency {dependency} saturated",
            "{dependency} exhausted its worker pool after a traffic shift; {service} surfaced "
            "its timeouts as 5xx because the fallback path is disabled.",
            (
                "No load shedding in {dependency}",
                "Fallback feature flag disabled since the last incident",
            ),
        ),
    ),
    actions=(
        (
            "aws___codedeploy_stop_deployment",
            {"deploymentId": "{deploy_id}", "autoRollbackEnabled": True},
            "Roll back {service} to the previous revision while the regression is confirmed.",
        ),
        (
            "aws___ecs_update_service",
            {"cluster": "prod", "service": "{service}", "forceNewDeployment": True},
            "Replace the unhealthy tasks of {service} to restore capacity.",
        ),
    ),
)

_LATENCY = Theme(
    keywords=("latency", "slow", "p99", "p95", "timeout", "response time"),
    alarm="{service}-p99-latency-high",
    namespace="AWS/ApplicationELB",
    metric="TargetResponseTime",
    unit="Seconds",
    baseline=(0.08, 0.25),
    peak=(1.8, 6.5),
    log_query="fields @timestamp, route, duration_ms | filter duration_ms > 1000 | "
    "stats pct(duration_ms, 99) as p99 by route | sort p99 desc",
    log_lines=(
        "WARN  [{service}] slow request POST /v2/authorize took 4812 ms (db=4410 ms)",
        "WARN  [{service}] connection pool wait 2250 ms exceeded threshold 500 ms",
        "INFO  [{service}] GC pause 780 ms (G1 Evacuation Pause)",
    ),
    plan=(
        "Break p99 latency down by route and by availability zone",
        "Trace slow requests with X-Ray to find the slowest segment",
        "Check database and cache latency for the same window",
        "Look for deployments, scaling events and configuration changes",
    ),
    observations=(
        "p99 latency rose from {base} s to {peak} s over the last {mins} minutes; p50 "
        "barely moved, so a subset of requests is affected.",
        "X-Ray traces put {pct}% of the slow time in calls to {dependency}.",
        "Only the /v2/authorize and /v2/capture routes are slow; read-only routes are normal.",
    ),
    findings=(
        (
            "Slow segment: {dependency}",
            "HIGH",
            "Traces of slow requests spend a median 3.1 s waiting on {dependency}.",
        ),
        (
            "Connection pool saturation",
            "MEDIUM",
            "The application's connection pool sits at its maximum of 50 with up to 120 "
            "waiting threads during the spike.",
        ),
    ),
    root_causes=(
        (
            "Connection pool too small after traffic growth",
            "Traffic to {service} grew 40% since the pool size was set; at peak the pool "
            "saturates and requests queue for connections.",
            ("Pool size fixed at 50 since last year", "No alarm on pool wait time"),
        ),
        (
            "Cache miss storm after cache node replacement",
            "An ElastiCache node in {az} was replaced during maintenance; the cold cache sent "
            "{pct}% more reads to the database and latency followed.",
            ("Maintenance window overlaps business hours", "No cache warm-up after replacement"),
        ),
    ),
    actions=(
        (
            "aws___application_autoscaling_register_scalable_target",
            {"serviceNamespace": "ecs", "resourceId": "service/prod/{service}", "minCapacity": 12},
            "Add capacity to {service} so queued requests drain while the cause is fixed.",
        ),
    ),
)

_DATABASE = Theme(
    keywords=("rds", "database", "db", "aurora", "postgres", "mysql", "deadlock", "connection"),
    alarm="{db}-DatabaseConnections-high",
    namespace="AWS/RDS",
    metric="DatabaseConnections",
    unit="Count",
    baseline=(120, 220),
    peak=(880, 1000),
    log_query="fields @timestamp, @message | filter @message like /FATAL|too many connections"
    "|deadlock/ | stats count(*) by bin(1m)",
    log_lines=(
        "FATAL: remaining connection slots are reserved for non-replication superuser connections",
        "ERROR: deadlock detected; Process 48121 waits for ShareLock on transaction 99120447",
        "LOG:  duration: 12840.112 ms  statement: UPDATE ledger_entries SET ...",
    ),
    plan=(
        "Check connection count, CPU and freeable memory of {db}",
        "Read the PostgreSQL log for connection and lock errors",
        "Identify which clients hold the connections (Performance Insights)",
        "Correlate with deployments and autoscaling of the application tier",
    ),
    observations=(
        "DatabaseConnections on {db} climbed from {base} to {peak} within 4 minutes, "
        "against a max_connections of 1000.",
        "Performance Insights shows {pct}% of sessions idle in transaction from {service}.",
        "CPU on {db} stays below 45%; the database is not overloaded, it is out of "
        "connection slots.",
    ),
    findings=(
        (
            "Connection slots exhausted on {db}",
            "CRITICAL",
            "New connections have failed with 'remaining connection slots are reserved' "
            "for the last {mins} minutes.",
        ),
        (
            "Application scaled out without a connection limit",
            "HIGH",
            "{service} scaled from 8 to 24 tasks; each task opens a pool of 40 connections.",
        ),
        (
            "Long-running transactions hold locks",
            "MEDIUM",
            "A batch job keeps transactions open for up to 12 s, blocking ledger updates.",
        ),
    ),
    root_causes=(
        (
            "Connection storm from scale-out of {service}",
            "An autoscaling event tripled the tasks of {service}; with a per-task pool of 40 "
            "the fleet needed 960 connections and exhausted {db}.",
            (
                "No RDS Proxy in front of {db}",
                "Pool size not tied to the task count",
                "Scaling policy reacts to CPU only",
            ),
        ),
        (
            "Leaked connections after deployment {deploy_id}",
            "Commit {commit} stopped returning connections to the pool on an error path; the "
            "pool grew until {db} ran out of slots.",
            ("Missing finally block on error path", "No alarm on idle-in-transaction sessions"),
        ),
    ),
    actions=(
        (
            "aws___rds_reboot_db_instance",
            {"dbInstanceIdentifier": "{db}", "forceFailover": False},
            "Reboot {db} to drop the leaked sessions and restore connection slots.",
        ),
        (
            "aws___ecs_update_service",
            {"cluster": "prod", "service": "{service}", "desiredCount": 8},
            "Scale {service} back to 8 tasks to bring connections under the limit.",
        ),
    ),
)

_QUEUE = Theme(
    keywords=("queue", "sqs", "kinesis", "lag", "backlog", "consumer", "stream", "glue", "etl"),
    alarm="{queue}-ApproximateAgeOfOldestMessage-high",
    namespace="AWS/SQS",
    metric="ApproximateAgeOfOldestMessage",
    unit="Seconds",
    baseline=(5, 40),
    peak=(1800, 5400),
    log_query="fields @timestamp, @message | filter @message like /Task timed out|"
    "ProvisionedThroughputExceeded/ | stats count(*) by bin(5m)",
    log_lines=(
        "REPORT RequestId: 7c1e... Duration: 900000.00 ms Status: timeout",
        "ProvisionedThroughputExceededException: Rate exceeded for shard shardId-000000000007",
        "WARN  consumer lag 1843221 records on partition 7",
    ),
    plan=(
        "Measure the age of the oldest message and the consumer throughput",
        "Check the consumer's errors, throttles and timeouts",
        "Compare producer volume with the usual daily pattern",
        "Check recent changes to the consumer and its concurrency settings",
    ),
    observations=(
        "The oldest message in {queue} is {peak} s old and growing by about 60 s per minute.",
        "Consumer invocations are throttled: reserved concurrency of 10 is fully used.",
        "Producer volume is {pct}% above the same hour last week after a partner backfill.",
    ),
    findings=(
        (
            "Consumer throttled by reserved concurrency",
            "HIGH",
            "The consumer for {queue} hits its reserved concurrency of 10 continuously.",
        ),
        (
            "Poison messages retried repeatedly",
            "MEDIUM",
            "312 messages failed more than 5 times; there is no redrive policy to a DLQ.",
        ),
    ),
    root_causes=(
        (
            "Backfill exceeded consumer capacity",
            "A partner backfill tripled the inflow to {queue}; the consumer's reserved "
            "concurrency caps throughput below the new arrival rate.",
            ("Reserved concurrency set for normal traffic", "Backfill not announced"),
        ),
    ),
    actions=(
        (
            "aws___lambda_put_function_concurrency",
            {"functionName": "{service}-consumer", "reservedConcurrentExecutions": 50},
            "Raise the consumer's concurrency so the backlog in {queue} drains.",
        ),
    ),
)

_COMPUTE = Theme(
    keywords=("cpu", "memory", "oom", "leak", "throttl", "restart", "ecs", "eks", "pod"),
    alarm="{service}-MemoryUtilization-high",
    namespace="AWS/ECS",
    metric="MemoryUtilization",
    unit="Percent",
    baseline=(35, 55),
    peak=(92, 99.5),
    log_query="fields @timestamp, @message | filter @message like /OutOfMemory|OOMKilled|"
    "exit code 137/ | stats count(*) by bin(5m)",
    log_lines=(
        "Essential container in task exited: OutOfMemoryError: Container killed due to "
        "memory usage",
        "java.lang.OutOfMemoryError: Java heap space at com.example.cache.LocalCache.put",
        "service {service} has reached a steady state. (tasks replaced: 6)",
    ),
    plan=(
        "Check memory and CPU utilization of {service} tasks",
        "Count task restarts and their stop reasons",
        "Compare memory growth before and after the latest deployment",
    ),
    observations=(
        "Memory climbs linearly from {base}% to {peak}% over about 3 hours, then tasks are "
        "killed and the cycle restarts.",
        "{pct} tasks stopped with exit code 137 in the last 6 hours.",
        "CPU stays flat, so the restarts are memory-driven.",
    ),
    findings=(
        (
            "Tasks killed for exceeding memory",
            "HIGH",
            "ECS reports OutOfMemoryError as the stop reason for every replaced task.",
        ),
        (
            "Unbounded in-process cache",
            "MEDIUM",
            "Heap histograms show LocalCache entries growing without eviction.",
        ),
    ),
    root_causes=(
        (
            "Memory leak in the in-process cache",
            "Deployment {deploy_id} added a local cache without a size bound; memory grows "
            "with traffic until the container limit kills the task.",
            ("Cache lacks an eviction policy", "Load tests run for 20 minutes only"),
        ),
    ),
    actions=(
        (
            "aws___ecs_update_service",
            {"cluster": "prod", "service": "{service}", "forceNewDeployment": True},
            "Recycle the tasks of {service} before they reach the memory limit.",
        ),
    ),
)

_EDGE = Theme(
    keywords=("certificate", "tls", "ssl", "dns", "route 53", "route53", "cloudfront", "cdn"),
    alarm="{service}-HealthCheckStatus",
    namespace="AWS/Route53",
    metric="HealthCheckPercentageHealthy",
    unit="Percent",
    baseline=(100, 100),
    peak=(0, 34),
    log_query="fields @timestamp, @message | filter @message like /SSL|certificate|"
    "NXDOMAIN|SERVFAIL/ | limit 50",
    log_lines=(
        "SSLHandshakeException: PKIX path validation failed: certificate expired",
        "dig {service}.example.com: status SERVFAIL",
        "CloudFront: 502 ERROR The request could not be satisfied (OriginSSLProtocolError)",
    ),
    plan=(
        "Check Route 53 health checks and CloudFront error rates",
        "Inspect the certificate chain served by the origin",
        "Review recent DNS and certificate changes in CloudTrail",
    ),
    observations=(
        "Health checks from 5 of 8 regions report failure for the last {mins} minutes.",
        "The origin serves a certificate that expired at 00:00 UTC today.",
        "CloudTrail shows a ChangeResourceRecordSets call 20 minutes before the alarm.",
    ),
    findings=(
        (
            "Expired certificate on the origin",
            "CRITICAL",
            "The origin load balancer of {service} still uses an imported certificate that "
            "is not managed by ACM and expired today.",
        ),
        (
            "DNS record changed",
            "HIGH",
            "A weighted record for {service} was changed to point at a drained endpoint.",
        ),
    ),
    root_causes=(
        (
            "Imported certificate expired",
            "The certificate on the origin of {service} was imported manually and never "
            "renewed; ACM cannot renew imported certificates.",
            ("Certificate outside ACM managed renewal", "Expiry alarm routed to an old list"),
        ),
    ),
    actions=(
        (
            "aws___elbv2_modify_listener",
            {
                "listenerArn": "arn:aws:elasticloadbalancing:us-east-1:123456789012:listener/"
                "app/{service}/50dc6c495c0c9188/f2f7dc8efc522ab2",
                "certificateArn": "arn:aws:acm:us-east-1:123456789012:certificate/renewed",
            },
            "Attach the renewed ACM certificate to the origin listener of {service}.",
        ),
    ),
)

THEMES = (_DATABASE, _QUEUE, _COMPUTE, _EDGE, _LATENCY, _ERRORS)

SERVICES = (
    "payments-api",
    "checkout-web",
    "ledger-service",
    "auth-gateway",
    "orders-worker",
    "settlement-batch",
    "session-service",
)
DEPENDENCIES = ("card-network-proxy", "fraud-scoring", "inventory-api", "token-vault", "redis")
ON_CALL = ("AROA3XFRBF23EXAMPLE:maria.lopez", "AROA3XFRBF23EXAMPLE:sam.okafor")
USER_QUESTIONS = (
    "Did this start right after this morning's deploy?",
    "Please also check whether {dependency} shows the same pattern.",
    "Customers in eu-west-1 are reporting it too; is it regional?",
)


def theme_for(title: str) -> Theme:
    lowered = title.lower()
    for theme in THEMES:
        if any(re.search(rf"\b{re.escape(word)}", lowered) for word in theme.keywords):
            return theme
    return _ERRORS


def _service_in(title: str, rng: random.Random) -> str:
    # Titles usually name the service ("Elevated 5xx on checkout-api"): a kebab-case word.
    found = re.search(r"\b[a-z0-9]+(?:-[a-z0-9]+)+\b", title)
    return found.group(0) if found else rng.choice(SERVICES)


def _fill(value: Any, names: dict[str, Any]) -> Any:
    if isinstance(value, str):
        return value.format_map(names)
    if isinstance(value, dict):
        return {k: _fill(v, names) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_fill(v, names) for v in value]
    return value


def _names(title: str, rng: random.Random, theme: Theme) -> dict[str, Any]:
    service = _service_in(title, rng)
    base = round(rng.uniform(*theme.baseline), 2)
    peak = round(rng.uniform(*theme.peak), 2)
    return {
        "service": service,
        "dependency": rng.choice(DEPENDENCIES),
        "db": f"{service.split('-')[0]}-db-prod-{rng.randint(1, 3)}",
        "queue": f"{service.split('-')[0]}-events",
        "az": f"us-east-1{rng.choice('abcdf')}",
        "deploy_id": f"d-{''.join(rng.choices('ABCDEFGHJKLMNPQRSTUVWXYZ23456789', k=9))}",
        "commit": f"{rng.getrandbits(28):07x}",
        "pct": rng.randint(18, 87),
        "mins": rng.randint(12, 55),
        "base": base,
        "peak": peak,
    }


# --- drawing a script ------------------------------------------------------------------------


class _Writer:
    """Appends steps at increasing offsets."""

    def __init__(self, rng: random.Random, gap: tuple[float, float]) -> None:
        self.rng = rng
        self.gap = gap
        self.offset = 0.0
        self.steps: list[Step] = []

    def add(self, record_type: str, content: dict[str, Any], **extra: Any) -> None:
        self.offset += round(self.rng.uniform(*self.gap), 1)
        self.steps.append(Step(self.offset, record_type, content, **extra))


def _metric_sample(rng: random.Random, theme: Theme, names: dict[str, Any]) -> dict[str, Any]:
    points = [
        {"timestamp": Ago(60 * m), "value": round(rng.uniform(*theme.baseline), 2)}
        for m in (40, 30, 20)
    ] + [
        {"timestamp": Ago(60 * m), "value": round(rng.uniform(*theme.peak), 2)} for m in (10, 5, 1)
    ]
    return {
        "source": "Amazon CloudWatch Metrics",
        "query": f"{theme.namespace} {theme.metric} ({theme.unit}) for "
        f"{names['service']}, period 60s, last 3h",
        "resultCount": 180,
        "sample": points,
    }


def _logs_sample(rng: random.Random, theme: Theme, names: dict[str, Any]) -> dict[str, Any]:
    lines = [_fill(line, names) for line in theme.log_lines]
    return {
        "source": "Amazon CloudWatch Logs Insights",
        "query": f"/ecs/prod/{names['service']}: {theme.log_query}",
        "resultCount": rng.randint(40, 4800),
        "sample": [{"timestamp": Ago(60 * (5 + 3 * i)), "message": m} for i, m in enumerate(lines)],
    }


def _deploys_sample(rng: random.Random, names: dict[str, Any]) -> dict[str, Any]:
    return {
        "source": "AWS CodeDeploy",
        "query": f"ListDeployments application={names['service']} last 24h",
        "resultCount": 2,
        "sample": [
            {
                "deploymentId": names["deploy_id"],
                "status": "Succeeded",
                "completeTime": Ago(rng.randint(900, 3600)),
                "commit": names["commit"],
            },
            {
                "deploymentId": f"d-{rng.getrandbits(36):09X}",
                "status": "Succeeded",
                "completeTime": Ago(rng.randint(60000, 86000)),
                "commit": f"{rng.getrandbits(28):07x}",
            },
        ],
    }


def _investigation(rng: random.Random, title: str) -> tuple[Step, ...]:
    theme = theme_for(title)
    names = _names(title, rng, theme)
    alarm = _fill(theme.alarm, names)
    w = _Writer(rng, (6, 18))
    w.add("UPDATE", {"text": f"Investigation started: {title}", "status": "IN_PROGRESS"})
    w.add(
        "PLANNING",
        {
            "summary": f"Find out why CloudWatch alarm {alarm} went into ALARM for "
            f"{names['service']} and what changed.",
            "steps": _fill(list(theme.plan), names),
        },
    )
    w.add("DATA_FETCHED", _metric_sample(rng, theme, names))
    w.add("OBSERVATION", {"text": _fill(theme.observations[0], names)})
    w.add("DATA_FETCHED", _logs_sample(rng, theme, names))
    failed = rng.random() < 0.15
    if failed:
        # The agent gives up when a data source it needs refuses it, as the real one does.
        w.add(
            "UPDATE",
            {
                "text": "Investigation failed: AccessDeniedException calling "
                f"logs:StartQuery on /ecs/prod/{names['service']}-audit. Grant the agent "
                "space's role read access to this log group and retry.",
                "status": "FAILED",
            },
            outcome="FAILED",
        )
        return tuple(w.steps)
    if rng.random() < 0.3:
        w.add(
            "USER_REQUEST",
            {"text": _fill(rng.choice(USER_QUESTIONS), names)},
            user={"userId": rng.choice(ON_CALL), "userType": "IAM"},
        )
    w.add("DATA_FETCHED", _deploys_sample(rng, names))
    w.add("OBSERVATION", {"text": _fill(theme.observations[1], names)})
    findings = rng.sample(theme.findings, k=min(len(theme.findings), rng.randint(1, 2)))
    for finding_title, severity, details in findings:
        w.add(
            "FINDING",
            {
                "title": _fill(finding_title, names),
                "severity": severity,
                "details": _fill(details, names),
                "evidence": [
                    f"CloudWatch alarm {alarm}",
                    f"{theme.namespace} {theme.metric}: {names['base']} -> {names['peak']} "
                    f"{theme.unit}",
                    f"Logs Insights query on /ecs/prod/{names['service']}",
                ],
            },
        )
    if rng.random() < 0.35:
        tool, arguments, reason = rng.choice(theme.actions)
        w.add(
            "APPROVAL_REQUEST",
            {
                "tool": tool,
                "arguments": _fill(arguments, names),
                "reason": _fill(reason, names),
                "ttlSecondsAllowed": rng.random() < 0.7,
                "singleUseAllowed": True,
            },
        )
        w.add(
            "OBSERVATION",
            {"text": f"Action {tool} applied; {theme.metric} is returning to its baseline."},
            if_rejected={
                "text": f"Action {tool} was not approved; continuing the analysis "
                "without changing the environment."
            },
        )
    else:
        w.add("OBSERVATION", {"text": _fill(theme.observations[2], names)})
    cause_title, summary, factors = rng.choice(theme.root_causes)
    w.add(
        "ROOT_CAUSE",
        {
            "title": _fill(cause_title, names),
            "summary": _fill(summary, names),
            "confidence": round(rng.uniform(0.62, 0.95), 2),
            "contributingFactors": _fill(list(factors), names),
        },
    )
    w.add(
        "UPDATE",
        {"text": f"Investigation completed: {_fill(cause_title, names)}", "status": "COMPLETED"},
        outcome="COMPLETED",
    )
    return tuple(w.steps)


_REVIEW_CHECKS = (
    ("Alarms cover the new endpoints", "LOW", "Every new route has latency and 5xx alarms."),
    (
        "No rollback plan for the schema migration",
        "HIGH",
        "Migration 0042 drops a column that the previous release still reads.",
    ),
    (
        "Canary stage shorter than the error budget window",
        "MEDIUM",
        "The canary bakes for 5 minutes; the 5xx alarm needs 10 minutes to fire.",
    ),
    ("Capacity headroom is sufficient", "LOW", "Peak CPU in the last 14 days was 41%."),
    (
        "Dependency version skew",
        "MEDIUM",
        "The release pins the AWS SDK two minor versions behind the shared library.",
    ),
)


def _review(rng: random.Random, title: str, task_type: str) -> tuple[Step, ...]:
    """Evaluations and reviews: shorter, no approvals, end with findings and a summary."""
    names = _names(title, rng, _ERRORS)
    kind = task_type.replace("_", " ").lower()
    w = _Writer(rng, (4, 12))
    w.add("UPDATE", {"text": f"Started {kind}: {title}", "status": "IN_PROGRESS"})
    w.add(
        "PLANNING",
        {
            "summary": f"Assess {names['service']} for: {title}",
            "steps": [
                "Read the change set and the deployment pipeline definition",
                "Check alarms, dashboards and runbooks for the affected resources",
                "Compare with incidents of the last 90 days",
            ],
        },
    )
    w.add("DATA_FETCHED", _deploys_sample(rng, names))
    for finding_title, severity, details in rng.sample(_REVIEW_CHECKS, k=rng.randint(2, 3)):
        w.add(
            "FINDING",
            {
                "title": finding_title,
                "severity": severity,
                "details": details,
                "evidence": [f"{names['service']} pipeline", f"commit {names['commit']}"],
            },
        )
    w.add(
        "UPDATE",
        {"text": f"Completed {kind} with findings", "status": "COMPLETED"},
        outcome="COMPLETED",
    )
    return tuple(w.steps)


@functools.lru_cache(maxsize=4096)
def script_for(task_id: str, title: str, task_type: str) -> Script:
    """The task's script: the same task always gets the same one."""
    rng = random.Random(f"{task_id}:{task_type}")
    start_delay = round(rng.uniform(3, 12), 1)
    if task_type == "INVESTIGATION":
        return Script(start_delay, _investigation(rng, title))
    return Script(start_delay, _review(rng, title, task_type))
