"""Forms generated from botocore input shapes: one module instead of a hand-written form per
variant of a big union (every service type, every association configuration, ...).

    from dashboard.aws.model import service_model
    from dashboard.core.shapeforms import Hint, ShapeForm, describe

    shape = service_model("devops-agent").shape_for("ServiceDetails").members["mcpserver"]
    layout = describe(shape, hints={"*.returnToEndpoint": Hint(initial="https://...")})
    form = ShapeForm(layout, data=request.POST or None)
    if request.method == "POST" and form.is_valid():
        details = form.value            # the nested dict the API takes
    ...
    {% include "includes/shapeform.html" with form=form %}

`describe(shape)` reads the model once into a tree of `Node`s (cache it per shape): required
members, enums, lengths, patterns, nested structures, unions, lists and maps, the member
documentation as help text. `ShapeForm(layout, ...)` is a Django form over that tree. Every
leaf becomes one ordinary field named by its dotted path (`authorizationConfig.apiKey.apiKeyValue`,
rows of lists and maps by index: `headers.0.key`), so plain HTML posts work without JavaScript:

- structure: a fieldset. An optional structure is sent only when something inside it is
  filled in, and then its required members are checked.
- union: radio buttons `<path>._variant` (plus "none" when the union is optional) and one
  fieldset per variant; only the chosen variant is read, checked and sent. Without JavaScript
  every variant is on the page; static/js/shapeforms.js shows the chosen one only.
- string: a text input (a URL input for https patterns, a textarea for long free text), a
  select for enums; an enum with one value is fixed and sent as it is.
- sensitive strings (the model's `sensitive` trait) that hold credentials: password inputs that
  are never filled in from data or a failed post. The model also marks some non-credentials
  sensitive (an OAuth client id is public by RFC 6749 §2.2; descriptions, e-mail addresses):
  those are ordinary inputs (see PUBLIC_SENSITIVE), and the audit log redacts them anyway.
- boolean: a checkbox (an unchecked optional boolean is left out); integer: a number input.
- list of strings: a textarea, one item per line; list of enums: checkboxes; list of
  structures and maps: rows of fields (`<path>._rows` says how many; an "Add row" button asks
  for one more, shapeforms.js adds it in place).
- document: JSON text.
- a text member given `options` (value, label) is a select of those, plus "Another" with the
  text input for any other value (`<path>._pick` names the select); without JavaScript both
  are on the page, and a value chosen in the select wins over one typed.

Validation happens in `clean()` with the model's own constraints (dashboard/aws/model.py), only
for what will be sent. `form.value` is the nested value; `apply_aws_errors(exc.fields)` places
AWS's per-member messages (ValidationExceptionField paths) next to the fields they name.

Secrets: `form.secret_values()` lists the credentials typed in; `with form.scrubbing():` around
the AWS call removes them from any error message before it reaches the page, the audit log or
the logs. With `keep_blank_secrets=True` (update forms) an empty secret means "keep the current
one": it is left out of `form.value` and its help says so.

Hints adjust presentation without touching the model: keys are dotted paths relative to the
form's root with `*` wildcards (fnmatch), e.g. `"*.agentElevatedRoleArnStatus": Hint(omit=True)`.
"""

from __future__ import annotations

import contextlib
import fnmatch
import json
from collections.abc import Iterator
from dataclasses import dataclass, replace
from dataclasses import field as _field
from typing import Any

import regex
from django import forms

from dashboard.aws import errors
from dashboard.aws.model import (
    NOT_CREDENTIALS,
    Constraint,
    Shape,  # botocore stays behind dashboard/aws
    shape_constraint,
)

from .forms import model_validator, read_json

VARIANT = "_variant"
ROWS = "_rows"
MORE = "_more"  # the name of the "Add row" submit button; its value is the list's path
PICK = "_pick"  # <path>._pick: the select of a text member offered with options
OTHER = "_other"  # the select's value that means "the one typed in the text input"

# Sensitive in the model, but not credentials: shown and kept like any other input.
PUBLIC_SENSITIVE = NOT_CREDENTIALS

# Words in member names people spell otherwise.
_WORDS = {
    "api": "API",
    "arn": "ARN",
    "arns": "ARNs",
    "aws": "AWS",
    "id": "ID",
    "ids": "IDs",
    "url": "URL",
    "urls": "URLs",
    "urn": "URN",
    "kms": "KMS",
    "mcp": "MCP",
    "sre": "SRE",
    "guids": "GUIDs",
    "guid": "GUID",
    "oauth": "OAuth",
    "3lo": "3LO",
    "sigv4": "SigV4",
    "sigv4a": "SigV4a",
    "ou": "OU",
    "org": "organization",
    "env": "environment",
    "apm": "APM",
    "http": "HTTP",
    "https": "HTTPS",
    "json": "JSON",
    "vpc": "VPC",
    "pkce": "PKCE",
}
_TOKENS = regex.compile(
    r"SigV4a?|OAuth|oAuth|3LO|[A-Z]{2,}(?=[A-Z][a-z]|\d|$)|[A-Z]?[a-z]+|[A-Z]+|\d+"
)

