"""Keep ``registry/schemas/*.schema.json`` equal to what the declarations generate."""

from __future__ import annotations

from pathlib import Path

from . import safefile
from .jsonschemas import FOLDER, build, render
from .yamlfile import MAX_BYTES


def stale_schemas(root: Path, schemes: dict) -> list[tuple[Path, str]]:
    """(path, message) for each published schema that is missing or differs from the generated one."""
    if not schemes:
        return []
    out = []
    for name, schema in build(schemes).items():
        path = Path(root) / FOLDER / name
        try:  # (a regular file only, read up to the limit of a record: a link, FIFO... is REG-LAYOUT's)
            data = safefile.read_regular(safefile.inside(root, Path(FOLDER) / name), MAX_BYTES)
        except safefile.NotSafe as exc:
            out.append((path, f"{Path(exc.path).name if exc.path is not None else name} {exc.message}"))
        except safefile.TooBig as exc:
            out.append((path, f"{name} is {exc.size:,} bytes, more than a schema can be ({exc.limit:,}); run "
                              "`certreg schemas` to write it"))
        except OSError:
            out.append((path, f"{name} is missing; run `certreg schemas` to write it"))
        else:
            if data != render(schema).encode("utf-8"):
                out.append((path, f"{name} is out of date with the schemes; run `certreg schemas` and commit it"))
    return out


def write_schemas(root: Path, schemes: dict) -> list[Path]:
    from ..errors import UsageError

    folder = Path(root) / FOLDER
    try:  # never written through a link (nor into a FIFO...): it could lead anywhere
        if safefile.kind(folder) is None:
            folder.mkdir(parents=True, exist_ok=True)
        for name in build(schemes):
            safefile.kind(folder / name)
    except safefile.NotSafe as exc:
        raise UsageError(f"{exc}: nothing was written") from None
    written = []
    for name, schema in build(schemes).items():
        path = folder / name
        path.write_text(render(schema), encoding="utf-8")
        written.append(path)
    return written
