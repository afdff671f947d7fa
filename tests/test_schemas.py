"""The published JSON Schemas: up to date, referenced by every record, and agreeing with the validator."""

from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path

import jsonschema
import pytest
from yaml.nodes import MappingNode, SequenceNode

from certreg.records.jsonschemas import build, render
from certreg.records.load import load_schemes
from certreg.records.yamlfile import read
from conftest import REGISTRY

SCHEMA_LINE = re.compile(r"^# yaml-language-server: \$schema=(\S+)$")


def yaml12(node):
    """The value an editor's YAML 1.2 (core schema) parser sees: plain 12.5 is a number, 2024-01-01 text."""
    if isinstance(node, MappingNode):
        return {k.value: yaml12(v) for k, v in node.value}
    if isinstance(node, SequenceNode):
        return [yaml12(v) for v in node.value]
    text = node.value
    if node.style not in ("", None):
        return text
    if text in ("true", "false"):
        return text == "true"
    if text in ("", "~", "null"):
        return None
    if re.fullmatch(r"[-+]?[0-9]+", text):
        return int(text)
    if re.fullmatch(r"[-+]?(\.[0-9]+|[0-9]+(\.[0-9]*)?)([eE][-+]?[0-9]+)?", text):
        return float(text)
    return text


def record_files(root: Path):
    return sorted(p for p in root.rglob("*.yml") if "schemas" not in p.parts)


def test_published_schemas_are_generated_from_the_declarations():
    problems: list = []
    schemes = load_schemes(REGISTRY, problems)
    assert problems == []
    for name, schema in build(schemes).items():
        assert (REGISTRY / "schemas" / name).read_text(encoding="utf-8") == render(schema), name


@pytest.mark.parametrize("path", record_files(REGISTRY), ids=lambda p: str(p.relative_to(REGISTRY)))
def test_every_record_names_its_schema_and_satisfies_it(path):
    first = path.read_text(encoding="utf-8").splitlines()[0]
    m = SCHEMA_LINE.match(first)
    assert m, f"{path}: the first line must be # yaml-language-server: $schema=..."
    schema_path = (path.parent / m.group(1)).resolve()
    expected = {"registry.yml": "registry", "certificate.yml": "certificate"}.get(
        path.name, "scheme" if path.parent.name == "schemes" else "decision")
    assert schema_path == (REGISTRY / "schemas" / f"{expected}.schema.json").resolve()
    schema = json.loads(schema_path.read_text(encoding="utf-8"))
    jsonschema.Draft7Validator.check_schema(schema)
    errors = [f"{'.'.join(map(str, e.absolute_path))}: {e.message}"
              for e in jsonschema.Draft7Validator(schema).iter_errors(yaml12(read(path)))]
    assert errors == []


def test_json_schema_rejects_what_the_validator_rejects():
    schema = json.loads((REGISTRY / "schemas" / "decision.schema.json").read_text(encoding="utf-8"))
    v = jsonschema.Draft7Validator(schema)
    good = {"certificate": "CEC-ZWL-2024-0001", "action": "suspend", "date": "2025-03-03",
            "ground": "holder-request", "facts_verified": "2025-03-01", "reason": {"zh": "暂停"}}
    assert list(v.iter_errors(good)) == []
    assert list(v.iter_errors({**good, "grond": "x"}))          # unknown field
    assert list(v.iter_errors({**good, "ground": "whim"}))      # not a ground of any scheme
    assert list(v.iter_errors({k: x for k, x in good.items() if k != "facts_verified"}))
    cert_schema = json.loads((REGISTRY / "schemas" / "certificate.schema.json").read_text(encoding="utf-8"))
    cv = jsonschema.Draft7Validator(cert_schema)
    assert any("offsets_tco2e" in e.message for e in cv.iter_errors(
        {"number": "CEC-ZCF-2025-0001", "scheme": "zero-carbon-factory", "valid_from": "2025-01-01",
         "valid_until": "2025-12-31", "content": {"factory_name": "x"}}))


def test_the_installed_console_command_runs():
    command = Path(sys.executable).parent / "certreg"
    result = subprocess.run([str(command), "--version"], capture_output=True, text=True)
    assert result.returncode == 0 and result.stdout.startswith("certreg, version "), result
