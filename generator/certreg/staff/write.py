"""Stage 0, write: new records (a certificate, a decision) as staff would write them by hand, but right.

A record is made from plain values, typed by its declared schema, written as YAML with the editor's
schema line, and checked with the whole registry *before* it is written: its certificate's folder is checked
with the new file in a scratch copy, and the rules between certificates with every other certificate's Facts
(``assess``). If the new record brings any error the registry did not have, nothing is written and the errors
are returned.
"""

from __future__ import annotations

import datetime as dt
import os
import re
import shutil
import tempfile
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from pathlib import Path

import yaml

from ..errors import CertregError, UsageError
from ..problems import Problem, Report
from ..records.load import load_schemes
from ..records.model import Decision
from ..records.schema import Bool, Date, List, Map, Number, Spec
from ..records.specs import ACTIONS, decision_spec
from ..rules.dates import anniversary, today

DATE_TEXT = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}")
NUMBER_TEXT = re.compile(r"-?[0-9]+(\.[0-9]+)?")
# Text that YAML 1.2 (the schema line's editors) would read as a number, a yes/no or nothing: written quoted.
YAML12_TYPED = re.compile(r"[-+]?(\.[0-9]+|[0-9]+(\.[0-9]*)?)([eE][-+]?[0-9]+)?|0o[0-7]+|0x[0-9a-fA-F]+"
                          r"|[-+]?\.(inf|Inf|INF)|\.(nan|NaN|NAN)|true|True|TRUE|false|False|FALSE|null|Null|NULL|~|")


class RecordRefused(CertregError):
    """Raised by ``write_certificate`` and ``write_decision``: the new record brings errors (listed)."""

    def __init__(self, problems: list[Problem]):
        self.problems = problems
        super().__init__(f"refused: the record brings {len(problems)} error(s); nothing was written")


@dataclass
class Written:
    """A record written: its path, and the warnings the registry has with it."""

    path: Path
    warnings: list[Problem] = field(default_factory=list)


# --- values: from text (options, prompts) to typed values, by the schema ------------------------


def set_dotted(values: dict, dotted: str, value) -> None:
    """``values[a][b] = value`` for ``a.b``."""
    parts = dotted.split(".")
    for part in parts[:-1]:
        values = values.setdefault(part, {})
        if not isinstance(values, dict):
            raise UsageError(f"{dotted}: {part} is not a group of fields")
    values[parts[-1]] = value


def missing(spec: Map, values: dict, prefix: str = "") -> list[tuple[str, Spec, str]]:
    """The required fields (dotted, spec, what it is) that ``values`` does not give, in declaration order."""
    out = []
    for name, f in spec.fields.items():
        dotted = prefix + name
        if name in values:
            if isinstance(f.spec, Map) and isinstance(values[name], dict):
                out += missing(f.spec, values[name], dotted + ".")
            continue
        if not f.required:
            continue
        if isinstance(f.spec, Map):
            out += missing(f.spec, {}, dotted + ".")
        else:
            out.append((dotted, f.spec, f.doc or name))
    return out


def typed(spec: Spec, text, where: str):
    """A value given as text, as its field's type wants it in the YAML (a date, a number, yes/no)."""
    if not isinstance(text, str):
        return text
    try:
        if isinstance(spec, Date):
            if not DATE_TEXT.fullmatch(text):
                raise ValueError("written YYYY-MM-DD")
            return dt.date.fromisoformat(text)
        if isinstance(spec, Number):
            if not NUMBER_TEXT.fullmatch(text):
                raise ValueError("digits, with a decimal point if need be")
            return Decimal(text)
        if isinstance(spec, Bool):
            if text not in ("true", "false"):
                raise ValueError("true or false")
            return text == "true"
    except (ValueError, InvalidOperation) as exc:
        raise UsageError(f"{where}: {text!r} is not a {type(spec).__name__.lower()} ({exc})") from None
    return text  # (a choice is checked with the record, so that the error cites the rule: a ground's, say)


def typed_values(spec: Map, values: dict, prefix: str = "") -> dict:
    """Every given value typed by its field; an unknown field is a usage error naming the fields there are."""
    problems: list[str] = []
    out = _typed_values(spec, values, prefix, problems)
    if problems:
        raise UsageError("\n".join(problems))
    return out


