"""Stage 1, load: read a registry folder into typed records, checking layout and schema.

Every file is read once, with the strict YAML reader and the declarative
schema; problems are collected, never raised. Certificates are independent, so
large registries are loaded on all cores.
"""

from __future__ import annotations

import multiprocessing
import os
import re
from pathlib import Path

from yaml.nodes import MappingNode, ScalarNode

from ..problems import Problem
from . import safefile
from .model import Certificate, Decision, Registry, Scheme
from .schema import INVALID, Checker
from .specs import ACTIONS, REGISTRY_SPEC, SCHEME_SPEC, Anything, certificate_spec, decision_spec, scheme_consistency
from .yamlfile import YamlProblem, read

LAYOUT = "REG-LAYOUT"
SETTINGS_FILE = "registry.yml"
TOP_LEVEL = {SETTINGS_FILE, "README.md", "schemes", "schemas", "certificates", "marks"}
# (ASCII digits only: Python's \d takes any script's; a second decision of a day is -2, -3..., never -1 or -02)
DECISION_NAME = re.compile(r"([0-9]{4}-[0-9]{2}-[0-9]{2})-([a-z]+)(?:-([2-9]|[1-9][0-9]+))?\.yml")
# A certificate's decisions over its life are a few dozen; more is a mistake, or an attack (a page per certificate
# lists them all). A folder with more is refused whole, its files unread.
MAX_DECISIONS = 500
# Decisions of one day take effect in this order (an issue before a change, a suspension before a revocation).
# (a restoration before a new suspension: a suspension cannot end the day it begins)
ACTION_RANK = {a: i for i, a in enumerate(("issue", "change", "reissue", "surveillance", "restore", "suspend",
                                           "revoke", "cancel"))}
PARALLEL_FROM = 400  # certificate folders; below this, starting processes costs more than it saves


def _read_node(path: Path, problems: list):
    """The file's root node, or None with a REG-YAML problem added."""
    try:
        return read(path)
    except YamlProblem as exc:  # REG-YAML, or REG-LAYOUT for a link, FIFO, socket or device (never read)
        problems.append(Problem(path, "error", exc.rule, exc.message, exc.line, exc.column))
        return None


def _check(path: Path, node, spec, problems: list):
    """Check a node against ``spec``: the value, or INVALID with problems added."""
    if node is None:
        return INVALID
    chk = Checker(path)
    value = spec.check(node, chk, ())
    problems.extend(chk.problems)
    return value


def _read_checked(path: Path, spec, problems: list):
    return _check(path, _read_node(path, problems), spec, problems)


def _top_text(node, name: str) -> str | None:
    """The text of a top-level field, looked at before the full check (it decides which spec applies)."""
    if isinstance(node, MappingNode):
        for k, v in node.value:
            if isinstance(k, ScalarNode) and k.value == name and isinstance(v, ScalarNode):
                return v.value
    return None


def _real_dir(path: Path, problems: list) -> bool:
    """Whether ``path`` is a real folder; a link, FIFO, socket or device there is a REG-LAYOUT problem."""
    try:
        return safefile.is_dir(path)
    except safefile.NotSafe as exc:
        if not any(p.path == path for p in problems):  # (the listing of the folder above may have said so)
            problems.append(Problem(path, "error", LAYOUT, exc.message))
        return False


def _entries(folder: Path, problems: list, limit: int | None = None) -> list | None:
    """The entries of ``folder`` (hidden ones left out: .gitkeep and the like) as (name, "file" or "dir"), sorted.

    Links, FIFOs, sockets and devices are REG-LAYOUT problems, left out. With ``limit``: None (and nothing
    listed beyond it) when there are more entries than that.
    """
    out = []
    seen = 0
    with os.scandir(folder) as listing:
        for entry in listing:
            if entry.name.startswith("."):
                continue
            seen += 1
            if limit is not None and seen > limit:
                return None
            try:
                out.append((entry.name, safefile.entry_kind(entry)))
            except safefile.NotSafe as exc:
                problems.append(Problem(folder / entry.name, "error", LAYOUT, exc.message))
    return sorted(out)


def _scan(folder: Path, problems: list) -> None:
    """REG-LAYOUT problems for the links, FIFOs, sockets and devices anywhere in ``folder`` (schemas/, marks/)."""
    for name, found in _entries(folder, problems) or ():
        if found == "dir":
            _scan(folder / name, problems)


