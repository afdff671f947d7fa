"""Declarative schema: field types that turn YAML nodes into typed values, and their JSON Schema.

A record type is a ``Map`` of ``Field``s. ``Map.check`` walks a node tree once,
converts each scalar according to its declared type (never by YAML's implicit
typing) and reports every problem with its line and column. ``json_schema``
turns the same declarations into the JSON Schema published for editors.
"""

from __future__ import annotations

import datetime as dt
import difflib
import functools
import re
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from pathlib import Path

from yaml.nodes import MappingNode, ScalarNode, SequenceNode

from .yamlfile import is_explicit_tag, written_tag

RULE = "REG-SCHEMA"


class _Invalid:
    """The value of a field that failed its check (the problem is already reported)."""

    def __repr__(self):
        return "INVALID"

    def __bool__(self):
        return False


INVALID = _Invalid()

_NULL_WORDS = {"", "~", "null", "Null", "NULL"}
# Characters that cannot be seen on a certificate (tabs and line breaks are handled separately): the C0 and C1
# controls (a carriage return too), and the invisible characters that would let two names look alike and differ
# (or reorder what is shown): soft hyphen, combining grapheme joiner, Arabic letter mark, Hangul fillers, Khmer
# inherent vowels, Mongolian vowel separator, zero-width spaces and joiners, direction marks, line and paragraph
# separators, embeddings, overrides and isolates, word joiner, invisible operators, byte-order mark, interlinear
# annotation, shorthand and musical format controls, tags. That is Unicode's default-ignorable characters (with
# the controls), less the variation selectors, which ideographic variation sequences use (see IGNORABLE).
_INVISIBLE = (r"\x00-\x08\x0b-\x1f\x7f-\x9f\xad\u034f\u061c\u115f\u1160\u17b4\u17b5\u180e\u200b-\u200f"
              r"\u2028-\u202e\u2060-\u206f\u3164\ufeff\uffa0\ufff0-\ufffb\U0001bca0-\U0001bca3"
              r"\U0001d173-\U0001d17a\U000e0000-\U000e007f")
_CONTROL = re.compile(f"[{_INVISIBLE}]")
# What identities are compared without (rules/checks.py): the invisible characters and the variation selectors.
IGNORABLE = re.compile(f"[{_INVISIBLE}\u180b-\u180f\ufe00-\ufe0f\U000e0100-\U000e01ef]")
# One line, nothing invisible, no space at either end: the common case, checked in one match.
_CLEAN_LINE = re.compile(f"[^\\s{_INVISIBLE}](?:[^\\n\\r{_INVISIBLE}]*[^\\s{_INVISIBLE}])?")
# The same for ASCII text (the class above has ranges beyond the BMP, which make it twice as slow on ASCII).
_CLEAN_ASCII = re.compile(r"[!-~](?:[\t -~]*[!-~])?")
FIRST_YEAR, LAST_YEAR = 1990, 2199  # dates of records; keeps date arithmetic far from its limits
_DATE = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}")
# (ASCII digits only: Python's \d takes any script's, full-width and Arabic-Indic digits among them; no + sign)
_DECIMAL = re.compile(r"-?[0-9]+(?:\.[0-9]+)?")
_INT = re.compile(r"-?[0-9]+")


def linear_regex(pattern: str):
    """``pattern`` compiled with RE2, which matches in time linear in the text whatever the pattern: a scheme's
    number pattern is CEC's to write, and Python's ``re`` can backtrack for hours on one such as ``(A+)+$``.

    Raises re2.error for a pattern that is not one, or that RE2 cannot run (backreferences, lookaround):
    ``regex_error`` words it. The result has ``fullmatch``, ``match`` and ``search`` like ``re``'s.
    """
    import re2

    options = re2.Options()
    options.log_errors = False  # (said once, by the caller, at the pattern's line; not on standard error)
    return re2.compile(pattern, options)


def regex_error(exc: Exception) -> str:
    """RE2's reason for refusing a pattern, as text."""
    reason = exc.args[0] if exc.args else exc
    return reason.decode("utf-8", "replace") if isinstance(reason, bytes) else str(reason)