def _typed_values(spec: Map, values: dict, prefix: str, problems: list[str]) -> dict:
    for name in values:
        if name not in spec.fields:
            problems.append(f"{prefix}{name}: no such field; the fields are {', '.join(spec.fields)}")
    out: dict[str, object] = {}
    for name in [n for n in spec.fields if n in values]:  # in the order the schema declares them
        f, value = spec.fields[name], values[name]
        try:
            if isinstance(f.spec, Map) and isinstance(value, dict):
                out[name] = _typed_values(f.spec, value, f"{prefix}{name}.", problems)
            elif isinstance(f.spec, List) and isinstance(value, str):
                out[name] = [typed(f.spec.item, v.strip(), f"{prefix}{name}") for v in value.split(",") if v.strip()]
            elif isinstance(f.spec, List) and isinstance(value, list):
                item = f.spec.item
                out[name] = [_typed_values(item, v, f"{prefix}{name}.{i}.", problems)
                             if isinstance(item, Map) and isinstance(v, dict)
                             else typed(item, v, f"{prefix}{name}.{i}") for i, v in enumerate(value)]
            else:
                out[name] = typed(f.spec, value, prefix + name)
        except UsageError as exc:
            problems.append(str(exc))
    return out


class _Dumper(yaml.SafeDumper):
    """Plain YAML as staff write it: keys in their order, text as UTF-8, numbers unquoted."""


def _decimal(dumper, value: Decimal):
    text = format(value, "f")  # as written, never with an exponent
    return dumper.represent_scalar("tag:yaml.org,2002:" + ("float" if "." in text else "int"), text)


def _text(dumper, value: str):
    style = "'" if YAML12_TYPED.fullmatch(value) else None
    return dumper.represent_scalar("tag:yaml.org,2002:str", value, style=style)


_Dumper.add_representer(Decimal, _decimal)
_Dumper.add_representer(str, _text)


def dump(header: str, data: dict, where: Path) -> str:
    """The record's YAML; an error if it would not read back as exactly ``data`` (each scalar's text)."""
    from ..records.yamlfile import YamlProblem, compose

    text = header + yaml.dump(data, Dumper=_Dumper, sort_keys=False, allow_unicode=True, width=1000)
    try:
        compose(text)  # certreg's strict reading
    except YamlProblem as exc:
        raise UsageError(f"{where}: the record cannot be written as YAML ({exc.message})") from None
    back = yaml.load(text, Loader=yaml.BaseLoader)  # every scalar as the text it is, untyped
    lost = [k for k in data if back.get(k) != _as_text(data[k])]
    if lost:
        raise UsageError(f"{where}: {', '.join(lost)} would not read back as given (a control character or a "
                         "line separator in a value?)")
    return text


def _as_text(value):
    """A value as the text a YAML reader that types nothing gets back."""
    if isinstance(value, dict):
        return {k: _as_text(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_as_text(v) for v in value]
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, Decimal):
        return format(value, "f")
    if isinstance(value, dt.date):
        return value.isoformat()
    return value


def _certificate_scheme(registry: Path, number: str):
    """The scheme of certificate ``number`` (its record read strictly), or a usage error saying what is wrong."""
    from ..records.yamlfile import YamlProblem, read

    cert_file = registry / "certificates" / number / "certificate.yml"
    if not cert_file.is_file():
        raise UsageError(f"no certificate {number} in {registry} (write it first with `certreg new`)")
    try:
        node = read(cert_file)
    except YamlProblem as exc:
        raise UsageError(f"{cert_file}:{exc.line}: {exc.message} (certreg validate lists every problem)") from None
    key = next((v.value for k, v in getattr(node, "value", []) if getattr(k, "value", None) == "scheme"
                and isinstance(v.value, str)), None)
    schemes = _schemes(registry)
    if key not in schemes:
        raise UsageError(f"{cert_file}: its scheme {key!r} is not one of {', '.join(sorted(schemes))}")
    return schemes[key]


# --- the records -------------------------------------------------------------------------------


