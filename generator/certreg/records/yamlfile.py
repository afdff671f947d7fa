"""Strict, safe YAML reading: text in, a node tree out, or problems naming file, line and rule.

Only a parser and composer run (libyaml's, in C, where PyYAML has it); no
constructor ever does, so no Python object can be built from a tag. Nothing is typed
here: every scalar stays the exact text that was written, and the declarative
schema (``schema.py``) decides what a field's text means. That is what keeps
``0012`` a string and ``NO`` from ever becoming a boolean (YAML 1.1 surprises).
Anchors, aliases and custom tags are refused: a record must say what it means
on its own lines.
"""

from __future__ import annotations

import re
from pathlib import Path

import yaml
from yaml.composer import Composer
from yaml.nodes import MappingNode, ScalarNode, SequenceNode
from yaml.parser import Parser
from yaml.reader import Reader
from yaml.scanner import Scanner

from . import safefile

RULE = "REG-YAML"

# A cheap pre-filter: text that could be an anchor (&a) or alias (*a). A hit is
# confirmed with the parser's events, so "R&D" or "A &B" in plain text is not an error.
_ANCHOR_HINT = re.compile(r"(?:^|[\s\[{,])[&*][^\s\[\]{},]")


class _NoTypes:
    """A resolver that types nothing.

    A node's ``tag`` is then the node class itself unless the file wrote an
    explicit tag, which is a string: that is how explicit tags are told apart.
    """

    def resolve(self, kind, value, implicit):
        return kind

    def descend_resolver(self, current_node, current_index):
        pass

    def ascend_resolver(self):
        pass


class PurePythonParser(_NoTypes, Reader, Scanner, Parser, Composer):
    """PyYAML's pure-Python composer with implicit typing switched off (used without libyaml)."""

    def __init__(self, stream):
        Reader.__init__(self, stream)
        Scanner.__init__(self)
        Parser.__init__(self)
        Composer.__init__(self)


try:  # libyaml's C parser, for speed
    from yaml._yaml import CParser

    class LibyamlParser(_NoTypes, CParser):
        """libyaml's composer with implicit typing switched off."""

    _Parser: type = LibyamlParser
    _EVENTS_LOADER: type = yaml.CBaseLoader
except ImportError:  # pragma: no cover - PyYAML built without libyaml
    _Parser = PurePythonParser
    _EVENTS_LOADER = yaml.BaseLoader


class YamlProblem(Exception):
    """Raised by ``compose`` when a file cannot be read as strict YAML; carries line and column.

    ``rule`` is REG-YAML, or REG-LAYOUT when the path is not a regular file (a link, a FIFO...: never read).
    """

    def __init__(self, message, line=1, column=1, rule=RULE):
        super().__init__(message)
        self.message = message
        self.line = line
        self.column = column
        self.rule = rule


def _line_of_offset(data: bytes, offset: int) -> tuple[int, int]:
    before = data[:offset]
    line = before.count(b"\n") + 1
    column = offset - (before.rfind(b"\n") + 1) + 1
    return line, column


def decode(data: bytes) -> str:
    """UTF-8 text of a record file, or YamlProblem at the first byte that is not UTF-8."""
    if data.startswith(b"\xef\xbb\xbf"):
        data = data[3:]
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as exc:
        line, column = _line_of_offset(data, exc.start)
        raise YamlProblem(
            f"the file is not UTF-8 (byte 0x{data[exc.start]:02x}); save it as UTF-8", line, column
        ) from None


def _check_anchors(text: str) -> None:
    for event in yaml.parse(text, Loader=_EVENTS_LOADER):
        anchor = getattr(event, "anchor", None)
        if anchor is None:
            continue
        line, column = (event.start_mark.line + 1, event.start_mark.column + 1) if event.start_mark else (1, 1)
        if isinstance(event, yaml.AliasEvent):
            raise YamlProblem(f"alias *{anchor} is not allowed: write the value out in full", line, column)
        raise YamlProblem(f"anchor &{anchor} is not allowed: records may not share values through anchors",
                          line, column)


MAX_BYTES = 1 << 20  # a record is a few kilobytes; this is a mistake, or an attack
MAX_DEPTH = 64  # records nest five levels; libyaml's composer recurses, and deep nesting overflows its stack


