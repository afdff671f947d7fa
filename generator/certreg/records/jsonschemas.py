"""The JSON Schemas published in ``registry/schemas/`` for editors, generated from the declarations.

Editors (yaml-language-server) read the ``# yaml-language-server: $schema=`` line
of each record and complete and check fields with these. They are generated,
never edited: ``certreg schemas`` writes them and ``certreg validate`` fails when
they are out of date.
"""

from __future__ import annotations

import json

from .specs import ACTIONS, REGISTRY_SPEC, SCHEME_SPEC, certificate_spec, content_spec, decision_spec

DRAFT = "http://json-schema.org/draft-07/schema#"
FOLDER = "schemas"


def _doc(name: str, title: str, body: dict) -> dict:
    return {"$schema": DRAFT, "$id": f"{name}.schema.json", "title": title, **body}


def build(schemes: dict) -> dict[str, dict]:
    """File name → JSON Schema, for the registry settings, schemes, certificates and decisions."""
    cert = certificate_spec(content_spec({})).json()
    cert["properties"]["scheme"] = {"enum": sorted(schemes), "description": "the scheme's key"}
    cert["properties"]["content"] = {"type": "object", "description": "what the certificate certifies"}
    cert["allOf"] = [
        {"if": {"properties": {"scheme": {"const": key}}, "required": ["scheme"]},
         "then": {"properties": {"content": schemes[key].content.json()}}}
        for key in sorted(schemes)
    ]
    branches = []
    for action in ACTIONS:
        variants = [decision_spec(action, schemes[k]).json() for k in sorted(schemes)
                    if action in schemes[k].data["actions"]]
        merged = variants[0] if variants else decision_spec(action).json()
        for other in variants[1:]:  # grounds and changed fields differ by scheme: accept any scheme's
            for name, prop in other["properties"].items():
                if prop != merged["properties"].get(name):
                    merged["properties"][name] = {"anyOf": [merged["properties"][name], prop]}
        merged["properties"]["action"] = {"const": action}
        branches.append({"if": {"properties": {"action": {"const": action}}, "required": ["action"]},
                         "then": merged})
    decision = {"type": "object", "required": ["certificate", "action", "date"],
                "properties": {"action": {"enum": list(ACTIONS)}}, "allOf": branches}
    return {
        "registry.schema.json": _doc("registry", "certreg registry settings", REGISTRY_SPEC.json()),
        "scheme.schema.json": _doc("scheme", "certreg certification scheme", SCHEME_SPEC.json()),
        "certificate.schema.json": _doc("certificate", "certreg certificate record", cert),
        "decision.schema.json": _doc("decision", "certreg decision record", decision),
    }


def render(schema: dict) -> str:
    return json.dumps(schema, ensure_ascii=False, indent=2, sort_keys=False) + "\n"
