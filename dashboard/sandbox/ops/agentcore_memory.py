"""AgentCore Memory (`bedrock-agentcore`): events, sessions and actors (short-term memory) and
memory records with retrieval by relevance (long-term memory).

Behaviour the documents leave open, as the sandbox answers it:
- ListEvents returns a session's events oldest first. Events written without a branch are on
  the main branch; the branch filter name "main" selects them. `includeParentBranches` adds
  the parent branches' events up to (and including) the event each branch forks from.
- A new branch needs a `rootEventId` in the same session; later events on it may leave it out.
- A session exists from its first event; one left without events for a day disappears.
- Records live in at most one namespace. `namespace` matches exactly; `namespacePath` matches
  the namespace and everything below it ("/" is everything). One of the two is required.
- Retrieval ranks by term relevance (BM25 over the records in scope, scaled to 0..1), not by
  embeddings; records that share no term with the query are not returned.
- Long-term extraction (events turning into records) is not simulated: records come from the
  seed and BatchCreateMemoryRecords.
"""

from __future__ import annotations

import datetime as dt
import math
import uuid
from collections import Counter
from typing import Any

import regex
from django.db.models import Exists, OuterRef, Q
from django.utils import timezone

from ..models import Memory, MemoryEvent, MemoryRecord, MemorySession
from ..wire import Context, SandboxError, operation
from .paging import page

SERVICE = "bedrock-agentcore"

MAIN_BRANCH = "main"
EMPTY_SESSION_TTL = dt.timedelta(days=1)
DEFAULT_STRATEGY = "userProvided"


def _not_found(kind: str, ident: str) -> SandboxError:
    return SandboxError("ResourceNotFoundException", f"{kind} {ident} was not found")


def _invalid(message: str) -> SandboxError:
    return SandboxError("ValidationException", message)


def memory_key(memory_id: str) -> str:
    """The memory id alone (the API accepts its ARN too)."""
    return memory_id.rsplit(":memory/", 1)[-1] if memory_id.startswith("arn:") else memory_id


def _memory(memory_id: str) -> Memory:
    memory = Memory.objects.filter(pk=memory_key(memory_id)).first()
    if memory is None:
        raise _not_found("Memory", memory_id)
    return memory


# --- events ----------------------------------------------------------------------------------


def new_event_id(at: dt.datetime) -> str:
    """`<milliseconds, 19 digits>#<hex>`, the shape of the service's event ids."""
    return f"{int(at.timestamp() * 1000):019d}#{uuid.uuid4().hex[:12]}"


def _event(event: MemoryEvent, *, payloads: bool = True) -> dict[str, Any]:
    out: dict[str, Any] = {
        "memoryId": event.memory_id,
        "actorId": event.actor_id,
        "sessionId": event.session_id,
        "eventId": event.event_id,
        "eventTimestamp": event.event_timestamp,
        "payload": event.payload if payloads else [],
    }
    if event.branch_name:
        branch = {"name": event.branch_name}
        if event.branch_root_event_id:
            branch["rootEventId"] = event.branch_root_event_id
        out["branch"] = branch
    if event.metadata:
        out["metadata"] = event.metadata
    return out


def _session_events(memory: Memory, actor_id: str, session_id: str) -> list[MemoryEvent]:
    return list(MemoryEvent.objects.filter(memory=memory, actor_id=actor_id, session_id=session_id))


def _on_branch(event: MemoryEvent, name: str) -> bool:
    if name == MAIN_BRANCH:
        return event.branch_name in ("", MAIN_BRANCH)
    return event.branch_name == name


def _branch_filter(events: list[MemoryEvent], name: str, parents: bool) -> list[MemoryEvent]:
    """The events of branch `name`, and with `parents` its ancestry up to each fork."""
    chosen = {e.pk for e in events if _on_branch(e, name)}
    if parents:
        by_id = {e.event_id: e for e in events}
        current, seen = name, set()
        while current != MAIN_BRANCH and current not in seen:
            seen.add(current)
            rooted = next(
                (e for e in events if e.branch_name == current and e.branch_root_event_id), None
            )
            root = by_id.get(rooted.branch_root_event_id) if rooted else None
            if root is None:
                break
            parent = root.branch_name or MAIN_BRANCH
            cut = (root.event_timestamp, root.pk)
            chosen |= {
                e.pk for e in events if _on_branch(e, parent) and (e.event_timestamp, e.pk) <= cut
            }
            current = parent
    return [e for e in events if e.pk in chosen]


