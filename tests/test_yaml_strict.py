"""Safe, exact YAML: every surprise is an error with file and line, or kept as the exact text written."""

from __future__ import annotations

import datetime as dt
import tempfile
from decimal import Decimal
from pathlib import Path

import pytest
import yaml

from certreg.problems import Report
from certreg.records import yamlfile
from certreg.records.schema import INVALID, Bool, Checker, Date, Field, Map, Number, Text
from certreg.records.yamlfile import YamlProblem, compose, read
from certreg.rules.validate import check_registry

SPEC = Map({
    "code": Field(Text()),
    "flag_text": Field(Text()),
    "ok": Field(Bool()),
    "day": Field(Date()),
    "amount": Field(Number()),
    "nested": Field(Map({"name": Field(Text(), required=True)})),
})


@pytest.fixture(params=["libyaml", "pure-python"], autouse=True)
def parser(request, monkeypatch):
    """Every test here runs with libyaml's parser and with PyYAML's pure-Python one (used without libyaml)."""
    if request.param == "pure-python":
        monkeypatch.setattr(yamlfile, "_Parser", yamlfile.PurePythonParser)
        monkeypatch.setattr(yamlfile, "_EVENTS_LOADER", yaml.BaseLoader)
    else:
        assert yamlfile._Parser is yamlfile.LibyamlParser
    return request.param


def load(text: str, tmp_path=None):
    """Check ``text`` against SPEC; problems as (line, column, rule, message), located as the CLI prints them."""
    path = (tmp_path or Path(tempfile.mkdtemp())) / "x.yml"
    path.write_text(text, encoding="utf-8")
    chk = Checker(path)
    value = SPEC.check(read(path), chk, ())
    report = Report(list(chk.problems)).resolve()
    return value, [(p.line, p.column, p.rule, p.message) for p in report.problems]


@pytest.mark.parametrize("written,kept", [
    ("0012", "0012"), ("NO", "NO"), ("yes", "yes"), ("on", "on"), ("1e3", "1e3"), ("0x1F", "0x1F"),
    ("2024-01-01", "2024-01-01"), ("12:30:00", "12:30:00"), ("1_000", "1_000"), ("'007'", "007"),
])
def test_text_fields_keep_exactly_what_was_written(written, kept):
    value, problems = load(f"code: {written}\n")
    assert problems == []
    assert value == {"code": kept}
    assert isinstance(value["code"], str)


@pytest.mark.parametrize("word", ["yes", "no", "on", "off", "True", "Y", '"true"', "1"])
def test_booleans_are_only_true_or_false(word):
    value, problems = load(f"ok: {word}\n")
    assert value is INVALID
    assert problems[0][:3] == (1, 5, "REG-SCHEMA") and "true or false" in problems[0][3]


def test_true_false_and_exact_numbers():
    value, problems = load("ok: false\namount: 0.1\nday: 2024-02-29\n")
    assert problems == []
    assert value == {"ok": False, "amount": Decimal("0.1"), "day": dt.date(2024, 2, 29)}


@pytest.mark.parametrize("text,line,col,fragment", [
    ("day: 2024-02-30\n", 1, 6, "is not a date"),
    ("day: 2023-13-01\n", 1, 6, "is not a date"),
    ("day: 01/02/2024\n", 1, 6, "YYYY-MM-DD"),
    ("amount: 12 t\n", 1, 9, "digits, no separators or units"),
    ("amount: 1,000\n", 1, 9, "digits, no separators or units"),
    ("amount: .inf\n", 1, 9, "digits"),
    ("code:\n  a: 1\n", 2, 3, "must be text, not a mapping"),
    ("nested: {}\n", 1, 1, 'missing the required field "name"'),
    ("nested:\n  name:\n", 1, 1, 'missing the required field "name"'),
    ("nested:\n  name: ~\n", 1, 1, 'missing the required field "name"'),
    ("code: x\nnested:\n  other: 1\n", 2, 1, 'missing the required field "name"'),
    ("nested:\n  nmae: x\n", 2, 3, 'did you mean "name"'),
    ("code: a\ncode: b\n", 2, 1, "given twice (first on line 1)"),
    ("code: !foo x\n", 1, 7, "tag !foo is not allowed"),
    ("code: !!python/object:os.system x\n", 1, 7, "is not allowed"),
    ("code: \"a\\u0007b\"\n", 1, 7, "invisible character U+0007"),
    ("code: \" padded\"\n", 1, 7, "starts or ends with spaces"),
])
def test_field_problems_name_line_and_column(text, line, col, fragment):
    value, problems = load(text)
    assert value is INVALID
    assert problems[0][0:2] == (line, col), problems
    assert fragment in problems[0][3]