@dataclass
class Checker:
    """Collects the problems of one file while its nodes are checked."""

    path: Path
    problems: list = field(default_factory=list)

    def error(self, node, message, rule=RULE, key=()):
        mark = node.start_mark
        from ..problems import Problem

        self.problems.append(Problem(self.path, "error", rule, message, mark.line + 1, mark.column + 1, tuple(key)))

    def missing(self, node, message, rule, key):
        """A field is absent: reported at the key that owns the mapping (``content:``), not at a sibling.

        That key's line is found later (``Report.resolve``); a record's top level is reported where it starts.
        """
        from ..problems import Problem

        if not key:
            self.error(node, message, rule, key)
        else:
            self.problems.append(Problem(self.path, "error", rule, message, 0, 0, tuple(key)))


_UNSHOWN = re.compile(f"[\\t\\n{_INVISIBLE}]")


def _shown(text: str, limit: int = 80) -> str:
    """Record text as a message shows it: cut at ``limit`` characters, the invisible ones and line breaks written
    as escapes (U+001B, U+202E... would otherwise act on the terminal or the page that shows the message)."""
    text = text if len(text) <= limit else text[:limit] + "…"
    return _UNSHOWN.sub(lambda m: m.group().encode("unicode_escape").decode("ascii"), text)


def _where(key) -> str:
    return ".".join(_shown(str(k)) for k in key) if key else "the record"


def _node_kind(node) -> str:
    if isinstance(node, MappingNode):
        return "a mapping"
    if isinstance(node, SequenceNode):
        return "a list"
    return f'"{_shown(node.value)}"' if len(node.value) < 40 else "text"


class Spec:
    """A field type. Subclasses convert a node (``convert``) and describe themselves (``json``)."""

    description = ""

    def check(self, node, chk: Checker, key: tuple):
        if type(node.tag) is str and is_explicit_tag(node):
            chk.error(node, f"{_where(key)}: the tag {written_tag(node)} is not allowed; remove it "
                            "(records use plain YAML, no custom tags)", "REG-YAML", key)
            return INVALID
        return self.convert(node, chk, key)

    def convert(self, node, chk, key):  # pragma: no cover - abstract
        raise NotImplementedError

    def json(self) -> dict:  # pragma: no cover - abstract
        raise NotImplementedError


class _Scalar(Spec):
    what = "a value"

    def convert(self, node, chk, key):
        if not isinstance(node, ScalarNode):
            chk.error(node, f"{_where(key)} must be {self.what}, not {_node_kind(node)}", RULE, key)
            return INVALID
        return self.scalar(node.value, node, chk, key)

    def scalar(self, text, node, chk, key):  # pragma: no cover - abstract
        raise NotImplementedError


@dataclass
class Text(_Scalar):
    """Text, kept exactly as written (YAML's implicit types never apply)."""

    pattern: str | None = None
    pattern_hint: str = ""
    multiline: bool = False
    max_length: int = 300
    what = "text"

    def __post_init__(self):
        self._re = re.compile(self.pattern) if self.pattern else None

    def scalar(self, text, node, chk, key):
        if (_CLEAN_ASCII if text.isascii() else _CLEAN_LINE).fullmatch(text) and len(text) <= self.max_length and (
                self._re is None or self._re.fullmatch(text)):
            return text  # the common case; anything else goes through the checks below for its message
        if node.style in ("|", ">"):
            text = text.rstrip("\n")  # block scalars end with a line break
        if not self.multiline and "\n" in text:
            chk.error(node, f"{_where(key)} must be one line of text; join the lines", RULE, key)
            return INVALID
        bad = _CONTROL.search(text)
        if bad:
            chk.error(node, f"{_where(key)} contains the invisible character U+{ord(bad.group()):04X}; "
                            "delete it", RULE, key)
            return INVALID
        if not text.strip():  # "" written quoted, or only spaces (U+3000 and the other Unicode spaces too)
            chk.error(node, f"{_where(key)} is {'blank (only spaces)' if text else 'empty'}; write the text, or "
                            "leave the field out where it is optional", RULE, key)
            return INVALID
        if text != text.strip():
            chk.error(node, f"{_where(key)} starts or ends with spaces; remove them", RULE, key)
            return INVALID
        if len(text) > self.max_length:
            chk.error(node, f"{_where(key)} is {len(text)} characters long; at most {self.max_length} fit",
                      RULE, key)
            return INVALID
        if self._re and not self._re.fullmatch(text):
            hint = self.pattern_hint or f"the pattern {self.pattern}"
            chk.error(node, f'{_where(key)} "{_shown(text)}" does not match {hint}', RULE, key)
            return INVALID
        return text

    def json(self):
        d = {"type": "string", "minLength": 1, "maxLength": self.max_length}
        if self.pattern:
            d["pattern"] = self.pattern
        return d