def _metadata_matches(metadata: dict[str, Any], expression: dict[str, Any]) -> bool:
    key = (expression.get("left") or {}).get("metadataKey", "")
    operator = expression.get("operator")
    present = key in (metadata or {})
    if operator == "EXISTS":
        return present
    if operator == "NOT_EXISTS":
        return not present
    if operator == "EQUALS_TO":
        wanted = ((expression.get("right") or {}).get("metadataValue") or {}).get("stringValue")
        return present and metadata[key].get("stringValue") == wanted
    return False


def _check_metadata_filters(filters: list[dict[str, Any]]) -> None:
    for expression in filters:
        operator = expression.get("operator")
        right = expression.get("right")
        if operator in ("EXISTS", "NOT_EXISTS") and right:
            raise _invalid(f"The {operator} operator takes no right-hand value")
        if operator not in ("EXISTS", "NOT_EXISTS") and not right:
            raise _invalid(f"The {operator} operator needs a right-hand value")


@operation(SERVICE, "ListEvents")
def list_events(ctx: Context, params: dict[str, Any]) -> dict[str, Any]:
    memory = _memory(params["memoryId"])
    events = _session_events(memory, params["actorId"], params["sessionId"])
    chosen = params.get("filter") or {}
    branch = chosen.get("branch")
    if branch:
        events = _branch_filter(events, branch["name"], bool(branch.get("includeParentBranches")))
    expressions = chosen.get("eventMetadata") or []
    _check_metadata_filters(expressions)
    for expression in expressions:
        events = [e for e in events if _metadata_matches(e.metadata, expression)]
    rows, token = page(
        events,  # type: ignore[arg-type]
        params.get("nextToken"),
        params.get("maxResults"),
        scope=f"ListEvents:{memory.pk}:{params['actorId']}:{params['sessionId']}:{chosen!r}",
        default=20,
    )
    payloads = params.get("includePayloads", True)
    return {"events": [_event(e, payloads=payloads) for e in rows], "nextToken": token}


def _find_event(params: dict[str, Any]) -> MemoryEvent:
    memory = _memory(params["memoryId"])
    event = MemoryEvent.objects.filter(
        memory=memory,
        actor_id=params["actorId"],
        session_id=params["sessionId"],
        event_id=params["eventId"],
    ).first()
    if event is None:
        raise _not_found("Event", params["eventId"])
    return event


@operation(SERVICE, "GetEvent")
def get_event(ctx: Context, params: dict[str, Any]) -> dict[str, Any]:
    return {"event": _event(_find_event(params))}


@operation(SERVICE, "DeleteEvent")
def delete_event(ctx: Context, params: dict[str, Any]) -> dict[str, Any]:
    event = _find_event(params)
    event_id = event.event_id
    event.delete()
    return {"eventId": event_id}


def _check_payload(payload: list[dict[str, Any]]) -> None:
    for index, item in enumerate(payload):
        members = [k for k in ("conversational", "blob", "json") if item.get(k) is not None]
        if len(members) != 1:
            raise _invalid(
                f"payload[{index}] must hold exactly one of conversational, blob or json"
            )
        conversational = item.get("conversational")
        if conversational is not None and not (conversational.get("content") or {}).get("text"):
            raise _invalid(f"payload[{index}].conversational.content.text is required")


def _branch_for(
    memory: Memory, actor_id: str, session_id: str, branch: dict[str, Any] | None
) -> tuple[str, str]:
    """(branch name, root event id) to store for a new event; "" for the main branch."""
    if not branch:
        return "", ""
    name, root = branch["name"], branch.get("rootEventId") or ""
    existing = (
        MemoryEvent.objects.filter(
            memory=memory, actor_id=actor_id, session_id=session_id, branch_name=name
        )
        .exclude(branch_root_event_id="")
        .first()
    )
    if existing is not None:
        if root and root != existing.branch_root_event_id:
            raise _invalid(
                f"Branch {name} already forks from event {existing.branch_root_event_id}"
            )
        return name, existing.branch_root_event_id
    if name == MAIN_BRANCH and not root:
        return "", ""
    if not root:
        raise _invalid(f"A new branch ({name}) needs the rootEventId it forks from")
    if not MemoryEvent.objects.filter(
        memory=memory, actor_id=actor_id, session_id=session_id, event_id=root
    ).exists():
        raise _not_found("Root event", root)
    return name, root