def _schemes(registry: Path) -> dict:
    problems: list = []
    schemes = load_schemes(registry, problems)
    if problems:
        raise RecordRefused(Report(problems).resolve().problems)
    return schemes


def certificate_record(registry: Path, number: str, scheme_key: str, valid_from: dt.date,
                       valid_until: dt.date | None, content: dict, follows: str | None = None) -> tuple[Path, str]:
    """The path and text of a new certificate record (checked by ``write``)."""
    spec = spec_of_certificate(registry, scheme_key, number, valid_until)  # (the number, scheme and validity)
    scheme = _schemes(registry)[scheme_key]
    if valid_until is None:  # ZWL-7.2: the scheme's term, less a day
        valid_until = anniversary(valid_from, scheme.validity["years"]) - dt.timedelta(days=1)
    data: dict[str, object] = {"number": number, "scheme": scheme_key}
    if follows:
        data["follows"] = follows
    data |= {"valid_from": valid_from, "valid_until": valid_until,
             "content": typed_values(spec, content, "content.")}
    path = registry / "certificates" / number / "certificate.yml"
    return path, dump("# yaml-language-server: $schema=../../schemas/certificate.schema.json\n", data, path)


_ANNOUNCEMENT_NUMBER = re.compile(r"([0-9]{8})-([1-9][0-9]{0,4})")


def next_announcement(registry: Path, date: dt.date, known=None) -> str:
    """REG-ANNOUNCE: the next announcement number free on ``date`` (YYYYMMDD-N), from the numbers the registry's
    records of that day hold, each read strictly; a record of that day that cannot be read stops it (its number
    is unknown: taking one could take its). Two pull requests may still take the same one: validation tells the
    second to take the next. ``known`` (rules.validate.known of the registry): the numbers of the certificates
    that load are taken from their Facts, and only the folders that do not load are read."""
    day = f"{date:%Y%m%d}"
    taken = [0]
    certificates = registry / "certificates"
    folders = []
    if known is not None:
        for facts in known.facts.values():
            taken += [int(number.split("-")[1]) for _, _, number in facts.announced
                      if number is not None and number.startswith(f"{day}-")]
        folders = [certificates / name / "decisions" for name in known.registry.broken]
    elif certificates.is_dir() and not certificates.is_symlink():
        with os.scandir(certificates) as found:
            folders = [Path(e.path) / "decisions" for e in found if e.is_dir(follow_symlinks=False)]
    for decisions in sorted(folders):
        taken += _numbers_of_day(decisions, date)
    return f"{day}-{max(taken) + 1}"


def _numbers_of_day(decisions: Path, date: dt.date) -> list[int]:
    """The N of the announcement numbers of ``date`` that the records of that date in ``decisions`` hold."""
    from ..records.safefile import read_regular
    from ..records.yamlfile import MAX_BYTES, YamlProblem, compose, decode

    day = f"{date:%Y%m%d}"
    taken: list[int] = []
    if not decisions.is_dir() or decisions.is_symlink():
        return taken  # (the registry's check reports anything else)
    with os.scandir(decisions) as found:
        entries = sorted(found, key=lambda e: e.name)
    for entry in entries:
        if not entry.name.startswith(f"{date.isoformat()}-"):
            continue
        path = Path(entry.path)
        try:
            node = compose(decode(read_regular(path, MAX_BYTES)))
        except (OSError, CertregError, YamlProblem) as exc:
            raise UsageError(f"{path}: {getattr(exc, 'message', exc)}; the announcement numbers of {date} cannot "
                             "all be read, so the next one is unknown: mend this record first (certreg validate "
                             "lists its problems)") from None
        for key, value in getattr(node, "value", []):
            if getattr(key, "value", None) == "announcement" and isinstance(value.value, str):
                match = _ANNOUNCEMENT_NUMBER.fullmatch(value.value)
                if match and match.group(1) == day:
                    taken.append(int(match.group(2)))
    return taken


