"""Keep ``registry/schemas/*.schema.json`` equal to what the declarations generate."""

from __future__ import annotations

from pathlib import Path

from .jsonschemas import FOLDER, build, render


def stale_schemas(root: Path, schemes: dict) -> list[tuple[Path, str]]:
    """(path, message) for each published schema that is missing or differs from the generated one."""
    if not schemes:
        return []
    out = []
    for name, schema in build(schemes).items():
        path = Path(root) / FOLDER / name
        if not path.is_file():
            out.append((path, f"{name} is missing; run `certreg schemas` to write it"))
        elif path.read_bytes() != render(schema).encode("utf-8"):
            out.append((path, f"{name} is out of date with the schemes; run `certreg schemas` and commit it"))
    return out


def write_schemas(root: Path, schemes: dict) -> list[Path]:
    folder = Path(root) / FOLDER
    folder.mkdir(parents=True, exist_ok=True)
    written = []
    for name, schema in build(schemes).items():
        path = folder / name
        path.write_text(render(schema), encoding="utf-8")
        written.append(path)
    return written
