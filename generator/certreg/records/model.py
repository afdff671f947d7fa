"""Typed records: what the loader produces and every later stage reads."""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, ClassVar

from .schema import Map, linear_regex
from .specs import certificate_spec, content_spec, decision_spec


@dataclass
class Scheme:
    """A certification scheme's parameters, loaded from ``registry/schemes/KEY.yml``."""

    key: str
    code: str
    path: Path
    data: dict
    content: Map = field(init=False)
    # RE2 (linear time whatever CEC writes); checked to compile by specs.scheme_consistency; .fullmatch as re's
    number_re: Any = field(init=False)

    def __post_init__(self):
        self.content = content_spec(self.data["fields"])
        self.number_re = linear_regex(self.data["number"]["pattern"])
        self._specs: dict = {}  # built once: building a spec costs more than checking a record with it

    def certificate_spec(self) -> Map:
        """The declared certificate record of this scheme."""
        if "certificate" not in self._specs:
            self._specs["certificate"] = certificate_spec(self.content)
        return self._specs["certificate"]

    def decision_spec(self, action: str) -> Map:
        """The declared record of an ``action`` decision about a certificate of this scheme."""
        if action not in self._specs:
            self._specs[action] = decision_spec(action, self)
        return self._specs[action]

    # The schemes of the registry being loaded. A Certificate sent back by a worker process refers to
    # its scheme by key, so that the scheme (and its compiled specs) is neither pickled nor duplicated.
    loaded: ClassVar[dict] = {}

    def __reduce__(self):
        return (_loaded_scheme, (self.key,))

    def __getattr__(self, name):
        # scheme parameters read as attributes: scheme.validity, scheme.grounds, ...
        try:
            return self.__dict__["data"][name]
        except KeyError:
            raise AttributeError(name) from None

    @property
    def fields(self) -> dict:
        return self.data["fields"]

    @property
    def grounds(self) -> dict:
        return self.data["grounds"]

    def public_fields(self) -> list[str]:
        return [n for n, f in self.data["fields"].items() if f["public"]]


def _loaded_scheme(key: str) -> Scheme:
    return Scheme.loaded[key]


def dig(mapping, dotted: str):
    """The value at a dotted path (``application.received``) in nested mappings, or None."""
    value = mapping
    for part in dotted.split("."):
        if not isinstance(value, dict) or part not in value:
            return None
        value = value[part]
    return value


_DIGIT_RUNS = re.compile(r"([0-9]+)")


def number_order(number: str) -> tuple:
    """The sort key of a certificate number: its runs of digits compared as numbers, so that the order is by scheme
    prefix, year and serial (CEC-ZCF-2025-9999 before CEC-ZCF-2025-10000, which a text sort puts first); the text
    itself breaks ties."""
    parts = _DIGIT_RUNS.split(number)  # text, digits, text, ...: the same kind at the same place in every key
    return tuple(int(p) if i % 2 else p for i, p in enumerate(parts)), number


def texts(value):
    """Every text inside a value of nested mappings and lists (a party's name and address, say)."""
    if isinstance(value, str):
        yield value
    elif isinstance(value, dict):
        for v in value.values():
            yield from texts(v)
    elif isinstance(value, list):
        for v in value:
            yield from texts(v)


@dataclass
class Decision:
    """One decision record (issue, change, suspend, restore, revoke, cancel, surveillance)."""

    path: Path
    action: str
    date: dt.date
    data: dict
    order: tuple = ()

    def get(self, dotted: str):
        """A field by dotted path (``application.received``), or None."""
        return dig(self.data, dotted)

    @property
    def name(self) -> str:
        return self.path.name


@dataclass
class Certificate:
    """A certificate record and its decisions, sorted in the order they take effect."""

    number: str
    scheme: Scheme
    path: Path
    follows: str | None
    valid_from: dt.date
    valid_until: dt.date
    content: dict
    decisions: list[Decision] = field(default_factory=list)

    @property
    def folder(self) -> Path:
        return self.path.parent


@dataclass
class Registry:
    """Everything loaded from one registry folder."""

    root: Path
    settings: dict
    schemes: dict[str, Scheme]
    certificates: Mapping[str, Certificate]  # (a check gives a read-only one: cache.Deferreds)
    # certificates whose records failed their schema: known by number, not checked further
    broken: set[str] = field(default_factory=set)
    # schemes whose file has errors (their certificates are in ``broken``, unchecked)
    broken_schemes: set[str] = field(default_factory=set)