def decision_record(registry: Path, number: str, action: str, date: dt.date, fields: dict, known=None
                    ) -> tuple[Path, str]:
    """The path and text of a new decision record (checked by ``write``); an announced decision gets the next
    announcement number free on its date (REG-ANNOUNCE; ``known``: see ``next_announcement``)."""
    from ..status import announced

    spec = spec_of_decision(registry, number, action)
    data = {"certificate": number, "action": action, "date": date, **typed_values(spec, fields)}
    if "announcement" not in data and announced(Decision(Path(), action, date, data)):
        data["announcement"] = next_announcement(registry, date, known)
    folder = registry / "certificates" / number / "decisions"
    path, n = folder / f"{date.isoformat()}-{action}.yml", 1
    while path.exists():  # a second decision of the same kind the same day
        n += 1
        path = folder / f"{date.isoformat()}-{action}-{n}.yml"
    return path, dump("# yaml-language-server: $schema=../../../schemas/decision.schema.json\n", data, path)


def spec_of_certificate(registry: Path, scheme_key: str, number: str, valid_until: dt.date | None) -> Map:
    """The content a new certificate ``number`` of ``scheme_key`` declares; an error before any question is asked
    if the number, the scheme or the validity cannot do."""
    schemes = _schemes(registry)
    if scheme_key not in schemes:
        raise UsageError(f"no scheme {scheme_key!r}; the schemes are {', '.join(sorted(schemes))}")
    scheme = schemes[scheme_key]
    if not scheme.number_re.fullmatch(number):  # REG-ID (and no path can be made of it)
        raise UsageError(f"{number!r} is not a certificate number of {scheme_key} "
                         f"(such as {scheme.data['number']['example']})")
    if (registry / "certificates" / number).exists():
        raise UsageError(f"{number} exists already: a number is never used twice (REG-ID)")
    if valid_until is None and not scheme.validity.get("years"):  # ZCF-11.2: decided, not computed
        raise UsageError(f"{scheme_key}: give --valid-until ({scheme.validity['rule']}: the scheme fixes no term)")
    return scheme.content


def spec_of_decision(registry: Path, number: str, action: str) -> Map:
    """The record of an ``action`` decision about ``number`` (an error before any question if there is none)."""
    if action not in ACTIONS:
        raise UsageError(f"no action {action!r}; the actions are {', '.join(ACTIONS)}")
    scheme = _certificate_scheme(registry, number)
    if action not in scheme.actions:
        raise UsageError(f"{number} is a {scheme.key} certificate, which has no {action} decision "
                         f"(its actions: {', '.join(scheme.actions)})")
    return decision_spec(action, scheme)


def awaiting_issue(path: Path):
    """For a new certificate: its one expected error, that it has no issue decision yet (the next step)."""
    return lambda p: p.path == path and p.rule == "REG-ORDER" and "no issue decision" in p.message


def scheme_prerequisites(registry: Path, number: str) -> dict:
    """The applicant prerequisites an issue decision records as checked (ZCF-5.2.1): code -> {zh, en}."""
    return _certificate_scheme(registry, number).data.get("prerequisites", {}).get("items", {})