@pytest.mark.parametrize("text,line,fragment", [
    ("code: &a x\nflag_text: *a\n", 1, "anchor &a is not allowed"),
    ("- a\n- b\n", None, None),
    ("code: [a, b\n", 2, "not valid YAML"),
    ("a: 1\n---\nb: 2\n", 2, "not valid YAML"),
])
def test_document_problems(text, line, fragment):
    if line is None:
        value, problems = load(text)
        assert value is INVALID and "must be a mapping of fields" in problems[0][3]
        return
    with pytest.raises(YamlProblem) as exc:
        compose(text)
    assert exc.value.line == line and fragment in exc.value.message


def test_ampersand_and_asterisk_in_plain_text_are_text():
    value, problems = load("code: R&D *important* A &B\n")
    assert problems == [] and value == {"code": "R&D *important* A &B"}


def test_not_utf8_empty_and_comment_only_files(tmp_path):
    gbk = tmp_path / "gbk.yml"
    gbk.write_bytes("code: ok\nname: 中文\n".encode("gbk"))
    with pytest.raises(YamlProblem) as exc:
        read(gbk)
    assert exc.value.line == 2 and "not UTF-8" in exc.value.message
    for name, data, says in (("empty.yml", b"", "empty"), ("blank.yml", b"\n  \n", "empty"),
                             ("comment.yml", b"# nothing\n", "only comments")):
        (tmp_path / name).write_bytes(data)
        with pytest.raises(YamlProblem) as exc:
            read(tmp_path / name)
        assert says in exc.value.message


def test_a_broken_certificate_never_raises_and_names_its_file(builder):
    n = builder.zwl()
    cert = builder.root / "certificates" / n / "certificate.yml"
    for data in (b"\xff\xfe", b"", b"- a\n", b"number: [\n", b"number: &x a\nscheme: *x\n", "\u00e9: x".encode()):
        cert.write_bytes(data)
        c = check_registry(builder.root, dt.date(2025, 1, 1), jobs=1)
        errs = [p for p in c.report.problems if p.level == "error"]
        assert errs and all(p.path == cert for p in errs), errs
        assert n in c.registry.broken


def test_odd_folder_shapes_are_layout_errors_not_tracebacks(builder):
    n = builder.zwl()
    folder = builder.root / "certificates" / n
    (folder / "decisions" / "2025-01-06-change.yml").mkdir()        # a folder where a file belongs
    (folder / "notes.txt").write_text("x")                           # a stray file
    (builder.root / "certificates" / "README.txt").write_text("x")   # a file among the folders
    c = check_registry(builder.root, dt.date(2025, 6, 30), jobs=1)
    found = sorted((p.path.name, p.rule, p.line) for p in c.report.problems)
    assert found == [("2025-01-06-change.yml", "REG-YAML", 1), ("README.txt", "REG-LAYOUT", 1),
                     ("notes.txt", "REG-LAYOUT", 1)]
    other = builder.zwl("CEC-ZWL-2024-0002", raw_material_source="另一来源")
    import shutil

    shutil.rmtree(builder.root / "certificates" / other / "decisions")
    (builder.root / "certificates" / other / "decisions").write_text("not a folder")
    c = check_registry(builder.root, dt.date(2025, 6, 30), jobs=1)
    assert ("decisions", "REG-LAYOUT") in {(p.path.name, p.rule) for p in c.report.problems}


@pytest.mark.parametrize("text", [
    "code: " + "[" * 30000 + "]" * 30000 + "\n",          # overflowed libyaml's composer: a crash, once
    "code:\n  " + "- " * 30000 + "x\n",
    "code: " + "{a: " * 30000 + "1" + "}" * 30000 + "\n",
])
def test_deep_nesting_is_refused_before_it_can_crash(text):
    with pytest.raises(YamlProblem, match="nested more than 64 levels"):
        compose(text)


def test_a_huge_file_is_refused(tmp_path):
    path = tmp_path / "big.yml"
    path.write_text("code: " + "x" * (2 << 20) + "\n")
    with pytest.raises(YamlProblem, match="a record is a few kilobytes"):
        read(path)


@pytest.mark.parametrize("text,fragment", [
    ("day: 9999-12-31\n", "outside the years 1990–2199"),
    ("day: 0001-01-01\n", "outside the years 1990–2199"),
    ("amount: 99999999999999999999999\n", "must be at most"),
])
def test_values_that_would_break_date_arithmetic(text, fragment):
    value, problems = load(text)
    assert value is INVALID and fragment in problems[0][3]
