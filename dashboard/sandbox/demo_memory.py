"""Demo AgentCore memories for `seed_sandbox`: an on-call assistant's memory (actors, sessions,
conversations with tool results and branches, long-term records in namespaces per strategy)
and a smaller customer-support memory; plus the workload identities and credential providers
the identity operations answer for.

Everything is written relative to `now`, with ids derived from the content, so a seed is the
same every time apart from its timestamps.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import uuid
from dataclasses import dataclass, field
from typing import Any

from .models import (
    CredentialProvider,
    Memory,
    MemoryEvent,
    MemoryRecord,
    MemorySession,
    WorkloadIdentity,
)

TRIAGE_MEMORY = "DevOpsTriageMemory-K7m2Q9x4Lp"
SUPPORT_MEMORY = "SupportAssistantMemory-a1B2c3D4e5"

FACTS = "semanticFacts-Xb3kP9Lq2w"
PREFERENCES = "userPreferences-Qm7tZ2Hd8r"
SUMMARIES = "sessionSummaries-Lw4nR8Vc5j"

MINUTE = dt.timedelta(minutes=1)
HOUR = dt.timedelta(hours=1)
DAY = dt.timedelta(days=1)


def _hex(*parts: str, size: int = 12) -> str:
    return hashlib.sha256("|".join(parts).encode()).hexdigest()[:size]


def event_id(at: dt.datetime, *parts: str) -> str:
    return f"{int(at.timestamp() * 1000):019d}#{_hex(*parts)}"


def record_id(*parts: str) -> str:
    return f"mem-{uuid.UUID(hex=_hex(*parts, size=32))}"


def say(role: str, text: str) -> dict[str, Any]:
    return {"conversational": {"role": role, "content": {"text": text}}}


def blob(value: Any) -> dict[str, Any]:
    return {"blob": value}


@dataclass
class Turn:
    """One event: its payload, how long after the previous one, and where it sits."""

    payload: list[dict[str, Any]]
    after: dt.timedelta = MINUTE
    branch: str = ""  # a branch name; its first event forks from `fork` (a turn's key)
    fork: str = ""
    key: str = ""  # a name other turns can fork from
    metadata: dict[str, str] = field(default_factory=dict)


@dataclass
class Conversation:
    actor: str
    session: str
    ago: dt.timedelta
    turns: list[Turn]


TRIAGE_CONVERSATIONS = [
    Conversation(
        "oncall/priya-raman",
        "inc-4821-checkout-5xx",
        3 * DAY + 2 * HOUR,
        [
            Turn(
                [
                    say(
                        "USER",
                        "PagerDuty fired for checkout-api: 5xx at 7% since 02:14 UTC. "
                        "What changed?",
                    )
                ],
                metadata={"incident": "INC-4821", "source": "pagerduty"},
            ),
            Turn(
                [
                    say(
                        "TOOL",
                        '{"tool": "deployments.list", "service": "checkout-api", "window": "PT2H"}',
                    ),
                    blob(
                        {
                            "tool": "deployments.list",
                            "result": [
                                {
                                    "version": "v2.14.0",
                                    "at": "02:09Z",
                                    "by": "pipeline/checkout-prod",
                                    "status": "SUCCEEDED",
                                },
                                {
                                    "version": "v2.13.4",
                                    "at": "-1d",
                                    "by": "pipeline/checkout-prod",
                                    "status": "SUCCEEDED",
                                },
                            ],
                        }
                    ),
                ],
                after=dt.timedelta(seconds=20),
            ),
            Turn(
                [
                    say(
                        "ASSISTANT",
                        "**v2.14.0** reached production at 02:09 UTC, five minutes before the "
                        "error rate rose. The 5xx are `502` from the payments-gateway client:\n\n"
                        "- p99 of `POST /charge` went from 340 ms to 2.8 s\n"
                        "- the new release raised the gateway client's pool to 400 connections\n\n"
                        "Suggested next step: compare the connection pool settings of v2.13.4 "
                        "and v2.14.0, or roll back (about 6 minutes).",
                    )
                ],
                after=dt.timedelta(seconds=40),
                key="diagnosis",
            ),
            Turn([say("USER", "Show me the pool settings diff.")], after=2 * MINUTE),
            Turn(
                [
                    blob(
                        {
                            "tool": "config.diff",
                            "file": "checkout-api/config/payments-client.yaml",
                            "changes": [
                                {"key": "pool.maxConnections", "from": 100, "to": 400},
                                {"key": "pool.acquireTimeoutMs", "from": 2000, "to": 10000},
                            ],
                        }
                    ),
                    say(
                        "ASSISTANT",
                        "`pool.maxConnections` went from 100 to 400 and the acquire timeout "
                        "from 2 s to 10 s. The gateway allows 250 connections per client, so "
                        "the extra connections are refused and requests wait 10 s before "
                        "failing. Setting the pool back to 100 should stop the errors.",
                    ),
                ],
                after=dt.timedelta(seconds=35),
            ),
            Turn(
                [say("USER", "Hotfix v2.14.1 with the old pool size is deploying now.")],
                after=6 * MINUTE,
            ),
            Turn(
                [
                    say(
                        "ASSISTANT",
                        "v2.14.1 is live since 02:41 UTC; 5xx are back under 0.1%. I added a "
                        "note to INC-4821 and a follow-up task to cap the pool below the "
                        "gateway's per-client limit.",
                    )
                ],
                after=9 * MINUTE,
            ),
            # What if the on-call had rolled back instead: a branch from the diagnosis.
            Turn(
                [say("USER", "Alternative: roll back to v2.13.4 instead of a hotfix. Risks?")],
                after=3 * MINUTE,
                branch="rollback-option",
                fork="diagnosis",
            ),
            Turn(
                [
                    say(
                        "ASSISTANT",
                        "A rollback takes about 6 minutes through `checkout-prod` and also "
                        "reverts the new 3-D Secure copy shipped in v2.14.0 (a product-visible "
                        "change). No schema migrations are involved, so it is safe. The hotfix "
                        "keeps the new copy.",
                    )
                ],
                after=dt.timedelta(seconds=30),
                branch="rollback-option",
            ),
        ],
    ),
    Conversation(
        "oncall/priya-raman",
        "inc-4830-rds-connections",
        26 * HOUR,
        [
            Turn(
                [
                    say(
                        "USER",
                        "payments-ledger-db: FATAL remaining connection slots are "
                        "reserved. Who is holding the connections?",
                    )
                ],
                metadata={"incident": "INC-4830", "source": "pagerduty"},
            ),
            Turn(
                [
                    blob(
                        {
                            "tool": "rds.top_clients",
                            "cluster": "payments-ledger-db",
                            "maxConnections": 2000,
                            "clients": [
                                {"app": "settlement-batch", "connections": 1510},
                                {"app": "ledger-api", "connections": 402},
                                {"app": "reporting", "connections": 61},
                            ],
                        }
                    )
                ],
                after=dt.timedelta(seconds=15),
                key="clients",
            ),
            Turn(
                [
                    say(
                        "ASSISTANT",
                        "The nightly **settlement-batch** holds 1,510 of 2,000 connections: it "
                        "opens one per merchant shard and started at 02:00 UTC as usual, but "
                        "the shard count doubled last week.",
                    )
                ],
                after=dt.timedelta(seconds=25),
            ),
            Turn(
                [
                    say(
                        "ASSISTANT",
                        "settlement-batch (1,510 connections, one per merchant shard) exhausts "
                        "the pool. Short term: lower its `SHARD_PARALLELISM` to 32. Long term: "
                        "put RDS Proxy in front of the cluster.",
                    )
                ],
                after=dt.timedelta(seconds=50),
                branch="retry-1",
                fork="clients",
            ),
            Turn(
                [say("USER", "Set SHARD_PARALLELISM=32 and restarted the batch.")],
                after=4 * MINUTE,
                branch="retry-1",
            ),
            Turn(
                [
                    say(
                        "ASSISTANT",
                        "Connections are at 930/2000 and falling. INC-4830 can be "
                        "resolved; I opened a task for the RDS Proxy work.",
                    )
                ],
                after=3 * MINUTE,
                branch="retry-1",
            ),
        ],
    ),
    Conversation(
        "oncall/priya-raman",
        "weekly-handover-2026w18",
        7 * DAY,
        [
            Turn([say("USER", "Summarize this week's incidents for the handover.")]),
            Turn(
                [
                    say(
                        "ASSISTANT",
                        "Three incidents this week:\n\n1. **INC-4799** p99 latency on "
                        "ledger-api (GC pauses after the JVM upgrade; heap raised).\n2. "
                        "**INC-4803** expired TLS certificate on the partner webhook endpoint.\n"
                        "3. **INC-4811** Kinesis iterator age on the fraud stream (a stuck "
                        "consumer, restarted).\n\nOpen follow-ups: certificate expiry alarms, "
                        "consumer liveness probe.",
                    )
                ],
                after=dt.timedelta(seconds=45),
            ),
        ],
    ),
    Conversation(
        "oncall/marcus-lee",
        "inc-4799-latency-regression",
        4 * DAY,
        [
            Turn(
                [say("USER", "ledger-api p99 doubled after the Java 21 rollout. Ideas?")],
                metadata={"incident": "INC-4799"},
            ),
            Turn(
                [
                    say(
                        "ASSISTANT",
                        "GC logs show 600 to 900 ms G1 pauses since the rollout: the container "
                        "memory stayed at 2 GiB while the new default heap sizing takes 50%. "
                        "Set `-XX:MaxRAMPercentage=75` or raise the task memory.",
                    )
                ],
                after=dt.timedelta(seconds=30),
            ),
            Turn(
                [say("USER", "Raised the heap; p99 is back to 180 ms. Thanks.")], after=25 * MINUTE
            ),
        ],
    ),
    Conversation(
        "oncall/marcus-lee",
        "release-readiness-v2-14",
        5 * DAY,
        [
            Turn([say("USER", "Is checkout-api v2.14 ready to ship?")]),
            Turn(
                [
                    blob(
                        {"check": "alarms", "missing": ["payments-gateway client pool saturation"]}
                    ),
                    say(
                        "ASSISTANT",
                        "Mostly: tests and canary are green. One gap: there is no alarm on "
                        "the payments-gateway client's pool saturation, and this release "
                        "changes the pool size.",
                    ),
                ],
                after=dt.timedelta(seconds=40),
            ),
        ],
    ),
    Conversation(
        "service:payments-api",
        "deploy-watch-2026-05-03",
        2 * DAY,
        [
            Turn(
                [
                    {
                        "json": {
                            "content": {
                                "event": "deployment.started",
                                "version": "v5.2.0",
                                "canary": 5,
                            }
                        }
                    }
                ],
            ),
            Turn(
                [
                    {
                        "json": {
                            "content": {
                                "event": "canary.metrics",
                                "errorRate": 0.0004,
                                "p99Ms": 212,
                                "verdict": "healthy",
                            }
                        }
                    }
                ],
                after=10 * MINUTE,
            ),
            Turn(
                [{"json": {"content": {"event": "deployment.completed", "version": "v5.2.0"}}}],
                after=20 * MINUTE,
            ),
        ],
    ),
]

# (namespace, strategy, text, metadata, age)
TRIAGE_RECORDS: list[tuple[str, str, str, dict[str, str], dt.timedelta]] = [
    (
        "/facts/oncall/priya-raman",
        FACTS,
        "Priya is on the payments SRE rotation and owns checkout-api and payments-gateway.",
        {"source": "profile"},
        9 * DAY,
    ),
    (
        "/facts/oncall/priya-raman",
        FACTS,
        "checkout-api deploys through the blue/green pipeline checkout-prod; a rollback takes "
        "about 6 minutes.",
        {"service": "checkout-api"},
        3 * DAY,
    ),
    (
        "/facts/oncall/priya-raman",
        FACTS,
        "The payments gateway allows 250 connections per client; checkout-api's pool must stay "
        "below that.",
        {"service": "checkout-api", "incident": "INC-4821"},
        3 * DAY,
    ),
    (
        "/facts/oncall/priya-raman",
        FACTS,
        "payments-ledger-db (Aurora PostgreSQL) has max_connections 2000; the nightly "
        "settlement-batch starts at 02:00 UTC and opens one connection per merchant shard.",
        {"service": "payments-ledger-db", "incident": "INC-4830"},
        26 * HOUR,
    ),
    (
        "/facts/oncall/priya-raman",
        FACTS,
        "SHARD_PARALLELISM=32 keeps settlement-batch under 1,000 database connections.",
        {"service": "settlement-batch"},
        25 * HOUR,
    ),
    (
        "/facts/oncall/priya-raman",
        FACTS,
        "RDS Proxy for payments-ledger-db is planned but not yet deployed.",
        {"service": "payments-ledger-db"},
        25 * HOUR,
    ),
    (
        "/preferences/oncall/priya-raman",
        PREFERENCES,
        "Prefers the runbook link first, then the explanation.",
        {},
        8 * DAY,
    ),
    (
        "/preferences/oncall/priya-raman",
        PREFERENCES,
        "Wants incident summaries as three bullets with times in UTC.",
        {},
        7 * DAY,
    ),
    (
        "/preferences/oncall/priya-raman",
        PREFERENCES,
        "Prefers a hotfix over a rollback when the release carries product-visible changes.",
        {"incident": "INC-4821"},
        3 * DAY,
    ),
    (
        "/summaries/oncall/priya-raman/inc-4821-checkout-5xx",
        SUMMARIES,
        "INC-4821: checkout-api v2.14.0 raised the payments-gateway client pool from 100 to 400 "
        "connections, above the gateway's per-client limit of 250; requests waited 10 s and "
        "failed with 502. Hotfix v2.14.1 restored the pool size at 02:41 UTC.",
        {"incident": "INC-4821"},
        3 * DAY,
    ),
    (
        "/summaries/oncall/priya-raman/inc-4830-rds-connections",
        SUMMARIES,
        "INC-4830: settlement-batch exhausted payments-ledger-db connections after the merchant "
        "shard count doubled; lowering SHARD_PARALLELISM to 32 recovered the cluster.",
        {"incident": "INC-4830"},
        25 * HOUR,
    ),
    (
        "/summaries/oncall/priya-raman/weekly-handover-2026w18",
        SUMMARIES,
        "Week 18 handover: INC-4799 JVM heap sizing on ledger-api, INC-4803 expired partner "
        "webhook certificate, INC-4811 stuck Kinesis consumer on the fraud stream.",
        {},
        7 * DAY,
    ),
    (
        "/facts/oncall/marcus-lee",
        FACTS,
        "Marcus owns ledger-api and the reporting warehouse.",
        {"source": "profile"},
        10 * DAY,
    ),
    (
        "/facts/oncall/marcus-lee",
        FACTS,
        "ledger-api runs Java 21 with 2 GiB tasks; MaxRAMPercentage=75 avoids long G1 pauses.",
        {"service": "ledger-api", "incident": "INC-4799"},
        4 * DAY,
    ),
    (
        "/facts/oncall/marcus-lee",
        FACTS,
        "checkout-api v2.14 shipped without an alarm on payments-gateway pool saturation.",
        {"service": "checkout-api"},
        5 * DAY,
    ),
    (
        "/preferences/oncall/marcus-lee",
        PREFERENCES,
        "Likes GC log excerpts and flame graphs over prose.",
        {},
        6 * DAY,
    ),
    (
        "/summaries/oncall/marcus-lee/inc-4799-latency-regression",
        SUMMARIES,
        "INC-4799: ledger-api p99 doubled after the Java 21 rollout because of heap sizing; "
        "raising the heap brought p99 back to 180 ms.",
        {"incident": "INC-4799"},
        4 * DAY,
    ),
    (
        "/facts/service:payments-api",
        FACTS,
        "payments-api v5.2.0 passed its canary at 0.04% errors and 212 ms p99.",
        {"service": "payments-api"},
        2 * DAY,
    ),
]

SUPPORT_CONVERSATIONS = [
    Conversation(
        "customer/c-10442",
        "chat-7f3a91",
        30 * HOUR,
        [
            Turn(
                [say("USER", "My card payment was declined twice but I see two pending charges.")]
            ),
            Turn(
                [
                    say(
                        "ASSISTANT",
                        "Declined payments can show as pending holds for up to 5 "
                        "business days; they are released automatically and you were not "
                        "charged. Would you like me to send a confirmation by email?",
                    )
                ],
                after=dt.timedelta(seconds=20),
            ),
            Turn([say("USER", "Yes please.")], after=MINUTE),
            Turn(
                [say("ASSISTANT", "Done: the confirmation is on its way.")],
                after=dt.timedelta(seconds=10),
            ),
        ],
    ),
    Conversation(
        "customer/c-20917",
        "chat-b22e04",
        3 * HOUR,
        [
            Turn([say("USER", "How do I change the delivery address of order 88213?")]),
            Turn(
                [
                    say(
                        "ASSISTANT",
                        "Order 88213 has not shipped yet, so you can change the "
                        "address under *Orders → 88213 → Delivery*. Changes are possible until "
                        "the parcel is handed to the carrier.",
                    )
                ],
                after=dt.timedelta(seconds=15),
            ),
        ],
    ),
]

SUPPORT_RECORDS: list[tuple[str, str, str, dict[str, str], dt.timedelta]] = [
    (
        "/facts/customer/c-10442",
        FACTS,
        "Customer c-10442 pays by Visa card and prefers email over phone.",
        {},
        30 * HOUR,
    ),
    (
        "/facts/customer/c-20917",
        FACTS,
        "Customer c-20917 has an open order 88213 that has not shipped.",
        {},
        3 * HOUR,
    ),
    (
        "/preferences/customer/c-10442",
        PREFERENCES,
        "Wants written confirmations of anything done on the account.",
        {},
        30 * HOUR,
    ),
]

STRATEGIES = [
    {
        "strategyId": FACTS,
        "name": "Facts",
        "type": "SEMANTIC",
        "description": "Facts about services, systems and people, per actor.",
        "namespaces": ["/facts/{actorId}"],
    },
    {
        "strategyId": PREFERENCES,
        "name": "Preferences",
        "type": "USER_PREFERENCE",
        "description": "How each actor likes to work and be told things.",
        "namespaces": ["/preferences/{actorId}"],
    },
    {
        "strategyId": SUMMARIES,
        "name": "SessionSummaries",
        "type": "SUMMARIZATION",
        "description": "A summary of each session.",
        "namespaces": ["/summaries/{actorId}/{sessionId}"],
    },
]


def _metadata(values: dict[str, str]) -> dict[str, Any]:
    return {key: {"stringValue": value} for key, value in values.items()}


def write_conversation(memory: Memory, conversation: Conversation, now: dt.datetime) -> int:
    at = now - conversation.ago
    MemorySession.objects.get_or_create(
        memory=memory,
        actor_id=conversation.actor,
        session_id=conversation.session,
        defaults={"created_at": at},
    )
    keys: dict[str, str] = {}
    roots: dict[str, str] = {}
    events = []
    for index, turn in enumerate(conversation.turns):
        at += turn.after
        ident = event_id(at, memory.pk, conversation.actor, conversation.session, str(index))
        root = ""
        if turn.branch:
            root = roots.setdefault(turn.branch, keys.get(turn.fork, ""))
        events.append(
            MemoryEvent(
                memory=memory,
                actor_id=conversation.actor,
                session_id=conversation.session,
                event_id=ident,
                event_timestamp=at,
                payload=turn.payload,
                branch_name=turn.branch,
                branch_root_event_id=root,
                metadata=_metadata(turn.metadata),
            )
        )
        if turn.key:
            keys[turn.key] = ident
    MemoryEvent.objects.bulk_create(events)
    return len(events)


def write_records(
    memory: Memory,
    records: list[tuple[str, str, str, dict[str, str], dt.timedelta]],
    now: dt.datetime,
) -> int:
    MemoryRecord.objects.bulk_create(
        MemoryRecord(
            memory_record_id=record_id(memory.pk, namespace, text),
            memory=memory,
            text=text,
            memory_strategy_id=strategy,
            namespace=namespace,
            metadata=_metadata(metadata) or None,
            created_at=now - age,
            timestamp=now - age,
        )
        for namespace, strategy, text, metadata, age in records
    )
    return len(records)


def seed_memories(now: dt.datetime) -> dict[str, int]:
    """The two demo memories (skipping one that exists); counts of what was written."""
    counts = {"memories": 0, "events": 0, "records": 0}
    plan = [
        (
            TRIAGE_MEMORY,
            "DevOpsTriageAssistant",
            "The on-call assistant's memory: "
            "incident conversations, facts about services and people, preferences, summaries.",
            TRIAGE_CONVERSATIONS,
            TRIAGE_RECORDS,
            14 * DAY,
        ),
        (
            SUPPORT_MEMORY,
            "CustomerSupportAssistant",
            "Storefront support chats.",
            SUPPORT_CONVERSATIONS,
            SUPPORT_RECORDS,
            40 * DAY,
        ),
    ]
    for memory_id, name, description, conversations, records, age in plan:
        if Memory.objects.filter(pk=memory_id).exists():
            continue
        memory = Memory.objects.create(
            memory_id=memory_id,
            name=name,
            description=description,
            strategies=STRATEGIES,
            created_at=now - age,
            updated_at=now - age + HOUR,
        )
        counts["memories"] += 1
        for conversation in conversations:
            counts["events"] += write_conversation(memory, conversation, now)
        counts["records"] += write_records(memory, records, now)
    return counts


def seed_identities(now: dt.datetime) -> int:
    """Workload identities and credential providers (their secrets are made up here)."""
    import secrets

    created = 0
    for name, urls in (
        ("devops-triage-agent", ["https://console.example.com/oauth2/callback"]),
        ("support-assistant", []),
    ):
        _, made = WorkloadIdentity.objects.get_or_create(
            name=name, defaults={"allowed_return_urls": urls, "created_at": now}
        )
        created += made
    for name, kind, vendor in (
        ("pagerduty-api", CredentialProvider.API_KEY, "PagerDuty"),
        ("github-oauth", CredentialProvider.OAUTH2, "GitHub"),
        ("slack-oauth", CredentialProvider.OAUTH2, "Slack"),
    ):
        api_key = "sbx-" + secrets.token_urlsafe(24) if kind == CredentialProvider.API_KEY else ""
        _, made = CredentialProvider.objects.get_or_create(
            name=name,
            defaults={"kind": kind, "vendor": vendor, "api_key": api_key, "created_at": now},
        )
        created += made
    return created