def assess(registry: Path, path: Path, text: str, as_of: dt.date | None = None, late=None, known=None
           ) -> tuple[list[Problem], str]:
    """The problems the registry at ``registry`` (resolved) would have with ``text`` at ``path`` (a new file in
    certificates/NUMBER/, resolved) that it has not without it, as check_registry and the preflight find them;
    and the text (amended by ``late``, see ``write``). ``known``: rules.validate.known of the registry, if the
    caller has it (as decide has, for the announcement number), else found here."""
    from ..rules import validate

    folder = path.relative_to(registry).parts[:2]
    if len(folder) < 2 or folder[0] != "certificates":
        raise UsageError(f"{path}: records are written in certificates/NUMBER/")
    number = folder[1]
    day = as_of or today()
    # The record changes its certificate's folder alone: the problems of every other folder, and of the registry's
    # settings and schemes, are the same with it as without it. So its folder is checked before and after (the new
    # file in a scratch copy of the folder), and the rules between certificates are judged on the Facts of every
    # other certificate, from the facts cache where their files have not changed (validate, build and decide keep
    # them there): the new problems are those a full check_registry would find new, at a fraction of the cost.
    registry_known = known if known is not None else validate.known(registry, day)
    schemes = registry_known.registry.schemes
    theirs_report = Report()
    if (registry / "certificates" / number).is_dir():
        own, own_facts = validate.check_folder(registry, number, day, schemes)
        theirs_report.extend(own)
        registry_known.across(theirs_report, {number: own_facts})
    else:
        registry_known.across(theirs_report)
    theirs_report.resolve()
    theirs = {_key(p) for p in theirs_report.problems + _preflight(registry, folder, day)}
    # beside the registry, so that its files can be hard links (same file system); elsewhere, copies
    try:
        scratch = tempfile.TemporaryDirectory(prefix=".certreg-new-", dir=registry.parent)
    except OSError:  # (a folder it cannot write in)
        scratch = tempfile.TemporaryDirectory(prefix="certreg-new-")
    with scratch as tmp:
        mini = Path(tmp) / "registry"
        _mini_registry(registry, folder, mini)
        target = mini / path.relative_to(registry)
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(text, encoding="utf-8")
        own, own_facts = validate.check_folder(mini, number, day, schemes)
        missed = own_facts.late.get(target) if own_facts is not None else None
        if late is not None and missed and not _records_late(text):
            amended = late(missed)
            if amended is not None:
                text = amended
                target.write_text(text, encoding="utf-8")
                own, own_facts = validate.check_folder(mini, number, day, schemes)
        report = Report(own)
        registry_known.across(report, {number: _relocated(own_facts, mini, registry, schemes)})
        # (the rules between certificates speak of the new record by its place in the registry; its line is
        # found in the scratch copy, where it is)
        report.problems = [_moved(p, registry, mini) if _inside(p.path, registry / Path(*folder)) else p
                           for p in report.problems]
        report.resolve()
        now = [_moved(p, mini, registry) for p in report.problems]
        now += _preflight_of(mini, day, registry)  # (mini is that scratch registry already)
        return [p for p in now if _key(p) not in theirs], text


def write(registry: Path, path: Path, text: str, as_of: dt.date | None = None, expected=None,
          late=None, known=None) -> Written:
    """Write ``text`` at ``path`` if the registry with it has no error it had not without it; else refuse.

    Nothing is written before the answer is known (``assess``). ``as_of``: the date the rules are judged on
    (default: today in China). ``expected``: a test of the errors the record may bring (``awaiting_issue``).
    ``late``: for a decision taken after a binding deadline and not yet saying so, called with the deadlines it
    missed ({rule: last day}); it returns the record's text with late: and late_reason: (the decision is recorded
    as it happened), or None to leave it as it is.
    """
    from ..records import safefile

    try:  # never written through a link (or into a FIFO...) of the registry: it could lead anywhere
        safefile.inside(registry, path.relative_to(registry))
    except safefile.NotSafe as exc:
        raise UsageError(f"{registry}/{exc.message}: certreg validate lists the problem (REG-LAYOUT)") from None
    except (FileNotFoundError, NotADirectoryError, ValueError):
        pass  # folders yet to be made (they are made as folders); a file where one belongs is reported below
    registry = registry.resolve()
    path = path.resolve()
    if path.exists():
        raise UsageError(f"{path} exists already; a published record is never rewritten (REG-APPEND)")
    new, text = assess(registry, path, text, as_of, late, known)
    # an action overdue since (a suspension past its limit, say) is what comes next, not a reason to refuse
    errors = [p for p in new if p.level == "error" and not p.overdue and not (expected and expected(p))]
    if errors:
        raise RecordRefused(errors)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)  # a new file, never a link
    with os.fdopen(fd, "w", encoding="utf-8") as f:
        f.write(text)
    os.replace(tmp, path)
    return Written(path, [p for p in new if p.level == "warning" or p.overdue])


def _preflight(root: Path, folder: tuple[str, ...], day: dt.date, shown_as: Path | None = None) -> list[Problem]:
    """The preflight's problems (publish.preflight) of one certificate folder (``("certificates", NUMBER)``) of the
    registry at ``root``, with their paths under ``shown_as`` (or ``root``): checked in a scratch registry of its
    settings, schemes and that folder alone. None if the folder is not there (a new certificate's, before)."""
    if not (root / Path(*folder)).is_dir():
        return []
    with tempfile.TemporaryDirectory(prefix=".certreg-new-", dir=root.parent) as tmp:
        mini = Path(tmp) / "registry"
        _mini_registry(root, folder, mini)
        return _preflight_of(mini, day, shown_as or root)