def _stored_metadata(metadata: dict[str, Any] | None) -> dict[str, Any]:
    """Metadata values as JSON (datetimes as ISO text), to keep in a JSONField."""
    out: dict[str, Any] = {}
    for key, value in (metadata or {}).items():
        item = dict(value)
        if isinstance(item.get("dateTimeValue"), dt.datetime):
            item["dateTimeValue"] = item["dateTimeValue"].isoformat()
        out[key] = item
    return out


def _served_metadata(metadata: dict[str, Any] | None) -> dict[str, Any] | None:
    if not metadata:
        return None
    out: dict[str, Any] = {}
    for key, value in metadata.items():
        item = dict(value)
        if isinstance(item.get("dateTimeValue"), str):
            item["dateTimeValue"] = dt.datetime.fromisoformat(item["dateTimeValue"])
        out[key] = item
    return out


@operation(SERVICE, "CreateEvent")
def create_event(ctx: Context, params: dict[str, Any]) -> dict[str, Any]:
    memory = _memory(params["memoryId"])
    token = params.get("clientToken") or ""
    if token:
        earlier = MemoryEvent.objects.filter(memory=memory, client_token=token).first()
        if earlier is not None:
            return {"event": _event(earlier)}
    payload = params["payload"]
    _check_payload(payload)
    actor_id = params["actorId"]
    session_id = params.get("sessionId") or f"session-{uuid.uuid4().hex[:16]}"
    name, root = _branch_for(memory, actor_id, session_id, params.get("branch"))
    when = params["eventTimestamp"]
    event = MemoryEvent.objects.create(
        memory=memory,
        actor_id=actor_id,
        session_id=session_id,
        event_id=new_event_id(when),
        event_timestamp=when,
        payload=payload,
        branch_name=name,
        branch_root_event_id=root,
        metadata=params.get("metadata") or {},
        client_token=token,
    )
    MemorySession.objects.get_or_create(
        memory=memory,
        actor_id=actor_id,
        session_id=session_id,
        defaults={"created_at": timezone.now()},
    )
    return {"event": _event(event)}


# --- sessions and actors ---------------------------------------------------------------------


def _forget_empty_sessions(memory: Memory, now: dt.datetime) -> None:
    has_events = MemoryEvent.objects.filter(
        memory=memory, actor_id=OuterRef("actor_id"), session_id=OuterRef("session_id")
    )
    MemorySession.objects.filter(memory=memory, created_at__lt=now - EMPTY_SESSION_TTL).exclude(
        Exists(has_events)
    ).delete()


@operation(SERVICE, "ListSessions")
def list_sessions(ctx: Context, params: dict[str, Any]) -> dict[str, Any]:
    memory = _memory(params["memoryId"])
    _forget_empty_sessions(memory, timezone.now())
    sessions = MemorySession.objects.filter(memory=memory, actor_id=params["actorId"])
    event_filter = (params.get("filter") or {}).get("eventFilter")
    if event_filter == "HAS_EVENTS":
        sessions = sessions.filter(
            Exists(
                MemoryEvent.objects.filter(
                    memory=memory, actor_id=OuterRef("actor_id"), session_id=OuterRef("session_id")
                )
            )
        )
    rows, token = page(
        sessions.order_by("-created_at", "session_id"),
        params.get("nextToken"),
        params.get("maxResults"),
        scope=f"ListSessions:{memory.pk}:{params['actorId']}:{event_filter}",
        default=20,
    )
    return {
        "sessionSummaries": [
            {"sessionId": s.session_id, "actorId": s.actor_id, "createdAt": s.created_at}
            for s in rows
        ],
        "nextToken": token,
    }


@operation(SERVICE, "ListActors")
def list_actors(ctx: Context, params: dict[str, Any]) -> dict[str, Any]:
    memory = _memory(params["memoryId"])
    _forget_empty_sessions(memory, timezone.now())
    actors = (
        MemorySession.objects.filter(memory=memory)
        .order_by("actor_id")
        .values_list("actor_id", flat=True)
        .distinct()
    )
    rows, token = page(
        actors,
        params.get("nextToken"),
        params.get("maxResults"),
        scope=f"ListActors:{memory.pk}",
        default=20,
    )
    return {"actorSummaries": [{"actorId": a} for a in rows], "nextToken": token}


