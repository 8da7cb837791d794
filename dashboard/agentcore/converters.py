"""Actor ids in URLs. The model allows "/" in them (e.g. user/42), which a path segment cannot
hold (Django matches the decoded path), so a URL writes "/" as "~", a character actor ids may
not contain: /actors/oncall~priya/ is the actor oncall/priya."""

from __future__ import annotations


class ActorIdConverter:
    # Any segment: the view checks the id against the model and says what is wrong with it.
    regex = r"[^/]+"

    def to_python(self, value: str) -> str:
        return value.replace("~", "/")

    def to_url(self, value: str) -> str:
        if "~" in value:
            raise ValueError("An actor id cannot contain ~")
        return value.replace("/", "~")
