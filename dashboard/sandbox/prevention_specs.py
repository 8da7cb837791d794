"""What the emulated agent recommends after an evaluation: titles, summaries and agent-ready
specs (Markdown with steps, commands and code blocks), drawn deterministically from the
evaluation task's id and grounded in its title (the service, database and queue it names).

`draft` picks the recommendations of one evaluation; `revise` rewrites a spec after an
operator sent it back with more context (the agent's UPDATE_IN_PROGRESS → PROPOSED).
"""

from __future__ import annotations

import random
import textwrap
from dataclasses import dataclass
from typing import Any

from .scripts import _names, theme_for


@dataclass(frozen=True)
class Draft:
    title: str
    summary: str
    spec: str
    priority: str  # HIGH / MEDIUM / LOW


def _spec(text: str, names: dict[str, Any]) -> str:
    return textwrap.dedent(text).strip().format_map(names) + "\n"


# Each entry: keywords of the titles it fits (empty: any), priority, title, summary, spec.
_CATALOGUE: tuple[tuple[tuple[str, ...], str, str, str, str], ...] = (
    (
        ("latency", "slow", "p99", "alarm", "coverage", "slo"),
        "HIGH",
        "Alarm on p99 latency for {service}",
        "{service} has no alarm on tail latency: the last latency regression was found by "
        "customers {mins} minutes before anyone was paged.",
        """
        ## Why
        `{service}` alarms on 5xx only. In the last 30 days p99 latency crossed 2 s three
        times without a page; each time error rates stayed flat while checkouts timed out
        client-side.

        ## Steps
        1. Create the alarm on the load balancer's target response time (p99, 3 of 5
           minutes above 1.5 s):

           ```bash
           aws cloudwatch put-metric-alarm \\
             --alarm-name {service}-p99-latency-high \\
             --namespace AWS/ApplicationELB \\
             --metric-name TargetResponseTime \\
             --extended-statistic p99 \\
             --dimensions Name=LoadBalancer,Value=app/{service}-prod/4f1c2e9a7b3d \\
             --period 60 --evaluation-periods 5 --datapoints-to-alarm 3 \\
             --threshold 1.5 --comparison-operator GreaterThanThreshold \\
             --treat-missing-data notBreaching \\
             --alarm-actions arn:aws:sns:us-east-1:123456789012:oncall-{service}
           ```

        2. Keep it in code with the service's other alarms:

           ```hcl
           resource "aws_cloudwatch_metric_alarm" "p99_latency" {{
             alarm_name          = "{service}-p99-latency-high"
             namespace           = "AWS/ApplicationELB"
             metric_name         = "TargetResponseTime"
             extended_statistic  = "p99"
             period              = 60
             evaluation_periods  = 5
             datapoints_to_alarm = 3
             threshold           = 1.5
             comparison_operator = "GreaterThanThreshold"
             alarm_actions       = [var.oncall_topic_arn]
           }}
           ```

        3. Link the alarm from the runbook's "Latency" section.

        ## Verify
        - `aws cloudwatch describe-alarms --alarm-names {service}-p99-latency-high` shows
          `StateValue: OK`.
        - `aws cloudwatch set-alarm-state --alarm-name {service}-p99-latency-high
          --state-value ALARM --state-reason test` pages the on-call rotation.

        ## Roll back
        Delete the alarm: `aws cloudwatch delete-alarms --alarm-names {service}-p99-latency-high`.
        """,
    ),
    (
        ("deploy", "release", "5xx", "error", "canary", "rollback"),
        "HIGH",
        "Roll back {service} deployments automatically on 5xx alarms",
        "Deployment {deploy_id} kept serving errors for 11 minutes because rollbacks of "
        "{service} are manual.",
        """
        ## Why
        CodeDeploy finished deployment `{deploy_id}` (commit `{commit}`) while the 5xx alarm
        was firing; the rollback was started by hand 11 minutes later.

        ## Steps
        1. Attach the service's alarms to its deployment group and turn on automatic
           rollback:

           ```bash
           aws deploy update-deployment-group \\
             --application-name {service} \\
             --current-deployment-group-name prod \\
             --alarm-configuration file://alarms.json \\
             --auto-rollback-configuration file://auto-rollback.json
           ```

           with `alarms.json`:

           ```json
           {{
             "enabled": true,
             "alarms": [
               {{ "name": "{service}-5xx-rate-high" }},
               {{ "name": "{service}-p99-latency-high" }}
             ]
           }}
           ```

           and `auto-rollback.json`:

           ```json
           {{ "enabled": true, "events": ["DEPLOYMENT_FAILURE", "DEPLOYMENT_STOP_ON_ALARM"] }}
           ```

        2. Make the canary bake longer than the alarm needs to fire (10 minutes):

           ```json
           {{
             "deploymentConfigName": "{service}-canary-10pct-15min",
             "trafficRoutingConfig": {{
               "type": "TimeBasedCanary",
               "timeBasedCanary": {{ "canaryPercentage": 10, "canaryInterval": 15 }}
             }}
           }}
           ```

        ## Verify
        - Deploy a build that returns 500 on `/healthz/deep` to staging: the deployment must
          stop and roll back within 15 minutes without anyone acting.

        ## Roll back
        `aws deploy update-deployment-group ... --auto-rollback-configuration enabled=false`.
        """,
    ),
    (
        ("rds", "database", "db", "connection", "slow queries", "postgres"),
        "HIGH",
        "Cap connections per task on {service} and alarm on {db} connection count",
        "{db} ran out of connection slots when {service} scaled out: every task opens up to "
        "50 connections and nothing caps the total.",
        """
        ## Why
        At peak, 48 tasks x 50 pooled connections exceed `max_connections` (1,600) on
        `{db}`; new tasks fail their health checks and the service flaps.

        ## Steps
        1. Lower the pool size per task and add a wait timeout:

           ```yaml
           # config/prod.yaml
           datasource:
             maximum-pool-size: 20
             connection-timeout: 2000
             max-lifetime: 600000
           ```

        2. Alarm before the database is full:

           ```bash
           aws cloudwatch put-metric-alarm \\
             --alarm-name {db}-connections-high \\
             --namespace AWS/RDS --metric-name DatabaseConnections \\
             --dimensions Name=DBInstanceIdentifier,Value={db} \\
             --statistic Maximum --period 60 --evaluation-periods 3 \\
             --threshold 1200 --comparison-operator GreaterThanThreshold
           ```

        3. Check who holds connections when the alarm fires:

           ```sql
           SELECT usename, application_name, state, count(*)
           FROM pg_stat_activity
           GROUP BY 1, 2, 3
           ORDER BY 4 DESC;
           ```

        ## Verify
        - A load test at twice the peak keeps `DatabaseConnections` under 1,000.

        ## Roll back
        Restore `maximum-pool-size: 50` and redeploy.
        """,
    ),
    (
        ("queue", "lag", "consumer", "stream", "etl", "pipeline"),
        "MEDIUM",
        "Alarm on the age of the oldest message in {queue}",
        "Consumer lag on {queue} grew for {mins} minutes before the backlog alarm fired; "
        "message age shows trouble earlier than queue depth.",
        """
        ## Why
        Queue depth depends on traffic; message age does not. During the last incident the
        oldest message was 14 minutes old while depth was still under its threshold.

        ## Steps
        1. Alarm on `ApproximateAgeOfOldestMessage`:

           ```bash
           aws cloudwatch put-metric-alarm \\
             --alarm-name {queue}-message-age-high \\
             --namespace AWS/SQS --metric-name ApproximateAgeOfOldestMessage \\
             --dimensions Name=QueueName,Value={queue} \\
             --statistic Maximum --period 60 --evaluation-periods 5 \\
             --threshold 300 --comparison-operator GreaterThanThreshold
           ```

        2. Scale consumers on the same metric:

           ```bash
           aws application-autoscaling put-scaling-policy \\
             --service-namespace ecs --resource-id service/prod/{queue}-consumer \\
             --scalable-dimension ecs:service:DesiredCount \\
             --policy-name message-age --policy-type TargetTrackingScaling \\
             --target-tracking-scaling-policy-configuration file://message-age.json
           ```

        ## Verify
        - Pause the consumers for 6 minutes in staging: the alarm fires and the service
          scales out.
        """,
    ),
    (
        ("failover", "runbook", "dependency", "evaluate"),
        "LOW",
        "Write and rehearse a failover runbook for {dependency}",
        "There is no runbook for losing {dependency}; the last two incidents took 25 minutes "
        "to decide on a failover.",
        """
        ## Why
        On-call engineers had to work out the failover steps for `{dependency}` during the
        incident.

        ## Steps
        1. Add `runbooks/{dependency}-failover.md` with this outline:

           ```markdown
           # {dependency}: failover
           ## Symptoms
           ## Decide (who, within 5 minutes)
           ## Fail over
           ## Verify
           ## Fail back
           ```

        2. Rehearse it in staging once a quarter and record how long it took.
        3. Link the runbook from the `{service}-5xx-rate-high` alarm description.

        ## Verify
        - A game day in staging completes the failover in under 10 minutes.
        """,
    ),
    (
        ("memory", "oom", "cpu", "restart", "capacity", "coverage"),
        "MEDIUM",
        "Set memory limits and alarms for {service} tasks",
        "{service} tasks were OOM-killed {pct} times last week; the task definition has no "
        "soft limit and no alarm watches memory.",
        """
        ## Why
        Tasks restart under load with exit code 137; traffic shifts to the rest, which then
        run out of memory too.

        ## Steps
        1. Give the container a soft and a hard limit:

           ```json
           {{
             "name": "{service}",
             "memoryReservation": 1536,
             "memory": 2048
           }}
           ```

        2. Alarm on memory utilization:

           ```bash
           aws cloudwatch put-metric-alarm \\
             --alarm-name {service}-memory-high \\
             --namespace AWS/ECS --metric-name MemoryUtilization \\
             --dimensions Name=ClusterName,Value=prod Name=ServiceName,Value={service} \\
             --statistic Maximum --period 60 --evaluation-periods 5 \\
             --threshold 85 --comparison-operator GreaterThanThreshold
           ```

        ## Verify
        - `aws ecs describe-tasks` shows no `OutOfMemoryError` stop reasons for a week.
        """,
    ),
    (
        ("certificate", "tls", "dns", "edge"),
        "MEDIUM",
        "Alarm 30 days before certificates of {service} expire",
        "A certificate of {service} came within 6 days of expiring before anyone noticed.",
        """
        ## Why
        ACM renews managed certificates, but imported ones are renewed by hand.

        ## Steps
        1. Route ACM's expiry events to the on-call topic:

           ```bash
           aws events put-rule --name acm-expiry \\
             --event-pattern file://acm-expiry-pattern.json
           aws events put-targets --rule acm-expiry \\
             --targets Id=oncall,Arn=arn:aws:sns:us-east-1:123456789012:oncall-{service}
           ```

           where `acm-expiry-pattern.json` holds
           `{{"source": ["aws.acm"], "detail-type": ["ACM Certificate Approaching Expiration"]}}`.

        2. Set the warning to 30 days: `aws acm put-account-configuration
           --expiry-events DaysBeforeExpiry=30 --idempotency-token acm-expiry`.

        ## Verify
        - The next expiry event reaches the on-call channel.
        """,
    ),
)


