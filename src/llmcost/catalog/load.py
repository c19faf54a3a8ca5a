"""Loading a catalog: a bundled catalog from its checked snapshot, anything else from YAML."""

from __future__ import annotations

import hashlib
import os
from pathlib import Path
from typing import TYPE_CHECKING, cast

from llmcost.catalog import snapshot as _snap
from llmcost.catalog.snapshot import bundled_catalogs, catalog_path
from llmcost.errors import CatalogError

if TYPE_CHECKING:  # pydantic only when a catalog is validated (not for load_catalog(light=True))
    from llmcost.catalog.schema import Catalog


def load_catalog(name_or_path: str | os.PathLike[str] | None = None, *, snapshot: bool = True,
                 light: bool = False) -> Catalog:
    """Load and validate a catalog; errors name the file, the model and the field.

    A bundled catalog whose YAML is byte-for-byte the one the snapshot was made from is validated from
    the snapshot instead (same schema, same result, no YAML parsing); ``snapshot=False`` always reads
    the YAML. ``light=True``: such a catalog is read from the snapshot without pydantic
    (``llmcost.catalog.light``: the same fields and methods, but not pydantic models), for callers that
    only resolve names and price.
    """
    path = catalog_path(name_or_path)
    if not path.exists():
        known = ", ".join(sorted(bundled_catalogs()))
        raise CatalogError(f"no such catalog file (bundled catalogs: {known})", source=str(path))
    if snapshot and light:
        from llmcost.catalog.light import light_catalog

        read = light_catalog(path)
        if read is not None:
            return cast("Catalog", read)  # duck-typed: every method from llmcost.catalog.cards
    if snapshot:
        fast = _from_snapshot(path)
        if fast is not None:
            return fast
    from llmcost import yamlfile  # only here: the snapshot path needs no YAML parser
    from llmcost.catalog.schema import Catalog

    return yamlfile.load(path, Catalog, CatalogError)


def _from_snapshot(path: Path) -> Catalog | None:
    """The bundled catalog at ``path``, validated from the snapshot; None (read the YAML) unless the snapshot
    was made from exactly this file's bytes and is intact."""
    from llmcost.catalog.schema import Catalog

    fields = _snap.snapshot_entry(path)
    if fields is None:
        return None
    try:
        return Catalog.model_validate(fields)
    except ValueError:  # not what the schema accepts: the YAML decides
        return None


def snapshot_texts() -> dict[str, str]:
    """The snapshot of each bundled catalog, by name: the fields its YAML sets, validated, as JSON."""
    import json

    from llmcost import yamlfile
    from llmcost.catalog.schema import Catalog

    texts: dict[str, str] = {}
    for name, path in bundled_catalogs().items():
        cat = yamlfile.load(path, Catalog, CatalogError)
        entry = {"yaml_sha256": hashlib.sha256(path.read_bytes()).hexdigest(),
                 "catalog": cat.model_dump(mode="json", exclude_unset=True)}
        doc = {"generated_by": "python -m llmcost.catalog (do not edit; tests check it matches the YAML)",
               "catalogs": {name: entry}}
        texts[name] = json.dumps(doc, indent=1, ensure_ascii=False) + "\n"
    return texts


def write_snapshot() -> Path:
    """Regenerate the snapshots after editing a bundled catalog (and drop those of removed catalogs)."""
    texts = snapshot_texts()
    _snap.SNAPSHOT_DIR.mkdir(exist_ok=True)
    for old in _snap.SNAPSHOT_DIR.glob("*.json"):
        if old.stem not in texts:
            old.unlink()
    for name, text in texts.items():
        _snap.snapshot_file(name).write_text(text, encoding="utf-8")
    return _snap.SNAPSHOT_DIR