# Patterns that recur across AWS models, in words: (placeholder, message when it does not match).
_FORMATS: dict[str, tuple[str, str]] = {
    r"https://[a-zA-Z0-9.-]+(?::[0-9]+)?(?:/.*)?": (
        "https://",
        "Enter an https:// URL (host name, optional port and path).",
    ),
    r"arn:(aws|aws-cn|aws-us-gov):iam::\d{12}:role/[a-zA-Z0-9+=,.@_/-]+": (
        "arn:aws:iam::123456789012:role/Name",
        "Enter an IAM role ARN, like arn:aws:iam::123456789012:role/Name.",
    ),
    r"\d{12}": ("123456789012", "Enter a 12-digit AWS account ID."),
    r"[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}": (
        "00000000-0000-0000-0000-000000000000",
        "Enter a GUID (8-4-4-4-12 hexadecimal digits).",
    ),
    r"[a-zA-Z0-9_-]+": ("", "Use only letters, digits, _ and -."),
    r"[0-9]+": ("", "Use digits only."),
    r"[\S]+": ("", "Remove spaces: this value has none."),
    r"[a-z0-9]([a-z0-9-]*[a-z0-9])?": (
        "",
        "Use lower-case letters, digits and - (not at the start or end).",
    ),
}


@dataclass(frozen=True)
class Hint:
    """Presentation of one member; None keeps what the model says."""

    label: str | None = None
    help: str | None = None
    omit: bool = False
    order: int | None = None
    initial: Any = None
    placeholder: str | None = None
    secret: bool | None = None
    textarea: bool | None = None
    rows: int | None = None  # rows shown for a list of structures or a map


@dataclass
class Node:
    """One member of the shape, as the form shows it."""

    name: str
    path: str  # dotted, relative to the form's root ("" for the root); rows use "*"
    kind: str  # struct union text textarea secret choice fixed bool int float lines
    # multichoice rows map json
    label: str
    help: str = ""
    required: bool = False
    constraint: Constraint | None = None
    children: list[Node] = _field(default_factory=list)  # struct members, union variants
    item: Node | None = None  # rows: the structure of one row; lines: the item's constraint
    key: Node | None = None  # map
    value: Node | None = None  # map
    choices: tuple[str, ...] = ()
    min_items: int | None = None
    max_items: int | None = None
    placeholder: str = ""
    initial: Any = None
    rows: int = 3
    url: bool = False
    sensitive: bool = False  # the model's trait (credential or not)


# --- reading the model ------------------------------------------------------------------------


def humanize(name: str) -> str:
    """`apiKeyHeader` → "API key header", `oAuth3LO` → "OAuth 3LO"."""
    words = []
    for index, token in enumerate(_TOKENS.findall(name)):
        word = _WORDS.get(token.lower())
        if word is None:
            word = token if token.isupper() and len(token) > 1 else token.lower()
        words.append(word)
        if index == 0 and word == word.lower():
            words[0] = word[:1].upper() + word[1:]
    return " ".join(words) or name


def plain(doc: str) -> str:
    text = regex.sub(r"<[^>]+>", "", doc or "")
    return regex.sub(r"\s+", " ", text).strip()


def _hint(hints: dict[str, Hint], path: str) -> Hint:
    found = Hint()
    for pattern, hint in hints.items():
        if fnmatch.fnmatchcase(path, pattern):
            # Later, more specific entries win member by member.
            changes = {k: v for k, v in hint.__dict__.items() if v not in (None, False)}
            found = replace(found, **changes)
    return found


def _join(path: str, name: str) -> str:
    return f"{path}.{name}" if path else name


def _is_secret(name: str, shape: Shape, hint: Hint) -> bool:
    if hint.secret is not None:
        return hint.secret
    return bool(shape.metadata.get("sensitive")) and name not in PUBLIC_SENSITIVE


def describe(shape: Shape, *, hints: dict[str, Hint] | None = None, label: str = "") -> Node:
    """The form layout of structure `shape` (its members become the form's fields)."""
    return _node("", "", shape, True, hints or {}, label=label, doc=shape.documentation)


