"""Record input cannot hurt (REG-LAYOUT, REG-SCHEMA, REG-ID).

- A link, FIFO, socket or device anywhere in the registry is a REG-LAYOUT error naming its path: it is never
  followed, opened, read or listed, and neither what it points to nor what it holds is ever printed.
- Files are read up to a limit; a certificate folder holds at most MAX_DECISIONS decision files.
- Text has no invisible characters and is never empty; numbers and dates have the digits 0-9, never -0 or +.
- Identities (ZWL-4) are compared as they read (NFKC, no spaces, no invisible characters).
- A scheme's number pattern runs with RE2, in linear time; one RE2 cannot run is an error at its line.

Commands run as separate processes with a timeout and a memory limit, so that a regression (a FIFO waited
on, /dev/zero read) fails the test instead of hanging it or exhausting the machine.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import resource
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest
import yaml

from certreg.records import safefile
from certreg.records.load import DECISION_NAME, MAX_DECISIONS
from certreg.records.schema import Bool, Checker, Choice, Date, Field, Map, Number, Text, linear_regex
from certreg.records.yamlfile import compose
from certreg.rules.checks import _norm
from certreg.rules.validate import check_registry
from conftest import ROOT

AS_OF = "2025-06-30"
TIMEOUT = 180  # seconds; a validation here takes one or two (a build a few more)
MEMORY = 3 << 30  # bytes of address space a command may take; reading /dev/zero would exceed it
PASSWD_LINES = [line for line in Path("/etc/passwd").read_text().splitlines() if line.strip()] \
    if Path("/etc/passwd").is_file() else []


def _limit_memory():
    resource.setrlimit(resource.RLIMIT_AS, (MEMORY, MEMORY))


def certreg(*args, cwd=ROOT) -> subprocess.CompletedProcess:
    """certreg ARGS as its own process (a hang is a TimeoutExpired, a failure of the test)."""
    return subprocess.run([sys.executable, "-c", "from certreg.cli import main; main()", *map(str, args)],
                          cwd=cwd, capture_output=True, text=True, timeout=TIMEOUT, preexec_fn=_limit_memory,
                          stdin=subprocess.DEVNULL)


def validate(root: Path) -> tuple[subprocess.CompletedProcess, list[dict]]:
    r = certreg("validate", "--registry", root, "--as-of", AS_OF, "--format", "json")
    assert "Traceback" not in r.stderr, r.stderr
    return r, json.loads(r.stdout or "[]")


def _rel(row: dict, root: Path) -> str:
    path = Path(row["path"])
    path = path if path.is_absolute() else ROOT / path
    return os.path.relpath(path, root)


def layout_errors(rows: list[dict], root: Path) -> dict[str, str]:
    """REG-LAYOUT errors: registry-relative path -> message."""
    return {_rel(r, root): r["message"] for r in rows if r["rule"] == "REG-LAYOUT" and r["level"] == "error"}


def assert_nothing_leaked(*outputs: str, names=()):
    """No line of /etc/passwd, no link target, no name listed from a system folder in anything printed."""
    text = "\n".join(outputs)
    for line in PASSWD_LINES:
        assert line not in text, f"a line of /etc/passwd was printed: {line!r}"
    for word in ("/dev/zero", "/etc", "root:x:0:0", *names):
        assert word not in text, f"{word!r} was printed:\n{text}"


def build_refuses(root: Path, tmp_path: Path, what: str, *secrets: str):
    """``certreg build --no-pdfs`` refuses the registry, naming ``what``, and publishes nothing."""
    out = tmp_path / "site-out"
    r = certreg("build", "--no-pdfs", "--registry", root, "--out", out, "--as-of", AS_OF)
    assert r.returncode != 0, r.stdout + r.stderr
    assert "REG-LAYOUT" in r.stderr and what in r.stderr, r.stderr
    assert "Traceback" not in r.stderr, r.stderr
    assert_nothing_leaked(r.stdout, r.stderr)
    if out.exists():  # nothing published; and certainly nothing from outside the registry
        for path in out.rglob("*"):
            if path.is_file():
                data = path.read_bytes()
                assert not any(s.encode() in data for s in secrets), path


@pytest.fixture
def registry(builder):
    """A valid registry: one ZWL certificate, issued."""
    builder.number = builder.zwl()
    builder.folder = builder.root / "certificates" / builder.number
    return builder


def test_the_registry_is_valid_to_begin_with(registry):
    r, rows = validate(registry.root)
    assert r.returncode == 0 and rows == [], r.stdout + r.stderr


# --- links, FIFOs, sockets, devices ----------------------------------------------------------------


def test_certificate_linked_to_dev_zero(registry, tmp_path):
    cert = registry.folder / "certificate.yml"
    cert.unlink()
    cert.symlink_to("/dev/zero")
    start = time.monotonic()
    r, rows = validate(registry.root)
    assert time.monotonic() - start < 60
    assert r.returncode == 1
    errors = layout_errors(rows, registry.root)
    assert "symbolic link" in errors[f"certificates/{registry.number}/certificate.yml"], rows
    assert {row["rule"] for row in rows} == {"REG-LAYOUT"}, rows  # (no "no certificate.yml", no REG-YAML)
    assert_nothing_leaked(r.stdout, r.stderr)
    build_refuses(registry.root, tmp_path, "certificate.yml")


def test_certificate_linked_to_etc_passwd_is_never_printed(registry, tmp_path):
    cert = registry.folder / "certificate.yml"
    cert.unlink()
    cert.symlink_to("/etc/passwd")
    for fmt in ("text", "json", "github"):
        r = certreg("validate", "--registry", registry.root, "--as-of", AS_OF, "--format", fmt)
        assert r.returncode == 1 and "REG-LAYOUT" in r.stdout and "certificate.yml" in r.stdout, r.stdout + r.stderr
        assert "symbolic link" in r.stdout
        assert_nothing_leaked(r.stdout, r.stderr)
    build_refuses(registry.root, tmp_path, "certificate.yml")


def test_a_fifo_is_refused_not_waited_on(registry, tmp_path):
    fifo = registry.folder / "decisions" / "2025-03-03-suspend.yml"
    os.mkfifo(fifo)
    r, rows = validate(registry.root)
    assert r.returncode == 1
    errors = layout_errors(rows, registry.root)
    assert "named pipe (FIFO)" in errors[f"certificates/{registry.number}/decisions/2025-03-03-suspend.yml"], rows
    build_refuses(registry.root, tmp_path, "2025-03-03-suspend.yml")


def test_a_fifo_as_the_certificate_or_the_settings(registry):
    for path in (registry.folder / "certificate.yml", registry.root / "registry.yml"):
        path.unlink()
        os.mkfifo(path)
    r, rows = validate(registry.root)
    assert r.returncode == 1
    errors = layout_errors(rows, registry.root)
    assert "named pipe" in errors["registry.yml"] and "named pipe" in errors[f"certificates/{registry.number}/"
                                                                             "certificate.yml"], rows


def test_decisions_linked_to_a_system_folder_is_not_listed(registry, tmp_path):
    decisions = registry.folder / "decisions"
    for path in decisions.iterdir():
        path.unlink()
    decisions.rmdir()
    decisions.symlink_to("/etc")
    r, rows = validate(registry.root)
    assert r.returncode == 1
    errors = layout_errors(rows, registry.root)
    assert "symbolic link" in errors[f"certificates/{registry.number}/decisions"], rows
    assert len(rows) == 1, rows  # nothing of /etc: its names are not decision files reported one by one
    names = [n for n in ("passwd", "hostname", "hosts", "os-release", "fstab") if (Path("/etc") / n).exists()]
    assert_nothing_leaked(r.stdout, r.stderr, names=names)
    build_refuses(registry.root, tmp_path, "decisions", *names)


@pytest.mark.parametrize("where", ["certificates", "schemes", "schemas", "marks"])
def test_a_linked_folder_is_refused(registry, tmp_path, where):
    outside = tmp_path / "outside"
    (registry.root / where).rename(outside)
    (registry.root / where).symlink_to(outside, target_is_directory=True)
    r, rows = validate(registry.root)
    assert r.returncode == 1
    errors = layout_errors(rows, registry.root)
    assert "symbolic link" in errors[where], rows
    assert_nothing_leaked(r.stdout, r.stderr, names=[str(outside)])


def test_a_certificate_folder_linked_inside_the_registry(registry):
    """Even a link to another folder of the registry: a record is where it is, once."""
    (registry.root / "certificates" / "CEC-ZWL-2024-0002").symlink_to(registry.folder, target_is_directory=True)
    r, rows = validate(registry.root)
    assert r.returncode == 1
    assert "symbolic link" in layout_errors(rows, registry.root)["certificates/CEC-ZWL-2024-0002"], rows


def test_a_mark_linked_outside_the_registry_is_not_published(registry, tmp_path):
    secret = "OUTSIDE-THE-REGISTRY-7f3a"
    outside = tmp_path / "outside.svg"
    outside.write_text(f'<svg xmlns="http://www.w3.org/2000/svg"><text>{secret}</text></svg>', encoding="utf-8")
    mark = registry.root / "marks" / "sample-mark.svg"
    mark.unlink()
    mark.symlink_to(outside)
    r, rows = validate(registry.root)
    assert r.returncode == 1
    errors = layout_errors(rows, registry.root)
    assert "symbolic link" in errors["marks/sample-mark.svg"], rows
    assert "mark artwork" in errors["registry.yml"] and "symbolic link" in errors["registry.yml"], rows
    at = next(row for row in rows if _rel(row, registry.root) == "registry.yml")
    assert at["line"] > 1  # at the mark: line
    assert_nothing_leaked(r.stdout, r.stderr, names=[secret, str(outside)])
    build_refuses(registry.root, tmp_path, "sample-mark.svg", secret)


def test_a_mark_too_big_is_refused(registry):
    mark = registry.root / "marks" / "sample-mark.svg"
    mark.write_bytes(b"<svg xmlns='http://www.w3.org/2000/svg'>" + b" " * safefile.MAX_ARTWORK_BYTES + b"</svg>")
    r, rows = validate(registry.root)
    assert r.returncode == 1
    assert "bytes" in layout_errors(rows, registry.root)["registry.yml"], rows


def test_a_socket_is_refused(registry):
    path = registry.root / "schemas" / "s.schema.json"
    if len(os.fsencode(path)) >= 100:
        pytest.skip("the folder's path is too long for a Unix socket")
    with socket.socket(socket.AF_UNIX) as sock:
        sock.bind(str(path))
        r, rows = validate(registry.root)
    assert r.returncode == 1
    assert "socket" in layout_errors(rows, registry.root)["schemas/s.schema.json"], rows


def test_a_device_is_refused(registry):
    path = registry.folder / "decisions" / "2025-03-03-suspend.yml"
    try:
        os.mknod(path, 0o600 | 0o020000, os.makedev(1, 5))  # a character device: /dev/zero's numbers
    except (PermissionError, OSError):
        pytest.skip("cannot make a device node here")
    r, rows = validate(registry.root)
    assert r.returncode == 1
    assert "device" in layout_errors(rows, registry.root)[f"certificates/{registry.number}/decisions/"
                                                          "2025-03-03-suspend.yml"], rows


def test_a_hidden_link_is_never_read_nor_reported(registry):
    (registry.folder / ".notes").symlink_to("/dev/zero")
    r, rows = validate(registry.root)
    assert r.returncode == 0 and rows == [], rows


def test_safe_read_never_opens_what_is_not_a_regular_file(tmp_path):
    fifo = tmp_path / "fifo"
    os.mkfifo(fifo)
    link = tmp_path / "link"
    link.symlink_to("/etc/passwd")
    big = tmp_path / "big"
    big.write_bytes(b"x" * 101)
    for path, error in ((fifo, safefile.NotSafe), (link, safefile.NotSafe), (big, safefile.TooBig)):
        with pytest.raises(error) as exc:
            safefile.read_regular(path, 100)
        assert "/etc/passwd" not in str(exc.value) and "root:" not in str(exc.value)
    assert safefile.read_regular(big, 101) == b"x" * 101
    with pytest.raises(IsADirectoryError):
        safefile.read_regular(tmp_path, 100)


def test_staff_commands_refuse_a_linked_certificate(registry):
    cert = registry.folder / "certificate.yml"
    cert.unlink()
    cert.symlink_to("/etc/passwd")
    r = certreg("decide", "suspend", registry.number, "--registry", registry.root, "--date", "2025-03-03",
                "--ground", "holder-request", "--reason-zh", "申请暂停", "--set", "facts_verified=2025-03-01")
    assert r.returncode != 0 and "symbolic link" in r.stderr, r.stdout + r.stderr
    assert_nothing_leaked(r.stdout, r.stderr)
    assert not (registry.folder / "decisions" / "2025-03-03-suspend.yml").exists()


# --- limits ----------------------------------------------------------------------------------------


def test_too_many_decision_files_are_refused_unread(registry, monkeypatch):
    from certreg.records import load

    decisions = registry.folder / "decisions"
    for i in range(MAX_DECISIONS):  # with the issue decision: one more than allowed
        (decisions / f"2025-01-01-change-{i + 2}.yml").write_text("x: [\n")
    read = []
    real_read = load.read
    monkeypatch.setattr(load, "read", lambda path: read.append(path) or real_read(path))
    checked = check_registry(registry.root, dt.date.fromisoformat(AS_OF), jobs=1)
    problems = [(p.path, p.rule, p.message) for p in checked.report.problems]
    assert problems == [(decisions, "REG-LAYOUT", problems[0][2])], problems[:5]
    assert f"more than {MAX_DECISIONS}" in problems[0][2]
    assert not [p for p in read if p.parent == decisions], "a decision file was read"
    # exactly the limit: read (and here each reported for what it is)
    (decisions / f"2025-01-01-change-{MAX_DECISIONS + 1}.yml").unlink()
    checked = check_registry(registry.root, dt.date.fromisoformat(AS_OF), jobs=1)
    assert not any("more than" in p.message for p in checked.report.problems)
    assert sum(p.rule == "REG-YAML" for p in checked.report.problems) == MAX_DECISIONS - 1


def test_too_many_decision_files_on_the_command_line(registry, tmp_path):
    decisions = registry.folder / "decisions"
    for i in range(MAX_DECISIONS + 1):
        (decisions / f"2025-01-01-change-{i + 2}.yml").write_text("")
    r, rows = validate(registry.root)
    assert r.returncode == 1
    assert f"more than {MAX_DECISIONS}" in layout_errors(rows, registry.root)[f"certificates/{registry.number}/"
                                                                              "decisions"]
    build_refuses(registry.root, tmp_path, "decision files")


def test_every_text_field_has_a_length_limit():
    from certreg.records import specs
    from certreg.records.schema import List, Map

    def walk(spec, where):
        if isinstance(spec, Text):
            assert 0 < spec.max_length <= 2000, where
        elif isinstance(spec, Map):
            for name, f in spec.fields.items():
                walk(f.spec, f"{where}.{name}")
        elif isinstance(spec, List):
            walk(spec.item, f"{where}[]")
        elif isinstance(spec, specs.Names):
            walk(spec.value, f"{where}{{}}")

    walk(specs.REGISTRY_SPEC, "registry")
    walk(specs.SCHEME_SPEC, "scheme")
    scheme = yaml.safe_load((ROOT / "registry/schemes/zero-waste-low-carbon-water.yml").read_text(encoding="utf-8"))
    content = specs.content_spec(scheme["fields"])
    walk(specs.certificate_spec(content), "certificate")
    for action in specs.ACTIONS:
        walk(specs.decision_spec(action), action)


# --- text, numbers, dates, names -------------------------------------------------------------------

REFUSED = ["\u00ad", "\u034f", "\u061c", "\u115f", "\u1160", "\u17b4", "\u180e", "\u200b", "\u200c", "\u200d",
           "\u200e", "\u200f", "\u2028", "\u2029", "\u202a", "\u202b", "\u202c", "\u202d", "\u202e", "\u2060",
           "\u2061", "\u2062", "\u2063", "\u2064", "\u2066", "\u2067", "\u2068", "\u2069", "\u206f", "\u3164",
           "\ufeff", "\uffa0", "\ufff9", "\ufffa", "\ufffb", "\U0001d173", "\U000e0001", "\U000e0041", "\x00", "\x07",
           "\x1b", "\r", "\x7f", "\x80", "\x85", "\x9b", "\x9f"]


def check(spec, text):
    """The value and problem messages of ``text`` (a YAML double-quoted scalar, escapes allowed) under ``spec``."""
    quoted = "".join(c if " " <= c <= "~" and c not in '"\\' else f"\\U{ord(c):08x}" if ord(c) > 0xFFFF
                     else f"\\u{ord(c):04x}" for c in text)
    node = compose(f'x: "{quoted}"\n').value[0][1]
    chk = Checker(Path("x.yml"))
    value = spec.check(node, chk, ("x",))
    return value, [p.message for p in chk.problems]


@pytest.mark.parametrize("ch", REFUSED, ids=[f"U+{ord(c):04X}" for c in REFUSED])
def test_invisible_characters_are_refused(ch):
    for spec in (Text(), Text(multiline=True)):
        for text in (f"浙江{ch}钱塘", f"ab{ch}c", f"{ch}abc"):
            value, messages = check(spec, text)
            assert messages == [f"x contains the invisible character U+{ord(ch):04X}; delete it"], (text, messages)


@pytest.mark.parametrize("text", ["浙江钱塘印染有限公司", "ＡＢＣ 有限公司", "a\tb", "Ａ", "葛\U000e0100", "❤\ufe0f",
                                  "\U00020000 字", "Zhejiang Co., Ltd."])
def test_visible_text_is_kept(text):
    assert check(Text(), text) == (text, [])


@pytest.mark.parametrize("text,word", [("", "empty"), (" ", "blank"), ("   ", "blank"), ("\u3000", "blank"),
                                       ("\u3000\u3000", "blank"), ("\u2003\u00a0", "blank"), ("\t", "blank")])
def test_empty_and_blank_texts_are_refused(text, word):
    for spec in (Text(), Text(multiline=True)):
        value, messages = check(spec, text)
        assert len(messages) == 1 and f"x is {word}" in messages[0], messages


@pytest.mark.parametrize("text", ["-0", "-0.0", "-00", "-0.000", "+0", "+1", "+1.5", "１２", "١٢", "۱۲", "１.５",
                                  "12\n", "1_000", "1e3", " 1", "0x10", "12.", ".5", "１"])
def test_numbers_are_ascii_digits_without_a_sign_or_negative_zero(text):
    for spec in (Number(), Number(integer=True), Number(minimum=None)):
        value, messages = check(spec, text)
        assert len(messages) == 1, (text, messages)


@pytest.mark.parametrize("text,value", [("0", 0), ("12", 12), ("0012", 12), ("1234.5", None)])
def test_plain_numbers_are_kept(text, value):
    from decimal import Decimal

    got, messages = check(Number(), text)
    assert messages == [] and got == Decimal(text)


def test_negative_numbers_are_still_told_by_their_minimum():
    assert check(Number(), "-3")[1] == ["x must be at least 0, not -3"]
    assert check(Number(minimum=None), "-3") == (-3, [])


@pytest.mark.parametrize("name,ok", [
    ("2025-03-01-suspend.yml", True), ("2025-03-01-suspend-2.yml", True), ("2025-03-01-suspend-12.yml", True),
    ("2025-03-01-suspend-1.yml", False), ("2025-03-01-suspend-0.yml", False), ("2025-03-01-suspend-02.yml", False),
    ("2025-03-01-suspend-٢.yml", False), ("２０２５-03-01-suspend.yml", False), ("2025-03-01-suspend.yml\n", False),
    ("2025-03-01-suspend.yaml", False),
])
def test_decision_file_names_have_ascii_digits(name, ok):
    assert bool(DECISION_NAME.fullmatch(name)) is ok


def test_identities_compare_as_they_read():
    base = "浙江省杭州市钱塘区十二号大街 66 号"
    for variant in ("浙江省杭州市钱塘区十二号大街６６号", "浙江省杭州市钱塘区十二号大街\u300066\u3000号",
                    "浙江省杭州市钱塘区\u00ad十二号大街 66 号", "浙江省杭州市钱塘区十二号\u200b大街 66 号",
                    "浙江省杭州市钱塘区十二号大街 66\ufe0f 号"):
        assert _norm(variant) == _norm(base), variant
    assert _norm("ＡＢＣ Co") == _norm("ABCCo")
    assert _norm("\uf9dc") == _norm("\u9686")  # a CJK compatibility ideograph is its unified one
    assert _norm("浙江 A") != _norm("浙江 B")
    assert _norm(None) is None and _norm(12) == 12


# --- a scheme's number pattern ----------------------------------------------------------------------


def test_a_backtracking_pattern_runs_in_linear_time():
    pattern = linear_regex("^(A+)+$")
    number = "A" * 40 + "!"
    start = time.perf_counter()
    assert pattern.fullmatch(number) is None
    assert pattern.fullmatch("AAAA") is not None
    assert time.perf_counter() - start < 0.1
    backtracking = linear_regex("^CEC-ZWL-([0-9]+-?)+$")
    start = time.perf_counter()
    assert backtracking.fullmatch("CEC-ZWL-" + "0" * 32 + "X") is None
    assert backtracking.fullmatch("CEC-ZWL-2025-0001") is not None
    assert time.perf_counter() - start < 0.1


@pytest.mark.parametrize("pattern,says", [
    ("^(?=CEC)CEC-ZWL-[0-9]{4}-[0-9]{4}$", "invalid perl operator: (?="),
    ("^(?<!X)CEC-ZWL-[0-9]{4}-[0-9]{4}$", "invalid perl operator: (?<"),
    ("^(CEC)-ZWL-[0-9]{4}-[0-9]{4}(-\\1)?$", "invalid escape sequence: \\1"),
    ("^CEC-ZWL-[0-9", "missing ]"),
])
def test_a_pattern_re2_cannot_run_is_an_error_at_its_line(builder, pattern, says):
    builder.zwl()
    path = builder.root / "schemes" / "zero-waste-low-carbon-water.yml"
    text = path.read_text(encoding="utf-8")
    old = "  pattern: '^CEC-ZWL-[0-9]{4}-(?:[0-9]{4}|[1-9][0-9]{4,5})$'\n"
    assert old in text
    path.write_text(text.replace(old, f"  pattern: '{pattern}'\n"), encoding="utf-8")
    line = text.split("\n").index(old.rstrip("\n")) + 1
    r = certreg("validate", "--registry", builder.root, "--as-of", AS_OF, "--format", "json")
    rows = json.loads(r.stdout)
    at = [row for row in rows if row["line"] == line and row["rule"] == "REG-SCHEMA"]
    assert at and says in at[0]["message"] and "RE2" in at[0]["message"], rows
    assert "re2.cc" not in r.stderr and "Error parsing" not in r.stderr, r.stderr  # RE2's own log stays quiet


@pytest.mark.parametrize("spec", [Number(), Bool(), Choice(choices=("pass", "fail")), Date(), Text(pattern="[a-z]+")])
def test_messages_never_show_record_text_raw(spec):
    """A terminal escape, a direction override or a line break in a value is shown escaped, and long text cut."""
    for text in ("\x1b[2J", "x\u202eab", "1\n2", "9" * 5000):
        value, messages = check(spec, text)
        assert len(messages) == 1 and "\x1b" not in messages[0] and "\u202e" not in messages[0], messages
        assert "\n" not in messages[0] and len(messages[0]) < 400, messages
    node = compose('"\\e[2J\\u202e": 1\n')
    chk = Checker(Path("x.yml"))
    Map({"a": Field(Text())}).check(node, chk, ())
    assert chk.problems and all("\x1b" not in p.message and "\u202e" not in p.message for p in chk.problems)