@dataclass
class Date(_Scalar):
    """A calendar date written YYYY-MM-DD; impossible dates (2024-02-30) are errors."""

    what = "a date (YYYY-MM-DD)"

    def scalar(self, text, node, chk, key):
        if not _DATE.fullmatch(text):
            digits = "" if text.isascii() else " with the digits 0-9"
            chk.error(node, f'{_where(key)} must be a date written YYYY-MM-DD{digits}, not "{_shown(text)}"', RULE,
                      key)
            return INVALID
        if not FIRST_YEAR <= int(text[:4]) <= LAST_YEAR:
            chk.error(node, f"{_where(key)}: {text} is outside the years {FIRST_YEAR}–{LAST_YEAR}; check the year",
                      RULE, key)
            return INVALID
        try:
            return dt.date.fromisoformat(text)  # the pattern above admits only YYYY-MM-DD
        except ValueError as exc:
            chk.error(node, f"{_where(key)}: {text} is not a date ({exc}); correct the day or month", RULE, key)
            return INVALID

    def json(self):
        return {"type": "string", "format": "date", "pattern": r"^[0-9]{4}-[0-9]{2}-[0-9]{2}$"}


@dataclass
class Number(_Scalar):
    """A decimal number written with digits and an optional point; exact (Decimal), never a float."""

    minimum: Decimal | None = Decimal(0)
    integer: bool = False
    maximum: Decimal = Decimal(10) ** 12  # no figure on a certificate comes near; keeps arithmetic sane

    @property
    def what(self):
        return "a whole number" if self.integer else "a number"

    def scalar(self, text, node, chk, key):
        ok = (_INT if self.integer else _DECIMAL).fullmatch(text)
        if not ok:
            kind = "a whole number" if self.integer else "a number such as 1234.5"
            chk.error(node, f'{_where(key)} must be {kind} (digits, no separators or units; the digits 0-9, no + '
                            f'sign), not "{_shown(text)}"', RULE, key)
            return INVALID
        try:
            value = int(text) if self.integer else Decimal(text)
        except (InvalidOperation, ValueError):  # pragma: no cover - the pattern rules this out
            chk.error(node, f'{_where(key)} must be a number, not "{text}"', RULE, key)
            return INVALID
        if value == 0 and text.startswith("-"):  # (Decimal("-0") is not less than 0: no minimum would catch it)
            chk.error(node, f'{_where(key)} is "{text}", a negative zero; write 0', RULE, key)
            return INVALID
        if self.minimum is not None and value < self.minimum:
            chk.error(node, f"{_where(key)} must be at least {self.minimum}, not {_shown(text)}", RULE, key)
            return INVALID
        if value > self.maximum:
            chk.error(node, f"{_where(key)} must be at most {self.maximum}, not {_shown(text)}", RULE, key)
            return INVALID
        return value

    def json(self):
        d = {"type": "integer" if self.integer else "number"}
        if self.minimum is not None:
            d["minimum"] = int(self.minimum) if self.integer else float(self.minimum)
        d["maximum"] = int(self.maximum) if self.integer else float(self.maximum)
        return d


@dataclass
class Bool(_Scalar):
    """true or false, nothing else (YAML 1.1's yes/no/on/off are refused, not guessed)."""

    what = "true or false"

    def scalar(self, text, node, chk, key):
        if node.style in ("", None) and text in ("true", "false"):
            return text == "true"
        chk.error(node, f'{_where(key)} must be true or false, not "{_shown(text)}"', RULE, key)
        return INVALID

    def json(self):
        return {"type": "boolean"}


@dataclass
class Choice(_Scalar):
    """One of a fixed set of words."""

    choices: tuple = ()
    rule: str = RULE  # the rule that lists the choices (e.g. the grounds of ZCF-12.1.1)
    what = "one of the listed words"

    def scalar(self, text, node, chk, key):
        if text in self.choices:
            return text
        close = difflib.get_close_matches(text, self.choices, n=1) if len(text) <= 100 else []
        hint = f'; did you mean "{close[0]}"?' if close else ""
        chk.error(node, f'{_where(key)} "{_shown(text)}" is not one of: {", ".join(self.choices)}{hint}', self.rule,
                  key)
        return INVALID

    def json(self):
        return {"type": "string", "enum": list(self.choices)}


@dataclass
class Forbidden(Spec):
    """A field that may never be given here, with the rule that says why."""

    rule: str = RULE
    message: str = ""

    def convert(self, node, chk, key):
        chk.error(node, f"{_where(key)}: {self.message}", self.rule, key)
        return INVALID

    def json(self):
        return {"not": {}, "description": self.message}