def _preflight_of(mini: Path, day: dt.date, shown_as: Path) -> list[Problem]:
    """The preflight's problems of ``mini`` (a registry of one certificate folder, ``_mini_registry``), with their
    paths under ``shown_as``."""
    from ..publish.preflight import preflight
    from ..rules.validate import check_registry

    report = Report()
    report.extend(preflight(check_registry(mini, day, jobs=1)))
    report.resolve()
    return [_moved(p, mini, shown_as) for p in report.problems]


def _mini_registry(registry: Path, folder: tuple[str, ...], mini: Path) -> None:
    """``mini``: a registry of the settings, schemes, schemas and artwork of ``registry`` and its ``folder``
    (``("certificates", NUMBER)``) alone, made of hard links to its files (see ``_overlay``)."""
    mini.mkdir(parents=True)
    for name in ("registry.yml", "schemes", "schemas", "marks", str(Path(*folder))):
        source = registry / name
        if source.is_symlink() or not source.exists():
            continue  # (the registry's check reports a link there; a new certificate's folder is made empty)
        (mini / name).parent.mkdir(parents=True, exist_ok=True)
        if source.is_dir():
            _overlay(source, mini / name)
        else:
            shutil.copyfile(source, mini / name)


def _relocated(facts, source: Path, target: Path, schemes: dict):
    """``facts`` (or None) with its paths inside ``source`` moved into ``target``, and its schemes those of
    ``schemes`` (the rules between certificates compare schemes by identity)."""
    from ..cache import relocated
    from ..records.model import Scheme

    if facts is None:
        return None
    was, Scheme.loaded = Scheme.loaded, schemes
    try:
        return relocated(facts, source, target)
    finally:
        Scheme.loaded = was


def _inside(path: Path, folder: Path) -> bool:
    return path == folder or folder in path.parents


def _records_late(text: str) -> bool:
    return bool(re.search(r"^late(_reason)?:", text, re.MULTILINE))


def _overlay(registry: Path, overlay: Path) -> None:
    """``overlay``: a copy of the registry made of hard links to its files (never symbolic links, which the
    registry refuses: REG-LAYOUT), to which the new record is added. A file that cannot be linked (another
    file system) is copied; an entry that is neither a file nor a folder is linked as it is, for the check
    to report."""
    def mirror(src: Path, dst: Path):
        dst.mkdir(parents=True, exist_ok=True)
        for entry in os.scandir(src):
            target = dst / entry.name
            if entry.is_dir(follow_symlinks=False):
                mirror(Path(entry.path), target)
            elif entry.is_file(follow_symlinks=False):
                try:
                    os.link(entry.path, target)
                except OSError:
                    shutil.copy2(entry.path, target)
            elif entry.is_symlink():
                os.symlink(os.readlink(entry.path), target)
            # (FIFOs, sockets and devices are not mirrored: the registry itself reports them)

    mirror(registry, overlay)


def _key(p: Problem):
    return (str(p.path), p.level, p.rule, p.message)


def _moved(p: Problem, overlay: Path, registry: Path) -> Problem:
    return Problem(Path(str(p.path).replace(str(overlay), str(registry), 1)), p.level, p.rule, p.message, p.line,
                   p.column, p.key, p.overdue)


def member(text: str) -> dict:
    """An audit or inspection team member written NAME:ROLE[:QUALIFICATION,...] (role: leader, member, expert)."""
    parts = text.split(":")
    if len(parts) not in (2, 3) or not parts[0].strip():
        raise UsageError(f"{text!r}: a team member is written NAME:ROLE[:QUALIFICATION,...]")
    out: dict = {"name": parts[0].strip(), "role": parts[1].strip()}
    if len(parts) == 3 and parts[2].strip():
        out["qualifications"] = [q.strip() for q in parts[2].split(",") if q.strip()]
    return out