def _node(
    name: str,
    path: str,
    shape: Shape,
    required: bool,
    hints: dict[str, Hint],
    *,
    label: str = "",
    doc: str = "",
) -> Node:
    hint = _hint(hints, path) if path else Hint()
    meta = shape.metadata
    text_label = hint.label or label or humanize(name)
    help_text = hint.help if hint.help is not None else plain(doc or shape.documentation)
    base = {
        "name": name,
        "path": path,
        "label": text_label,
        "help": help_text,
        "required": required,
        "initial": hint.initial,
        "sensitive": bool(meta.get("sensitive")),
    }
    kind = shape.type_name
    if meta.get("document"):
        return Node(kind="json", **base)
    if kind == "structure":
        children = []
        for index, (member, member_shape) in enumerate(shape.members.items()):
            child_path = _join(path, member)
            child_hint = _hint(hints, child_path)
            if child_hint.omit:
                continue
            is_required = member in shape.required_members and not meta.get("union")
            child = _node(member, child_path, member_shape, is_required, hints)
            children.append((child_hint.order, index, child))
        if meta.get("union"):
            ordered = [c for _, _, c in sorted(children, key=lambda t: (_order(t[0]), t[1]))]
            return Node(kind="union", children=ordered, **base)
        ordered = [c for *_, c in sorted(children, key=lambda t: (_struct_order(t[2], t[0]), t[1]))]
        return Node(kind="struct", children=ordered, **base)
    if kind == "list":
        member = shape.member
        bounds = {"min_items": meta.get("min"), "max_items": meta.get("max")}
        if member.type_name == "structure" and not member.metadata.get("union"):
            item = _node("", _join(path, "*"), member, True, hints, label=text_label)
            rows = hint.rows or min(bounds["max_items"] or 3, 3)
            return Node(kind="rows", item=item, rows=rows, **bounds, **base)
        item_constraint = shape_constraint(name, member)
        if item_constraint.enum:
            return Node(kind="multichoice", choices=item_constraint.enum, **bounds, **base)
        return Node(kind="lines", constraint=item_constraint, **bounds, **base)
    if kind == "map":
        # A row's name and value go together: the row's checks say so (no asterisks on them).
        key = _node("key", _join(path, "*.key"), shape.key, False, hints, label="Name")
        value = _node("value", _join(path, "*.value"), shape.value, False, hints, label="Value")
        rows = hint.rows or min(meta.get("max") or 3, 3)
        return Node(
            kind="map",
            key=key,
            value=value,
            rows=rows,
            min_items=meta.get("min"),
            max_items=meta.get("max"),
            **base,
        )
    constraint = shape_constraint(name, shape, required)
    pattern = meta.get("pattern", "")
    placeholder = hint.placeholder or _FORMATS.get(pattern, ("", ""))[0]
    if kind == "boolean":
        return Node(kind="bool", constraint=constraint, **base)
    if kind in ("integer", "long"):
        return Node(kind="int", constraint=constraint, placeholder=placeholder, **base)
    if kind in ("float", "double"):
        return Node(kind="float", constraint=constraint, placeholder=placeholder, **base)
    if constraint.enum:
        leaf = "fixed" if len(constraint.enum) == 1 and required else "choice"
        return Node(kind=leaf, constraint=constraint, choices=constraint.enum, **base)
    if _is_secret(name, shape, hint):
        return Node(kind="secret", constraint=constraint, placeholder=placeholder, **base)
    long_text = hint.textarea if hint.textarea is not None else (constraint.max or 0) >= 500
    is_url = pattern.startswith("https://") or pattern.startswith("https:\\/\\/")
    return Node(
        kind="textarea" if long_text and not is_url else "text",
        constraint=constraint,
        placeholder=placeholder,
        url=is_url,
        **base,
    )


def _order(value: int | None) -> int:
    return 0 if value is None else value


_COMPOUND = frozenset({"struct", "union", "rows", "map"})
_SCALAR = frozenset({"text", "textarea", "secret", "choice", "fixed", "int", "float", "json"})


def _struct_order(node: Node, order: int | None) -> tuple[int, int]:
    """Required values first, then optional ones, then nested groups (required first)."""
    if order is not None:
        return (order, 0)
    if node.kind in _SCALAR:
        return (10 if node.required else 20, 0)
    if node.kind in ("bool", "lines", "multichoice"):
        return (30, 0)
    return (40 if node.required else 50, 0)


# --- the form ---------------------------------------------------------------------------------