# --- memory records --------------------------------------------------------------------------


def _record(record: MemoryRecord, *, score: float | None = None, full: bool = False) -> dict:
    out: dict[str, Any] = {
        "memoryRecordId": record.memory_record_id,
        "content": {"text": record.text},
        "memoryStrategyId": record.memory_strategy_id,
        "namespaces": [record.namespace] if record.namespace else [],
        "createdAt": record.created_at,
        "timestamp": record.timestamp,
        "metadata": _served_metadata(record.metadata),
    }
    if score is not None:
        out["score"] = score
    if full:
        out["expiresAt"] = record.expires_at
    return out


def _live_records(memory: Memory, now: dt.datetime) -> Any:
    return MemoryRecord.objects.filter(memory=memory).filter(
        Q(expires_at__isnull=True) | Q(expires_at__gt=now)
    )


def _in_namespace(namespace: str, exact: str | None, path: str | None) -> bool:
    if exact is not None:
        return namespace == exact
    if path is None:
        return True
    prefix = path.strip("/")
    here = namespace.strip("/")
    return not prefix or here == prefix or here.startswith(prefix + "/")


def _scope(params: dict[str, Any]) -> tuple[str | None, str | None]:
    exact, path = params.get("namespace"), params.get("namespacePath")
    if exact is None and path is None:
        raise _invalid("Either namespace or namespacePath is required")
    if exact is not None and path is not None:
        raise _invalid("Give either namespace or namespacePath, not both")
    return exact, path


def _value_of(item: dict[str, Any]) -> Any:
    for key in ("stringValue", "numberValue", "dateTimeValue", "stringListValue"):
        if key in item:
            value = item[key]
            if key == "dateTimeValue" and isinstance(value, str):
                return dt.datetime.fromisoformat(value)
            return value
    return None


def _record_metadata_matches(metadata: dict[str, Any] | None, expression: dict) -> bool:
    key = (expression.get("left") or {}).get("metadataKey", "")
    operator = expression.get("operator")
    metadata = metadata or {}
    if operator == "EXISTS":
        return key in metadata
    if operator == "NOT_EXISTS":
        return key not in metadata
    if key not in metadata:
        return False
    have = _value_of(metadata[key])
    want = _value_of((expression.get("right") or {}).get("metadataValue") or {})
    if isinstance(have, dt.datetime) and isinstance(want, dt.datetime):
        have, want = have.astimezone(dt.UTC), want.astimezone(dt.UTC)
    try:
        if operator == "EQUALS_TO":
            return have == want
        if operator == "CONTAINS":
            if isinstance(have, list):
                wanted = want if isinstance(want, list) else [want]
                return all(w in have for w in wanted)
            return isinstance(have, str) and str(want) in have
        if operator in ("BEFORE", "LESS_THAN"):
            return have < want
        if operator in ("AFTER", "GREATER_THAN"):
            return have > want
        if operator == "LESS_THAN_OR_EQUALS":
            return have <= want
        if operator == "GREATER_THAN_OR_EQUALS":
            return have >= want
    except TypeError:
        return False
    return False


def _records_in_scope(
    memory: Memory, params: dict[str, Any], strategy: str | None, filters: list[dict]
) -> list[MemoryRecord]:
    exact, path = _scope(params)
    _check_metadata_filters(filters)
    rows = _live_records(memory, timezone.now())
    if strategy:
        rows = rows.filter(memory_strategy_id=strategy)
    if exact is not None:
        rows = rows.filter(namespace=exact)
    found = [
        r
        for r in rows.order_by("-created_at", "memory_record_id")
        if _in_namespace(r.namespace, exact, path)
    ]
    for expression in filters:
        found = [r for r in found if _record_metadata_matches(r.metadata, expression)]
    return found


@operation(SERVICE, "ListMemoryRecords")
def list_memory_records(ctx: Context, params: dict[str, Any]) -> dict[str, Any]:
    memory = _memory(params["memoryId"])
    filters = params.get("metadataFilters") or []
    found = _records_in_scope(memory, params, params.get("memoryStrategyId"), filters)
    rows, token = page(
        found,  # type: ignore[arg-type]
        params.get("nextToken"),
        params.get("maxResults"),
        scope=(
            f"ListMemoryRecords:{memory.pk}:{params.get('namespace')}:"
            f"{params.get('namespacePath')}:{params.get('memoryStrategyId')}:{filters!r}"
        ),
        default=20,
    )
    return {"memoryRecordSummaries": [_record(r) for r in rows], "nextToken": token}