def load_schemes(root: Path, problems: list) -> dict[str, Scheme]:
    folder = root / "schemes"
    schemes: dict[str, Scheme] = {}
    if not _real_dir(folder, problems):
        if not any(p.path == folder for p in problems):
            problems.append(Problem(root, "error", LAYOUT, "the registry has no schemes/ folder"))
        return schemes
    for name, found in _entries(folder, problems) or ():
        path = folder / name
        if path.suffix != ".yml" or found != "file":
            problems.append(Problem(path, "error", LAYOUT, "schemes/ holds only KEY.yml scheme files; "
                                                           "move or rename this"))
            continue
        data = _read_checked(path, SCHEME_SPEC, problems)
        if data is INVALID:
            continue
        inconsistent = scheme_consistency(data)
        for message, key in inconsistent:
            problems.append(Problem(path, "error", "REG-SCHEMA", message, key=key))
        if inconsistent:
            continue
        if data["key"] != path.stem:
            problems.append(Problem(path, "error", LAYOUT, f'the scheme key "{data["key"]}" differs from the '
                                                           f'file name; rename the file {data["key"]}.yml',
                                    key=("key",)))
            continue
        schemes[data["key"]] = Scheme(data["key"], data["code"], path, data)
    return schemes


# Specs of records whose certificate's scheme is unknown (that is reported on the certificate).
_UNKNOWN_SCHEME: dict = {}


def _certificate_spec(scheme: Scheme | None):
    if scheme is not None:
        return scheme.certificate_spec()
    return _UNKNOWN_SCHEME.setdefault("certificate", certificate_spec(Anything()))


def _decision_spec(action: str, scheme: Scheme | None):
    if scheme is not None:
        return scheme.decision_spec(action)
    return _UNKNOWN_SCHEME.setdefault(action, decision_spec(action))


def _decision_order(d: Decision, seq: int) -> tuple:
    return (d.date, ACTION_RANK[d.action], seq, d.path.name)


def load_certificate(folder: Path, schemes: dict, skip=frozenset()) -> tuple[dict | None, list[Decision] | None,
                                                                            list]:
    """Load one certificate folder: (certificate fields, decisions, problems). None where a record failed.

    A certificate of a scheme in ``skip`` (whose scheme file has errors) is not checked: (None, None, []).
    """
    problems: list = []
    cert_path = folder / "certificate.yml"
    scheme = None
    cert = None
    # (links, FIFOs, sockets and devices are reported here, and left out: never read, never listed)
    entries = {name for name, _found in _entries(folder, problems) or ()}
    for name in sorted(entries - {"certificate.yml", "decisions"}):
        problems.append(Problem(folder / name, "error", LAYOUT, "a certificate folder holds certificate.yml and "
                                                                "decisions/ only; move or rename this"))
    if "certificate.yml" not in entries:
        if not any(p.path == cert_path for p in problems):
            problems.append(Problem(folder, "error", LAYOUT, "the folder has no certificate.yml"))
    else:
        node = _read_node(cert_path, problems)
        # the scheme decides the content's fields, so look it up before the full check
        scheme_key = _top_text(node, "scheme")
        if scheme_key in skip:
            return None, None, []
        scheme = schemes.get(scheme_key)
        cert = _check(cert_path, node, _certificate_spec(scheme), problems)
        if node is not None and scheme is None and scheme_key is not None:
            problems.append(Problem(cert_path, "error", "REG-SCHEMA",
                                    f'unknown scheme "{scheme_key}"; the schemes are: {", ".join(sorted(schemes))}',
                                    key=("scheme",)))
            cert = INVALID
        if isinstance(cert, dict) and cert["number"] != folder.name:
            problems.append(Problem(cert_path, "error", LAYOUT,
                                    f'the number {cert["number"]} differs from the folder name {folder.name}; '
                                    "the folder is named by the number", key=("number",)))
            cert = INVALID
    decisions: list[Decision] = []
    ok = True
    dfolder = folder / "decisions"
    names: list = []
    if any(p.path == dfolder for p in problems):
        ok = False  # a link or the like where the decisions belong: the certificate is not checked further
    if "decisions" in entries:
        try:
            # (a folder where a file belongs is reported when it is read)
            listed = _entries(dfolder, problems, limit=MAX_DECISIONS)
        except NotADirectoryError:
            problems.append(Problem(dfolder, "error", LAYOUT, "decisions must be a folder of decision files"))
            ok = False
        else:
            if listed is None:
                problems.append(Problem(dfolder, "error", LAYOUT,
                                        f"more than {MAX_DECISIONS} decision files: a certificate has a few dozen "
                                        "decisions over its life; none of these was read"))
                ok = False
            names = [name for name, _found in listed or ()]
            ok = ok and not any(p.path.parent == dfolder for p in problems)  # (a decision that is a link...)
    for name in names:
        path = dfolder / name
        m = DECISION_NAME.fullmatch(name)
        if not m or m.group(2) not in ACTIONS:
            problems.append(Problem(path, "error", LAYOUT,
                                    "a decision file is named DATE-ACTION.yml (e.g. 2025-03-01-suspend.yml, "
                                    "or 2025-03-01-suspend-2.yml for a second one that day), ACTION one of "
                                    + ", ".join(ACTIONS)))
            ok = False
            continue
        node = _read_node(path, problems)
        action = _top_text(node, "action")
        data = _check(path, node, _decision_spec(action if action in ACTIONS else m.group(2), scheme), problems)
        if data is INVALID:
            ok = False
            continue
        if data["action"] != m.group(2) or data["date"].isoformat() != m.group(1):
            problems.append(Problem(path, "error", LAYOUT,
                                    f"the file name says {m.group(1)} {m.group(2)} but the record says "
                                    f"{data['date']} {data['action']}; make them agree", key=("date",)))
            ok = False
            continue
        if data["certificate"] != folder.name:
            problems.append(Problem(path, "error", LAYOUT,
                                    f"the decision is about {data['certificate']} but lies in the folder of "
                                    f"{folder.name}", key=("certificate",)))
            ok = False
            continue
        d = Decision(path, data["action"], data["date"], data)
        d.order = _decision_order(d, int(m.group(3) or 1))
        decisions.append(d)
    decisions.sort(key=lambda d: d.order)
    return (cert if cert is not INVALID else None), (decisions if ok else None), problems