@dataclass
class Item:
    """A node with concrete paths and bound fields, for the template."""

    node: Node
    path: str
    html_id: str
    field: Any = None  # BoundField of a leaf, or of a union's _variant
    pick: Any = None  # BoundField of a text leaf's select of options (see PICK)
    children: list[Item] = _field(default_factory=list)
    rows: list[Item] = _field(default_factory=list)  # rows and map: one Item per row
    variant: str = ""  # union: the chosen variant
    errors: list[str] = _field(default_factory=list)
    rows_field: str = ""  # name of the hidden _rows input
    row_count: int = 0
    can_add: bool = False
    index: int = -1

    @property
    def kind(self) -> str:
        return self.node.kind


class SecretInput(forms.PasswordInput):
    """A password input that is never filled in, whatever the form was given."""

    def __init__(self, attrs: dict[str, Any] | None = None) -> None:
        base = {"autocomplete": "new-password", "spellcheck": "false"}
        super().__init__(attrs={**base, **(attrs or {})}, render_value=False)


class ShapeForm(forms.Form):
    """A Django form over `layout` (see the module docstring)."""

    template_name = "includes/shapeform.html"

    def __init__(
        self,
        layout: Node,
        data: Any = None,
        *,
        initial_value: dict[str, Any] | None = None,
        keep_blank_secrets: bool = False,
        prefix: str | None = None,
        options: dict[str, list[tuple[str, str]]] | None = None,
    ) -> None:
        super().__init__(data=data, prefix=prefix)
        self.layout = layout
        # Text members offered as a choice among known values: path -> [(value, label)].
        self.options = dict(options or {})
        self.keep_blank_secrets = keep_blank_secrets
        self.initial_value = initial_value or {}
        self.value: dict[str, Any] = {}
        self.group_errors: dict[str, list[str]] = {}
        self._leaves: dict[str, Node] = {}
        self._row_counts: dict[str, int] = {}
        self.root = self._expand(layout, "", self.initial_value)
        # "Add row" without JavaScript: the form comes back with one more row, nothing sent.
        self.adding = bool(self.is_bound and self.data.get(self.add_prefix(MORE)))

    # --- building fields ---------------------------------------------------------------
    def _html_id(self, path: str) -> str:
        return "sf-" + regex.sub(r"[^A-Za-z0-9_-]", "-", self.add_prefix(path))

    def _expand(self, node: Node, path: str, initial: Any) -> Item:
        item = Item(node=node, path=path, html_id=self._html_id(path or "root"))
        if node.kind == "struct":
            values = initial if isinstance(initial, dict) else {}
            for child in node.children:
                child_path = _join(path, child.name)
                item.children.append(self._expand(child, child_path, values.get(child.name)))
        elif node.kind == "union":
            values = initial if isinstance(initial, dict) else {}
            chosen = next((c.name for c in node.children if c.name in values), "")
            choices = [(c.name, c.label) for c in node.children]
            if not node.required:
                choices.insert(0, ("", "None"))
            elif not chosen and len(node.children) == 1:
                chosen = node.children[0].name
            name = _join(path, VARIANT)
            self.fields[name] = forms.ChoiceField(
                label=node.label,
                choices=choices,
                required=False,
                initial=chosen,
                widget=forms.RadioSelect,
            )
            item.field = name
            for child in node.children:
                child_path = _join(path, child.name)
                item.children.append(self._expand(child, child_path, values.get(child.name)))
        elif node.kind in ("rows", "map"):
            self._expand_rows(item, node, path, initial)
        else:
            self._leaf(node, path, initial)
            item.field = path
            if _join(path, PICK) in self.fields:
                item.pick = _join(path, PICK)
        return item

    def _row_count(self, node: Node, path: str, initial: Any) -> int:
        existing = len(initial) if isinstance(initial, list | dict) else 0
        count = max(node.rows, existing + (1 if existing else 0))
        if self.is_bound:
            try:
                count = int(self.data.get(self.add_prefix(_join(path, ROWS)), count))
            except (TypeError, ValueError):
                pass
            if self.data.get(self.add_prefix(MORE)) == path:
                count += 1
        limit = node.max_items or 100
        return max(1, min(count, limit))

    def _expand_rows(self, item: Item, node: Node, path: str, initial: Any) -> None:
        count = self._row_count(node, path, initial)
        self._row_counts[path] = count
        item.rows_field = self.add_prefix(_join(path, ROWS))
        item.row_count = count
        item.can_add = node.max_items is None or count < node.max_items
        if node.kind == "rows":
            values = initial if isinstance(initial, list) else []
            assert node.item is not None
            for index in range(count):
                row_path = _join(path, str(index))
                row = self._expand(
                    node.item, row_path, values[index] if index < len(values) else None
                )
                row.index = index
                item.rows.append(row)
        else:
            pairs = list(initial.items()) if isinstance(initial, dict) else []
            assert node.key is not None and node.value is not None
            for index in range(count):
                row_path = _join(path, str(index))
                key, value = pairs[index] if index < len(pairs) else (None, None)
                row = Item(node=node, path=row_path, html_id=self._html_id(row_path), index=index)
                for part, part_value in ((node.key, key), (node.value, value)):
                    part_path = _join(row_path, part.name)
                    if part.kind in _COMPOUND:
                        row.children.append(self._expand(part, part_path, part_value))
                        continue
                    self._leaf(part, part_path, part_value)
                    row.children.append(
                        Item(
                            node=part,
                            path=part_path,
                            html_id=self._html_id(part_path),
                            field=part_path,
                        )
                    )
                item.rows.append(row)

    def _leaf(self, node: Node, path: str, initial: Any) -> None:
        self._leaves[path] = node
        if initial is None:
            initial = node.initial
        attrs: dict[str, Any] = {}
        if node.placeholder:
            attrs["placeholder"] = node.placeholder
        constraint = node.constraint
        if (
            constraint is not None
            and constraint.max
            and node.kind in ("text", "secret", "textarea")
        ):
            attrs["maxlength"] = constraint.max
        help_text = node.help
        kwargs: dict[str, Any] = {"label": node.label, "required": False}
        if node.kind == "secret":
            if self.keep_blank_secrets:
                help_text = (
                    help_text + " " if help_text else ""
                ) + "Leave blank to keep the current value."
            field_obj: forms.Field = forms.CharField(
                widget=SecretInput(attrs), strip=True, **kwargs
            )
            initial = None  # never filled in
        elif node.kind == "textarea":
            field_obj = forms.CharField(
                widget=forms.Textarea(attrs={"rows": 3, **attrs}), strip=True, **kwargs
            )
        elif node.kind == "text":
            widget = forms.URLInput(attrs) if node.url else forms.TextInput(attrs)
            widget.attrs.setdefault("autocomplete", "off")
            widget.attrs.setdefault("spellcheck", "false")
            field_obj = forms.CharField(widget=widget, strip=True, **kwargs)
            posted = self.data.get(self.add_prefix(_join(path, PICK))) if self.is_bound else ""
            if self.options.get(path) or (path in self.options and posted):
                initial = self._pick(node, path, initial, posted or "")
        elif node.kind in ("choice", "fixed"):
            choices = [(c, c) for c in node.choices]
            if node.kind == "choice":
                choices.insert(0, ("", "—"))
            field_obj = forms.ChoiceField(choices=choices, **kwargs)
            if node.kind == "fixed":
                field_obj.disabled = True
                initial = node.choices[0]
        elif node.kind == "bool":
            field_obj = forms.BooleanField(**kwargs)
        elif node.kind == "int":
            field_obj = forms.IntegerField(widget=forms.NumberInput(attrs), **kwargs)
        elif node.kind == "float":
            field_obj = forms.FloatField(widget=forms.NumberInput(attrs), **kwargs)
        elif node.kind == "multichoice":
            field_obj = forms.MultipleChoiceField(
                choices=[(c, c) for c in node.choices],
                widget=forms.CheckboxSelectMultiple,
                **kwargs,
            )
        elif node.kind == "lines":
            field_obj = forms.CharField(
                widget=forms.Textarea(attrs={"rows": 3, "spellcheck": "false"}),
                strip=True,
                **kwargs,
            )
            help_text = (help_text + " " if help_text else "") + "One per line."
            if isinstance(initial, list):
                initial = "\n".join(str(v) for v in initial)
            if node.sensitive:
                field_obj.widget = _BlankTextarea(attrs={"rows": 3})
                initial = None
        else:  # json
            field_obj = forms.CharField(
                widget=forms.Textarea(attrs={"rows": 4}), strip=True, **kwargs
            )
            if initial is not None and not isinstance(initial, str):
                initial = json.dumps(initial, indent=2)
            help_text = (help_text + " " if help_text else "") + "JSON."
        field_obj.help_text = help_text
        if initial is not None:
            field_obj.initial = initial
        self.fields[path] = field_obj

    def _pick(self, node: Node, path: str, initial: Any, posted: str) -> Any:
        """Add the select of `path`'s options; returns what its text input starts with."""
        known = list(self.options[path])
        if posted not in ("", OTHER) and all(value != posted for value, _ in known):
            known.append((posted, posted))  # gone from the options since: still shown chosen
        chosen = ""
        if initial not in (None, ""):
            if any(value == initial for value, _ in known):
                chosen, initial = initial, None
            else:
                chosen = OTHER
        choices = [("", "—"), *known, (OTHER, "Another: type it below")]
        # Any value is read (checked against the model like a typed one): an option that went
        # away between showing the form and sending it is AWS's to refuse, with the form kept.
        self.fields[_join(path, PICK)] = forms.CharField(
            label=node.label,
            required=False,
            initial=chosen,
            widget=forms.Select(choices=choices, attrs={"data-sf-pick": ""}),
        )
        return initial

    # --- reading a post ----------------------------------------------------------------
    def is_valid(self) -> bool:
        return super().is_valid() and not self.adding

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean()
        if self.adding:
            return cleaned
        value, _ = self._collect(self.layout, "", force=True)
        self.value = value if isinstance(value, dict) else {}
        return cleaned

    def _error(self, path: str, message: str) -> None:
        if path in self.fields:
            if path not in self._errors:  # type: ignore[operator]
                self.add_error(path, message)
            elif message not in self._errors[path]:  # type: ignore[index]
                self._errors[path].append(message)  # type: ignore[index]
        else:
            self.group_errors.setdefault(path, []).append(message)

    def _collect(self, node: Node, path: str, *, force: bool = False) -> tuple[Any, bool]:
        """(value, present) of `node` at `path`; errors are added for present values only."""
        kind = node.kind
        if kind == "struct":
            out: dict[str, Any] = {}
            results = []
            for child in node.children:
                child_path = _join(path, child.name)
                value, present = self._collect(child, child_path)
                results.append((child, child_path, value, present))
            present = force or any(p for c, _, _, p in results if c.kind != "fixed")
            if not present:
                return None, False
            for child, child_path, value, child_present in results:
                if child.kind == "fixed":
                    out[child.name] = child.choices[0]
                elif child_present:
                    out[child.name] = value
                elif child.required and child.kind == "union":
                    self._error(_join(child_path, VARIANT), f"Choose one: {child.label}.")
                elif child.required and not (child.kind == "secret" and self.keep_blank_secrets):
                    if child.kind == "struct":
                        # Required: sent even when empty; its own required members are checked.
                        value, _ = self._collect(child, child_path, force=True)
                        out[child.name] = value or {}
                    elif child.kind in ("rows", "map"):
                        self._error(child_path, f"{child.label}: give at least one.")
                    else:
                        self._error(child_path, "This field is required.")
            return out, True
        if kind == "union":
            chosen = self.cleaned_data.get(_join(path, VARIANT)) or ""
            if len(node.children) == 1 and node.required:
                chosen = node.children[0].name  # nothing to choose: no radio was shown
            variant = next((c for c in node.children if c.name == chosen), None)
            if variant is None:
                return None, False
            value, _ = self._collect(variant, _join(path, variant.name), force=True)
            return {variant.name: value if value is not None else {}}, True
        if kind in ("rows", "map"):
            return self._collect_rows(node, path)
        return self._collect_leaf(node, path)

    def _collect_rows(self, node: Node, path: str) -> tuple[Any, bool]:
        count = self._row_counts.get(path, 0)
        if node.kind == "rows":
            items = []
            assert node.item is not None
            for index in range(count):
                value, present = self._collect(node.item, _join(path, str(index)))
                if present:
                    items.append(value)
            present = bool(items)
            if present or node.required:
                self._check_count(node, path, len(items))
            return items, present
        mapping: dict[str, Any] = {}
        assert node.key is not None and node.value is not None
        for index in range(count):
            row = _join(path, str(index))
            key, has_key = self._collect_leaf(node.key, _join(row, "key"))
            value, has_value = self._collect(node.value, _join(row, "value"))
            if not has_key and not has_value:
                continue
            if not has_key:
                self._error(_join(row, "key"), "Give this value a name.")
                continue
            if not has_value and node.value.kind != "bool":
                if node.value.kind == "secret" and self.keep_blank_secrets:
                    continue
                constraint = node.value.constraint
                if constraint is not None and constraint.type == "string" and not constraint.min:
                    value = ""  # the model allows an empty value (a tag's, for one)
                else:
                    self._error(_join(row, "value"), "Enter a value (or clear the name).")
                    continue
            if key in mapping:
                self._error(_join(row, "key"), f"{key} is given twice.")
                continue
            mapping[key] = value
        present = bool(mapping)
        if present or node.required:
            self._check_count(node, path, len(mapping))
        return mapping, present

    def _check_count(self, node: Node, path: str, count: int) -> None:
        if node.min_items is not None and count < node.min_items:
            self._error(path, f"Give at least {node.min_items}.")
        if node.max_items is not None and count > node.max_items:
            self._error(path, f"Give at most {node.max_items}.")

    def _collect_leaf(self, node: Node, path: str) -> tuple[Any, bool]:
        if path in self._errors:  # type: ignore[operator]
            return None, False  # the field itself could not be read (e.g. not a number)
        raw = self.cleaned_data.get(path)
        picked = (
            self.cleaned_data.get(_join(path, PICK)) if _join(path, PICK) in self.fields else ""
        )
        if picked and picked != OTHER:
            raw = picked
        if node.kind == "bool":
            return (True, True) if raw else (None, False)
        if node.kind == "multichoice":
            return (list(raw), True) if raw else (None, False)
        if raw is None or raw == "":
            return None, False
        if node.kind == "lines":
            items = [line.strip() for line in str(raw).splitlines() if line.strip()]
            if not items:
                return None, False
            assert node.constraint is not None
            check = model_validator(replace(node.constraint, required=False))
            for number, line in enumerate(items, 1):
                try:
                    check(line)
                except forms.ValidationError as exc:
                    for message in exc.messages:
                        self._error(path, f"Line {number}: {_friendly(node.constraint, message)}")
            self._check_count(node, path, len(items))
            return items, True
        if node.kind == "json":
            try:
                return read_json(raw), True
            except forms.ValidationError as exc:
                for message in exc.messages:
                    self._error(path, message)
                return None, False
        if node.constraint is not None:
            try:
                model_validator(replace(node.constraint, required=False))(raw)
            except forms.ValidationError as exc:
                for message in exc.messages:
                    self._error(path, _friendly(node.constraint, message))
                return None, True
        return raw, True

    # --- errors from AWS and secrets ------------------------------------------------------
    def apply_aws_errors(self, fields: dict[str, str], *, strip: str = "") -> bool:
        """Put AWS's per-member messages next to their fields; True if any found a place.

        `strip` is the path of the form's root in the API input (e.g. "serviceDetails.mcpserver").
        """
        placed = False
        for raw_path, message in fields.items():
            path = regex.sub(r"\[(\d+)\]", r".\1", raw_path)
            if strip and (path == strip or path.startswith(strip + ".")):
                path = path[len(strip) :].lstrip(".")
            if path in self.fields:
                self.add_error(path, message)
                placed = True
            elif path in self.group_errors or self._is_group(path):
                self.group_errors.setdefault(path, []).append(message)
                placed = True
        return placed

    def _is_group(self, path: str) -> bool:
        prefix = path + "."
        return any(name.startswith(prefix) for name in self.fields)

    def secret_values(self) -> list[str]:
        """Every credential typed into this form (for scrubbing error messages)."""
        found = []
        for path, node in self._leaves.items():
            if node.kind == "secret" or (node.kind == "lines" and node.sensitive):
                raw = self.data.get(self.add_prefix(path), "") if self.is_bound else ""
                if raw and raw.strip():
                    found.append(raw.strip())
                    found.extend(line.strip() for line in raw.splitlines() if line.strip())
        return sorted(set(found), key=len, reverse=True)

    @contextlib.contextmanager
    def scrubbing(self) -> Iterator[None]:
        """Remove this form's secrets from any AWS error raised inside the block."""
        try:
            yield
        except errors.AwsError as exc:
            scrub_error(exc, self.secret_values())
            raise

    # --- for templates -------------------------------------------------------------------
    @property
    def more_name(self) -> str:
        return self.add_prefix(MORE)

    def errors_shown(self) -> bool:
        return bool(self.errors or self.group_errors) and not self.adding

    def items(self) -> Item:
        """The bound tree the template renders (fields as BoundFields, errors attached)."""
        self._bind(self.root)
        return self.root

    def _bind(self, item: Item) -> None:
        if isinstance(item.field, str):
            item.field = self[item.field]
        if isinstance(item.pick, str):
            item.pick = self[item.pick]
        item.errors = [] if self.adding else self.group_errors.get(item.path, [])
        if item.node.kind == "union" and hasattr(item.field, "value"):
            item.variant = item.field.value() or ""
        for child in item.children:
            self._bind(child)
        for row in item.rows:
            self._bind(row)