def _find_record(params: dict[str, Any]) -> MemoryRecord:
    memory = _memory(params["memoryId"])
    record = (
        _live_records(memory, timezone.now())
        .filter(memory_record_id=params["memoryRecordId"])
        .first()
    )
    if record is None:
        raise _not_found("Memory record", params["memoryRecordId"])
    return record


@operation(SERVICE, "GetMemoryRecord")
def get_memory_record(ctx: Context, params: dict[str, Any]) -> dict[str, Any]:
    return {"memoryRecord": _record(_find_record(params), full=True)}


@operation(SERVICE, "DeleteMemoryRecord")
def delete_memory_record(ctx: Context, params: dict[str, Any]) -> dict[str, Any]:
    record = _find_record(params)
    record_id = record.memory_record_id
    record.delete()
    return {"memoryRecordId": record_id}


# Retrieval: BM25 over the records in scope, squashed into 0..1 so that scores read as
# "how relevant" and stay comparable between queries of different lengths.
_WORD = regex.compile(r"[\p{L}\p{N}]+")
_STOP = frozenset(
    "a an and are as at be but by for from has have i in is it its me my of on or our so that "
    "the their them they this to was we were what when where which who why will with you your "
    "do does did can could should would about into than then there these those how".split()
)
_K1, _B = 1.2, 0.75


def _stem(word: str) -> str:
    for suffix in ("ing", "ed", "es", "s"):
        if len(word) > len(suffix) + 3 and word.endswith(suffix):
            return word[: -len(suffix)]
    return word


def terms(text: str) -> list[str]:
    return [_stem(w) for w in _WORD.findall(text.lower()) if w not in _STOP]


def rank(query: str, records: list[MemoryRecord]) -> list[tuple[MemoryRecord, float]]:
    """(record, score) for the records sharing a term with `query`, most relevant first."""
    wanted = set(terms(query))
    if not wanted or not records:
        return []
    docs = [Counter(terms(r.text)) for r in records]
    count = len(docs)
    average = sum(sum(d.values()) for d in docs) / count or 1.0
    idf = {
        t: math.log(1 + (count - df + 0.5) / (df + 0.5))
        for t in wanted
        for df in [sum(1 for d in docs if t in d)]
    }
    scored = []
    for record, doc in zip(records, docs, strict=True):
        length = sum(doc.values())
        raw = 0.0
        for t in wanted:
            tf = doc.get(t, 0)
            if tf:
                raw += idf[t] * tf * (_K1 + 1) / (tf + _K1 * (1 - _B + _B * length / average))
        if raw > 0:
            scored.append((record, round(raw / (raw + 2.0), 4)))
    scored.sort(key=lambda pair: (-pair[1], -pair[0].created_at.timestamp()))
    return scored


@operation(SERVICE, "RetrieveMemoryRecords")
def retrieve_memory_records(ctx: Context, params: dict[str, Any]) -> dict[str, Any]:
    memory = _memory(params["memoryId"])
    criteria = params["searchCriteria"]
    filters = criteria.get("metadataFilters") or []
    candidates = _records_in_scope(memory, params, criteria.get("memoryStrategyId"), filters)
    top = rank(criteria["searchQuery"], candidates)[: criteria.get("topK") or 10]
    rows, token = page(
        top,  # type: ignore[arg-type]
        params.get("nextToken"),
        params.get("maxResults"),
        scope=(
            f"RetrieveMemoryRecords:{memory.pk}:{params.get('namespace')}:"
            f"{params.get('namespacePath')}:{criteria!r}"
        ),
        default=20,
    )
    return {"memoryRecordSummaries": [_record(r, score=s) for r, s in rows], "nextToken": token}


# --- batch writes ----------------------------------------------------------------------------


def new_record_id() -> str:
    return f"mem-{uuid.uuid4()}"


def _outcome(
    record_id: str, *, request_id: str = "", error: tuple[int, str] | None = None
) -> dict[str, Any]:
    out: dict[str, Any] = {"memoryRecordId": record_id, "status": "SUCCEEDED"}
    if request_id:
        out["requestIdentifier"] = request_id
    if error:
        out.update(status="FAILED", errorCode=error[0], errorMessage=error[1])
    return out