def typed_certificate(folder: Path, schemes: dict, skip=frozenset()) -> tuple[Certificate | None, list]:
    """One certificate folder as a typed Certificate (None if a record failed), and its problems."""
    cert, decisions, problems = load_certificate(folder, schemes, skip)
    if cert is None or decisions is None:
        return None, problems
    return Certificate(number=cert["number"], scheme=schemes[cert["scheme"]], path=folder / "certificate.yml",
                       follows=cert.get("follows"), valid_from=cert["valid_from"],
                       valid_until=cert["valid_until"], content=cert["content"], decisions=decisions), problems


# What a forked worker needs; set by the parent just before it forks (fork copies them, nothing is pickled).
_WORKER: dict = {}


def _load_chunk(folders):
    schemes, after, skip, keep = _WORKER["schemes"], _WORKER["after"], _WORKER["skip"], _WORKER["keep"]
    rows = []
    for folder in folders:
        cert, problems = typed_certificate(folder, schemes, skip)
        result = after(cert) if after and cert else None
        rows.append((folder, cert is not None, cert if keep else None, problems, result))
    return rows


def _load_cached(folders: list[Path], schemes: dict, skip: set, after, keep: bool, jobs: int | None, cache,
                 also=()):
    """_load_all's rows, in the order of ``folders``: those ``cache`` (a cache.CheckCache) has, from it,
    and the others loaded (and kept in it; and in each cache of ``also``, a list of (cache, what of a row it
    keeps), what a row gives another kind of run)."""
    if cache is None:
        return _load_all(folders, schemes, skip, after, keep, jobs)
    keys = cache.keys(folders)
    kept = cache.get([k for k in keys.values() if k is not None])
    todo = [folder for folder in folders if keys[folder] not in kept]
    made = {row[0]: row for row in _load_all(todo, schemes, skip, after, keep, jobs)}
    cache.put({keys[folder]: row[1:] for folder, row in made.items() if keys[folder] is not None})
    for other, part in also:
        their = other.keys(list(made))
        other.put({their[folder]: part(row[1:]) for folder, row in made.items() if their[folder] is not None})
    return [made[folder] if folder in made else (folder, *kept[keys[folder]]) for folder in folders]