def draft(
    task_id: str, title: str, count: int | None = None, avoid: frozenset[str] = frozenset()
) -> list[Draft]:
    """The recommendations an evaluation titled `title` ends with (the same task always gets
    the same ones): 1 to 3, mostly ones fitting the title, none with a title in `avoid` (the
    agent does not propose again what is still open)."""
    rng = random.Random(f"{task_id}:recommendations")
    # "on-call" reads like a service name (kebab-case) to the title parser; it is not one.
    plain = title.replace("on-call", "on call")
    names = _names(plain, rng, theme_for(plain))
    lowered = title.lower()
    fitting = [entry for entry in _CATALOGUE if any(word in lowered for word in entry[0])]
    others = [entry for entry in _CATALOGUE if entry not in fitting]
    rng.shuffle(fitting)
    rng.shuffle(others)
    wanted = count if count is not None else rng.randint(1, 3)
    out: list[Draft] = []
    for _, priority, title_text, summary, spec in fitting + others:
        if len(out) >= wanted:
            break
        found = Draft(
            title=title_text.format_map(names),
            summary=summary.format_map(names),
            spec=_spec(spec, names),
            priority=priority,
        )
        if found.title not in avoid:
            out.append(found)
    return out


def revise(spec: str, context: str, revision: int) -> str:
    """The spec after the agent took the operator's `context` into account."""
    quoted = "\n".join(f"> {line}" if line else ">" for line in context.strip().splitlines())
    head = f"> **Revision {revision}**, after feedback from the on-call team:\n>\n{quoted}\n\n"
    body = spec.split("\n\n", 1)[1] if spec.startswith("> **Revision ") else spec
    tail = textwrap.dedent(
        """

        ## Adjusted for your context
        1. Apply the steps above to staging first and keep the change behind the existing
           feature flag until the next change window.
        2. Confirm the thresholds with the service owner before rolling out to production:

           ```bash
           aws cloudwatch describe-alarms --alarm-name-prefix {prefix} \\
             --query 'MetricAlarms[].[AlarmName,Threshold,EvaluationPeriods]' --output table
           ```
        """
    ).format(prefix="prod-")
    if "## Adjusted for your context" in body:
        body = body.split("\n\n## Adjusted for your context", 1)[0] + "\n"
    return head + body.rstrip("\n") + "\n" + tail
