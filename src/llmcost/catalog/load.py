"""Loading a catalog: a bundled catalog from its checked snapshot, anything else from YAML."""

from __future__ import annotations

import hashlib
import os
from pathlib import Path
from typing import Any

from llmcost.catalog import snapshot as _snap
from llmcost.catalog.schema import Catalog
from llmcost.catalog.snapshot import bundled_catalogs, catalog_path
from llmcost.errors import CatalogError


def load_catalog(name_or_path: str | os.PathLike[str] | None = None, *, snapshot: bool = True) -> Catalog:
    """Load and validate a catalog; errors name the file, the model and the field.

    A bundled catalog whose YAML is byte-for-byte the one the snapshot was made from is validated from
    the snapshot instead (same schema, same result, no YAML parsing); ``snapshot=False`` always reads
    the YAML.
    """
    path = catalog_path(name_or_path)
    if not path.exists():
        known = ", ".join(sorted(bundled_catalogs()))
        raise CatalogError(f"no such catalog file (bundled catalogs: {known})", source=str(path))
    if snapshot:
        fast = _from_snapshot(path)
        if fast is not None:
            return fast
    from llmcost import yamlfile  # only here: the snapshot path needs no YAML parser

    return yamlfile.load(path, Catalog, CatalogError)


def _from_snapshot(path: Path) -> Catalog | None:
    """The bundled catalog at ``path``, validated from the snapshot; None (read the YAML) unless the snapshot
    was made from exactly this file's bytes and is intact."""
    fields = _snap.snapshot_entry(path)
    if fields is None:
        return None
    try:
        return Catalog.model_validate(fields)
    except ValueError:  # not what the schema accepts: the YAML decides
        return None


def snapshot_text() -> str:
    """The snapshot of every bundled catalog: the fields its YAML sets, validated, as JSON."""
    import json

    from llmcost import yamlfile

    catalogs: dict[str, Any] = {}
    for name, path in bundled_catalogs().items():
        cat = yamlfile.load(path, Catalog, CatalogError)
        catalogs[name] = {"yaml_sha256": hashlib.sha256(path.read_bytes()).hexdigest(),
                          "catalog": cat.model_dump(mode="json", exclude_unset=True)}
    doc = {"generated_by": "python -m llmcost.catalog (do not edit; tests check it matches the YAML)",
           "catalogs": catalogs}
    return json.dumps(doc, indent=1, ensure_ascii=False) + "\n"


def write_snapshot() -> Path:
    """Regenerate the snapshot after editing a bundled catalog."""
    _snap.SNAPSHOT.write_text(snapshot_text(), encoding="utf-8")
    return _snap.SNAPSHOT
