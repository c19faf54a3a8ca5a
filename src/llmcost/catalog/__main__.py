"""``python -m llmcost.catalog``: regenerate the snapshot of the bundled catalogs after editing one."""

from llmcost.catalog.load import write_snapshot

print(f"wrote {write_snapshot()}")
