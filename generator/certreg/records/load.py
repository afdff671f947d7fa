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
from .model import Certificate, Decision, Registry, Scheme
from .schema import INVALID, Checker
from .specs import ACTIONS, REGISTRY_SPEC, SCHEME_SPEC, Anything, certificate_spec, decision_spec, scheme_consistency
from .yamlfile import YamlProblem, read

LAYOUT = "REG-LAYOUT"
SETTINGS_FILE = "registry.yml"
TOP_LEVEL = {SETTINGS_FILE, "README.md", "schemes", "schemas", "certificates", "marks"}
DECISION_NAME = re.compile(r"^(\d{4}-\d{2}-\d{2})-([a-z]+)(?:-(\d+))?\.yml$")
# Decisions of one day take effect in this order (an issue before a change, a suspension before a revocation).
# (a restoration before a new suspension: a suspension cannot end the day it begins)
ACTION_RANK = {a: i for i, a in enumerate(("issue", "change", "surveillance", "restore", "suspend", "revoke",
                                           "cancel"))}
PARALLEL_FROM = 400  # certificate folders; below this, starting processes costs more than it saves


def _read_node(path: Path, problems: list):
    """The file's root node, or None with a REG-YAML problem added."""
    try:
        return read(path)
    except YamlProblem as exc:
        problems.append(Problem(path, "error", "REG-YAML", exc.message, exc.line, exc.column))
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


def load_schemes(root: Path, problems: list) -> dict[str, Scheme]:
    folder = root / "schemes"
    schemes: dict[str, Scheme] = {}
    if not folder.is_dir():
        problems.append(Problem(root, "error", LAYOUT, "the registry has no schemes/ folder"))
        return schemes
    for path in sorted(folder.iterdir()):
        if path.name.startswith("."):
            continue
        if path.suffix != ".yml" or not path.is_file():
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
    entries = {name for name in os.listdir(folder) if not name.startswith(".")}  # .gitkeep and the like
    for name in sorted(entries - {"certificate.yml", "decisions"}):
        problems.append(Problem(folder / name, "error", LAYOUT, "a certificate folder holds certificate.yml and "
                                                                "decisions/ only; move or rename this"))
    if "certificate.yml" not in entries:
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
    if "decisions" in entries:
        try:
            # (a folder where a file belongs is reported when it is read)
            names = sorted(name for name in os.listdir(dfolder) if not name.startswith("."))
        except NotADirectoryError:
            problems.append(Problem(dfolder, "error", LAYOUT, "decisions must be a folder of decision files"))
            ok = False
    for name in names:
        path = dfolder / name
        m = DECISION_NAME.match(name)
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


def _certificate(folder: Path, schemes: dict, skip) -> tuple[Certificate | None, list]:
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
        cert, problems = _certificate(folder, schemes, skip)
        result = after(cert) if after and cert else None
        rows.append((folder, cert is not None, cert if keep else None, problems, result))
    return rows


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


def load_registry(root: Path, *, jobs: int | None = None, after=None, keep: bool = True
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
    if settings_path.is_file():
        value = _read_checked(settings_path, REGISTRY_SPEC, problems)
        settings = value if value is not INVALID else {}
        for key in ("mark", "seal") if settings else ():
            if not (root / settings[key]).is_file():
                problems.append(Problem(settings_path, "error", LAYOUT, f"the {key} artwork {settings[key]} is not "
                                                                        "in the registry", key=(key,)))
    else:
        problems.append(Problem(root, "error", LAYOUT, f"the registry has no {SETTINGS_FILE}"))
    for entry in sorted(root.iterdir()):
        if entry.name not in TOP_LEVEL and not entry.name.startswith("."):
            problems.append(Problem(entry, "error", LAYOUT,
                                    "unexpected here: the registry holds " + ", ".join(sorted(TOP_LEVEL))))
    schemes = load_schemes(root, problems)
    # schemes whose file has errors: their certificates wait until it is fixed (checking them would only repeat it)
    failed = {p.stem: p for p in sorted((root / "schemes").glob("[!.]*.yml")) if p.stem not in schemes}
    Scheme.loaded = schemes  # certificates coming back from worker processes refer to these
    registry = Registry(root, settings, schemes, {})
    cert_root = root / "certificates"
    if not cert_root.is_dir():
        problems.append(Problem(root, "error", LAYOUT, "the registry has no certificates/ folder"))
        return registry, problems, {}
    folders = []
    for item in sorted(os.scandir(cert_root), key=lambda e: e.name):  # (entries know their type: no stat)
        if item.name.startswith("."):
            continue
        if item.is_dir():
            folders.append(cert_root / item.name)
        else:
            problems.append(Problem(cert_root / item.name, "error", LAYOUT, "certificates/ holds one folder per "
                                                                         "certificate number; move this file "
                                                                         "into one"))
    results = {}
    waiting = 0
    for folder, loaded, cert, found, result in _load_all(folders, schemes, set(failed), after, keep, jobs):
        problems.extend(found)
        if not loaded:
            registry.broken.add(folder.name)
            waiting += not found
            continue
        if cert is not None:
            registry.certificates[cert.number] = cert
        results[folder.name] = result
    for path in failed.values():
        problems.append(Problem(path, "error", "REG-SCHEMA", "this scheme has errors: its certificates are not "
                                                             "checked until they are fixed (certificates waiting, "
                                                             f"of all such schemes: {waiting})"))
    registry.broken_schemes = set(failed)
    return registry, problems, results