def _expiry(spec: dict[str, Any] | None, now: dt.datetime) -> dt.datetime | None:
    days = (spec or {}).get("recordExpiryDurationDays")
    return now + dt.timedelta(days=days) if days else None


@operation(SERVICE, "BatchCreateMemoryRecords")
def batch_create_memory_records(ctx: Context, params: dict[str, Any]) -> dict[str, Any]:
    memory = _memory(params["memoryId"])
    token = params.get("clientToken") or ""
    if token:
        earlier = MemoryRecord.objects.filter(memory=memory, client_token=token)
        if earlier.exists():
            return {
                "successfulRecords": [
                    _outcome(r.memory_record_id, request_id=r.request_identifier)
                    for r in earlier.order_by("created_at", "memory_record_id")
                ],
                "failedRecords": [],
            }
    now = timezone.now()
    expires = _expiry(params.get("recordExpirySpecification"), now)
    done, failed, seen = [], [], set()
    for item in params["records"]:
        request_id = item["requestIdentifier"]
        record_id = new_record_id()
        text = (item.get("content") or {}).get("text")
        if request_id in seen:
            failed.append(
                _outcome(
                    record_id,
                    request_id=request_id,
                    error=(400, "Duplicate requestIdentifier in this batch"),
                )
            )
            continue
        seen.add(request_id)
        if not text:
            failed.append(
                _outcome(record_id, request_id=request_id, error=(400, "content.text is required"))
            )
            continue
        MemoryRecord.objects.create(
            memory_record_id=record_id,
            memory=memory,
            text=text,
            memory_strategy_id=item.get("memoryStrategyId") or DEFAULT_STRATEGY,
            namespace=(item.get("namespaces") or [""])[0],
            metadata=_stored_metadata(item.get("metadata")) or None,
            created_at=now,
            timestamp=item["timestamp"],
            expires_at=expires,
            client_token=token,
            request_identifier=request_id,
        )
        done.append(_outcome(record_id, request_id=request_id))
    return {"successfulRecords": done, "failedRecords": failed}


@operation(SERVICE, "BatchUpdateMemoryRecords")
def batch_update_memory_records(ctx: Context, params: dict[str, Any]) -> dict[str, Any]:
    memory = _memory(params["memoryId"])
    now = timezone.now()
    expires = _expiry(params.get("recordExpirySpecification"), now)
    done, failed = [], []
    for item in params["records"]:
        record_id = item["memoryRecordId"]
        record = _live_records(memory, now).filter(memory_record_id=record_id).first()
        if record is None:
            failed.append(
                _outcome(record_id, error=(404, f"Memory record {record_id} was not found"))
            )
            continue
        sources = item.get("sourceNamespaces")
        if sources is not None and record.namespace not in sources:
            failed.append(_outcome(record_id, error=(400, "The record is not in sourceNamespaces")))
            continue
        text = (item.get("content") or {}).get("text")
        if item.get("content") is not None and not text:
            failed.append(_outcome(record_id, error=(400, "content.text is required")))
            continue
        if text:
            record.text = text
        if item.get("namespaces") is not None:
            record.namespace = (item["namespaces"] or [""])[0]
        if item.get("memoryStrategyId"):
            record.memory_strategy_id = item["memoryStrategyId"]
        if item.get("metadata") is not None:
            record.metadata = _stored_metadata(item["metadata"]) or None
        record.timestamp = item["timestamp"]
        if expires is not None:
            record.expires_at = expires
        record.save()
        done.append(_outcome(record_id))
    return {"successfulRecords": done, "failedRecords": failed}


@operation(SERVICE, "BatchDeleteMemoryRecords")
def batch_delete_memory_records(ctx: Context, params: dict[str, Any]) -> dict[str, Any]:
    memory = _memory(params["memoryId"])
    now = timezone.now()
    done, failed = [], []
    for item in params["records"]:
        record_id = item["memoryRecordId"]
        rows = _live_records(memory, now).filter(memory_record_id=record_id)
        if item.get("namespace") is not None:
            rows = rows.filter(namespace=item["namespace"])
        if rows.delete()[0]:
            done.append(_outcome(record_id))
        else:
            failed.append(
                _outcome(record_id, error=(404, f"Memory record {record_id} was not found"))
            )
    return {"successfulRecords": done, "failedRecords": failed}