def _check_depth(text: str) -> None:
    """Refuse nesting deeper than MAX_DEPTH, counted on the parser's events (which do not recurse).

    PyYAML's pure-Python parser counts them, not libyaml's: libyaml has had limits of its own, worded
    differently from one release to the next, and this message must be ours whatever the version.
    """
    depth = 0
    for event in yaml.parse(text, Loader=yaml.BaseLoader):
        if isinstance(event, (yaml.MappingStartEvent, yaml.SequenceStartEvent)):
            depth += 1
            if depth > MAX_DEPTH:
                m = event.start_mark
                raise YamlProblem(f"nested more than {MAX_DEPTH} levels deep; a record is a few levels at most",
                                  m.line + 1 if m else 1, m.column + 1 if m else 1)
        elif isinstance(event, (yaml.MappingEndEvent, yaml.SequenceEndEvent)):
            depth -= 1


# What to do about PyYAML's commonest complaints, which say what the parser met but not how to mend the record
_HINTS = (
    ("mapping values are not allowed", "a value that holds \": \" must be quoted (\"...\")"),
    ("expected a single document", "a record is one YAML document: delete the \"---\" line and what follows it, or "
                                   "make it a record file of its own"),
    ("found character '\\t'", "indent with spaces, not tabs"),
    ("could not find expected ':'", "each field is \"key: value\" on its own line; quote a value that spans lines"),
)


def _hint(what: str) -> str:
    return next((f"; {hint}" for problem, hint in _HINTS if problem in what), "")


def compose(text: str):
    """The root node of one YAML document, or YamlProblem. Empty documents are a problem."""
    # Nesting can be no deeper than the collections that could open: check it only when that could be a lot.
    if text.count("[") + text.count("{") + text.count("- ") + text.count("\n") > 4 * MAX_DEPTH:
        try:
            _check_depth(text)
        except yaml.MarkedYAMLError:
            pass  # the composer below reports syntax errors with their position
    if ("&" in text or "*" in text) and _ANCHOR_HINT.search(text):
        try:
            _check_anchors(text)
        except yaml.MarkedYAMLError:
            pass  # the composer below reports syntax errors with their position
    parser = _Parser(text)
    try:
        node = parser.get_single_node()
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        what = " ".join(s for s in (exc.context, exc.problem) if s)
        raise YamlProblem(f"not valid YAML: {what}{_hint(what)}",
                          (mark.line + 1) if mark else 1, (mark.column + 1) if mark else 1) from None
    except yaml.YAMLError as exc:
        raise YamlProblem(f"not valid YAML: {exc}") from None
    finally:
        parser.dispose()
    if node is None:
        raise YamlProblem("the file holds only comments or blank lines: a record is a YAML mapping of fields")
    return node


def read(path: Path):
    """Compose the file at ``path``; YamlProblem for unreadable, non-UTF-8, empty or invalid files.

    Only a regular file is read (safefile.read_regular, os.open/os.read: half the cost of open().read() for
    a small file, and there are tens of thousands); a link, FIFO, socket or device is a REG-LAYOUT problem.
    """
    try:
        data = safefile.read_regular(path, MAX_BYTES)
    except safefile.NotSafe as exc:
        raise YamlProblem(exc.message, rule=safefile.RULE) from None
    except safefile.TooBig as exc:
        raise YamlProblem(f"the file is {exc.size:,} bytes; a record is a few kilobytes (at most {MAX_BYTES:,})"
                          ) from None
    except OSError as exc:
        raise YamlProblem(f"cannot read the file: {exc.strerror}") from None
    if not data.strip():
        raise YamlProblem("the file is empty: a record is a YAML mapping of fields")
    return compose(decode(data))


def written_tag(node) -> str:
    """A node's explicit tag as it is written in YAML (``!!python/object``, not the expanded URI)."""
    return node.tag.replace("tag:yaml.org,2002:", "!!", 1)


def is_explicit_tag(node) -> bool:
    """True when the file wrote a tag (``!foo``, ``!!binary``) on this node."""
    return isinstance(node.tag, str) and node.tag != "tag:yaml.org,2002:str"


def locate(path: Path, key: tuple, cache: dict | None = None) -> tuple[int, int]:
    """Line and column (1-based) of the node at ``key`` in ``path``; the deepest found if not all of it."""
    cache = {} if cache is None else cache
    if path not in cache:
        try:
            cache[path] = read(path)
        except YamlProblem:
            cache[path] = None
    node = cache[path]
    if node is None:
        return 1, 1
    mark = node.start_mark
    for part in key:
        nxt = None
        if isinstance(node, MappingNode):
            for k, v in node.value:
                if isinstance(k, ScalarNode) and k.value == part:
                    mark, nxt = k.start_mark, v
                    break
        elif isinstance(node, SequenceNode) and isinstance(part, int) and part < len(node.value):
            nxt = node.value[part]
            mark = nxt.start_mark
        if nxt is None:
            break
        node = nxt
    return mark.line + 1, mark.column + 1