class _BlankTextarea(forms.Textarea):
    def format_value(self, value: Any) -> str:
        return ""


def _friendly(constraint: Constraint, message: str) -> str:
    if constraint.pattern and message.startswith("Does not match the format"):
        return _FORMATS.get(constraint.pattern, ("", message))[1] or message
    return message


def scrub_error(exc: errors.AwsError, secrets: list[str]) -> None:
    """Replace every secret in `exc`'s message and field messages (in place)."""
    for secret in secrets:
        if not secret:
            continue
        exc.message = exc.message.replace(secret, "[redacted]")
        exc.fields = {k: v.replace(secret, "[redacted]") for k, v in exc.fields.items()}
    exc.args = (exc.message,)


def walk(node: Node) -> Iterator[Node]:
    """Every node of a layout, depth first (tests and tools)."""
    yield node
    for child in node.children:
        yield from walk(child)
    for extra in (node.item, node.key, node.value):
        if extra is not None:
            yield from walk(extra)


def only(layout: Node, path: str, variants: list[str] | tuple[str, ...]) -> Node:
    """A copy of `layout` whose union at `path` offers only `variants` (in that order); with
    one variant left there is nothing to choose: the form shows that variant's members and
    always sends them ({variant: {...}})."""

    def rebuild(node: Node) -> Node:
        if node.path == path and node.kind == "union":
            by_name = {c.name: c for c in node.children}
            kept = [by_name[v] for v in variants if v in by_name]
            if not kept:
                raise ValueError(f"{path} has none of the variants {variants}")
            if len(kept) == 1:
                # Nothing to choose: the one variant is what the (required) union sends.
                return replace(node, children=[replace(kept[0], required=True)], required=True)
            return replace(node, children=kept)
        if node.children:
            return replace(node, children=[rebuild(c) for c in node.children])
        return node

    return rebuild(layout)