def _load_all(folders: list[Path], schemes: dict, skip: set, after, keep: bool, jobs: int | None):
    jobs = jobs or os.cpu_count() or 1
    _WORKER.update(schemes=schemes, after=after, skip=skip, keep=keep)
    if jobs == 1 or len(folders) < PARALLEL_FROM or "fork" not in multiprocessing.get_all_start_methods():
        return _load_chunk(folders)
    # small chunks keep both workers busy to the end; results arrive (and are unpickled) as they are done
    size = max(25, min(100, len(folders) // (jobs * 8)))
    chunks = [folders[i:i + size] for i in range(0, len(folders), size)]
    rows = []
    with multiprocessing.get_context("fork").Pool(jobs) as pool:
        for done in pool.imap(_load_chunk, chunks):
            rows.extend(done)
    return rows


def load_registry(root: Path, *, jobs: int | None = None, after=None, keep: bool = True, cache=None, also=()
                  ) -> tuple[Registry, list, dict]:
    """Load the registry at ``root``: the records, every layout, YAML and schema problem, and ``after``'s results.

    ``after(certificate)``, if given, runs on each loaded certificate where it was loaded (in a worker
    process for a large registry); the third value maps certificate numbers to what it returned. With
    ``keep=False`` the certificates themselves are not kept (nor sent back from workers): only ``after``'s
    results are, which is all a caller that only checks needs.
    """
    root = Path(root)
    problems: list = []
    settings: dict = {}
    settings_path = root / SETTINGS_FILE
    if not root.is_dir():
        problems.append(Problem(root, "error", LAYOUT, "no registry folder here; give one with --registry"))
        return Registry(root, settings, {}, {}), problems, {}
    # Every entry is looked at without following links: a link, FIFO, socket or device is refused by its path.
    top = dict(_entries(root, problems) or ())
    for name in sorted(set(top) - TOP_LEVEL):
        problems.append(Problem(root / name, "error", LAYOUT,
                                "unexpected here: the registry holds " + ", ".join(sorted(TOP_LEVEL))))
    for name in ("schemas", "marks"):  # (read later: the schemas when checked, the artwork when published)
        if top.get(name) == "dir":
            _scan(root / name, problems)
    if top.get(SETTINGS_FILE) == "file":
        value = _read_checked(settings_path, REGISTRY_SPEC, problems)
        settings = value if value is not INVALID else {}
        for key in ("mark", "seal") if settings else ():
            try:
                safefile.check_regular(safefile.inside(root, settings[key]), safefile.MAX_ARTWORK_BYTES)
            except safefile.NotSafe as exc:
                where = os.path.relpath(exc.path, root) if exc.path is not None else settings[key]
                problems.append(Problem(settings_path, "error", LAYOUT, f"the {key} artwork {settings[key]} must "
                                                                        "be a regular file inside the registry; "
                                                                        f"{where} {exc.message}", key=(key,)))
            except safefile.TooBig as exc:
                problems.append(Problem(settings_path, "error", LAYOUT, f"the {key} artwork {settings[key]} is "
                                                                        f"{exc.size:,} bytes; an SVG of at most "
                                                                        f"{exc.limit:,} is expected", key=(key,)))
            except OSError:
                problems.append(Problem(settings_path, "error", LAYOUT, f"the {key} artwork {settings[key]} is not "
                                                                        "in the registry", key=(key,)))
    elif not any(p.path == settings_path for p in problems):
        problems.append(Problem(root, "error", LAYOUT, f"the registry has no {SETTINGS_FILE}"))
    schemes = load_schemes(root, problems)
    # schemes whose file has errors: their certificates wait until it is fixed (checking them would only repeat it)
    failed = {p.stem: p for p in sorted((root / "schemes").glob("[!.]*.yml")) if p.stem not in schemes} \
        if top.get("schemes") == "dir" else {}
    Scheme.loaded = schemes  # certificates coming back from worker processes refer to these
    registry = Registry(root, settings, schemes, {})
    cert_root = root / "certificates"
    if top.get("certificates") != "dir":
        if not any(p.path == cert_root for p in problems):
            problems.append(Problem(root, "error", LAYOUT, "the registry has no certificates/ folder"))
        return registry, problems, {}
    folders = []
    for name, what in _entries(cert_root, problems) or ():  # (entries know their type: no stat)
        path = cert_root / name
        if what == "dir":
            folders.append(path)
        else:
            problems.append(Problem(path, "error", LAYOUT, "certificates/ holds one folder per certificate "
                                                           "number; move this file into one"))
    results = {}
    certificates: dict[str, Certificate] = {}
    waiting = 0
    for folder, loaded, cert, found, result in _load_cached(folders, schemes, set(failed), after, keep, jobs, cache,
                                                                     also):
        problems.extend(found)
        if not loaded:
            registry.broken.add(folder.name)
            waiting += not found
            continue
        if cert is not None:
            certificates[cert.number] = cert
        results[folder.name] = result
    for path in failed.values():
        problems.append(Problem(path, "error", "REG-SCHEMA", "this scheme has errors: its certificates are not "
                                                             "checked until they are fixed (certificates waiting, "
                                                             f"of all such schemes: {waiting})"))
    registry.broken_schemes = set(failed)
    registry.certificates = certificates
    return registry, problems, results