@dataclass
class List(Spec):
    """A list of items of one type."""

    item: Spec = field(default_factory=lambda: Text())
    min_items: int = 0

    def convert(self, node, chk, key):
        if not isinstance(node, SequenceNode):
            chk.error(node, f"{_where(key)} must be a list, not {_node_kind(node)}", RULE, key)
            return INVALID
        if len(node.value) < self.min_items:
            items = "item" if self.min_items == 1 else "items"
            chk.error(node, f"{_where(key)} needs at least {self.min_items} {items}", RULE, key)
            return INVALID
        out = [self.item.check(n, chk, key + (i,)) for i, n in enumerate(node.value)]
        return INVALID if any(v is INVALID for v in out) else out

    def json(self):
        d = {"type": "array", "items": self.item.json()}
        if self.min_items:
            d["minItems"] = self.min_items
        return d


@dataclass
class Field:
    """One named field of a Map: its type, whether it is required and public, and the rule that wants it."""

    spec: Spec
    required: bool = False
    public: bool = False
    rule: str = RULE
    doc: str = ""

    def description(self) -> str:
        vis = "Public." if self.public else "Private: never published (REG-PUBLIC, ZCF-13)."
        rule = f" [{self.rule}]" if self.rule != RULE else ""
        return f"{self.doc} {vis}{rule}".strip()


@dataclass
class Map(Spec):
    """A mapping with known keys; unknown keys, duplicate keys and missing required keys are errors."""

    fields: dict = field(default_factory=dict)
    what: str = "a mapping of fields"

    @functools.cached_property
    def _required(self) -> tuple:
        # computed on first use: specs are complete by then (fields added later are never required)
        return tuple(n for n, f in self.fields.items() if f.required)

    def convert(self, node, chk, key):
        if not isinstance(node, MappingNode):
            if not key:
                chk.error(node, f"a record must be a mapping of fields (name: value), not {_node_kind(node)}",
                          RULE, key)
            else:
                chk.error(node, f"{_where(key)} must be {self.what}, not {_node_kind(node)}", RULE, key)
            return INVALID
        out = {}
        ok = True
        seen = {}
        suggested = set()  # a required field offered for a misspelt key is not also reported missing
        empty = set()
        fields = self.fields
        for knode, vnode in node.value:
            name = knode.value
            if type(knode) is not ScalarNode or type(knode.tag) is str:
                chk.error(knode, f"{_where(key)}: a field name must be plain text", RULE, key)
                ok = False
                continue
            if name in seen:
                chk.error(knode, f'{_where(key + (name,))} is given twice (first on line '
                                 f'{seen[name].start_mark.line + 1}); keep one', "REG-YAML", key + (name,))
                ok = False
                continue
            seen[name] = knode
            f = fields.get(name)
            if f is None:
                known = list(fields)
                close = difflib.get_close_matches(name, known, n=1) if len(name) <= 100 else []
                hint = f'did you mean "{close[0]}"?' if close else "known fields: " + ", ".join(known)
                suggested.update(close)
                chk.error(knode, f'unknown field "{_shown(name)}" in {_where(key)}; {hint}', RULE, key + (name,))
                ok = False
                continue
            # an empty value (nothing, ~ or null, unquoted) counts as absent
            if type(vnode) is ScalarNode and not vnode.style and vnode.value in _NULL_WORDS:
                empty.add(name)
                continue
            spec = f.spec
            if vnode.tag is ScalarNode and isinstance(spec, _Scalar):  # untagged scalar: straight to its type
                value = spec.scalar(vnode.value, vnode, chk, key + (name,))
            else:
                value = spec.check(vnode, chk, key + (name,))
            if value is INVALID:
                ok = False
            else:
                out[name] = value
        for name in self._required:
            if name not in out and (name not in seen or name in empty) and name not in suggested:
                f = fields[name]
                chk.missing(node, f'{_where(key)} is missing the required field "{name}"'
                            + (f" ({f.doc})" if f.doc else ""), f.rule, key)
                ok = False
        return out if ok else INVALID

    def json(self):
        props = {}
        for name, f in self.fields.items():
            d = dict(f.spec.json())
            desc = f.description()
            if desc:
                d["description"] = desc
            props[name] = d
        d = {"type": "object", "properties": props, "additionalProperties": False}
        req = [n for n, f in self.fields.items() if f.required]
        if req:
            d["required"] = req
        return d