def find(layout: Node, path: str) -> Node | None:
    return next((n for n in walk(layout) if n.path == path), None)


# --- showing a value of an output shape ---------------------------------------------------------

MASK = "•••••••• (write-only, not shown)"


@dataclass
class Shown:
    """One member of an API answer as a page shows it (see `display`)."""

    label: str
    text: str = ""
    children: list[Shown] = _field(default_factory=list)
    secret: bool = False
    name: str = ""


def display(shape: Shape, value: Any, *, label: str = "", name: str = "") -> Shown:
    """`value` (an answer shaped by `shape`) as labelled rows, credentials masked.

    A credential the model marks sensitive (see PUBLIC_SENSITIVE for the exceptions) is shown
    as MASK, whatever AWS returned; so are the values of maps whose values are sensitive.
    """
    text_label = label or humanize(name)
    meta = shape.metadata
    if value is None:
        return Shown(label=text_label, text="—", name=name)
    if meta.get("sensitive") and name not in PUBLIC_SENSITIVE and shape.type_name != "structure":
        return Shown(label=text_label, text=MASK, secret=True, name=name)
    if meta.get("document"):
        if isinstance(value, dict) and all(not isinstance(v, dict | list) for v in value.values()):
            return Shown(
                label=text_label,
                children=[Shown(label=humanize(str(k)), text=str(v)) for k, v in value.items()],
                name=name,
            )
        return Shown(label=text_label, text=json.dumps(value, indent=2, default=str), name=name)
    kind = shape.type_name
    if kind == "structure" and isinstance(value, dict):
        children = [
            display(member, value[key], name=key)
            for key, member in shape.members.items()
            if value.get(key) is not None
        ]
        if meta.get("union") and len(children) == 1:
            child = children[0]
            child.label = f"{text_label}: {child.label}" if text_label else child.label
            return child
        return Shown(label=text_label, children=children, name=name)
    if kind == "list" and isinstance(value, list):
        member = shape.member
        if member.type_name in ("structure",) or member.metadata.get("document"):
            return Shown(
                label=text_label,
                children=[
                    display(member, item, label=f"{index + 1}", name="")
                    for index, item in enumerate(value)
                ],
                name=name,
            )
        if member.metadata.get("sensitive"):
            return Shown(label=text_label, text=MASK, secret=True, name=name)
        return Shown(label=text_label, text=", ".join(str(v) for v in value) or "—", name=name)
    if kind == "map" and isinstance(value, dict):
        secret = bool(shape.value.metadata.get("sensitive"))
        return Shown(
            label=text_label,
            children=[
                Shown(label=str(key), text=MASK if secret else str(item), secret=secret)
                if not isinstance(item, dict)
                else display(shape.value, item, label=str(key))
                for key, item in value.items()
            ],
            name=name,
        )
    if kind == "boolean":
        return Shown(label=text_label, text="Yes" if value else "No", name=name)
    if kind == "timestamp" and hasattr(value, "isoformat"):
        return Shown(label=text_label, text=value.strftime("%Y-%m-%d %H:%M:%S UTC"), name=name)
    return Shown(label=text_label, text=str(value), name=name)
