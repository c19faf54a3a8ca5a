"""Every chart of a report as a PNG or SVG file, drawn offline by vl-convert (no data URL is fetched)."""

from __future__ import annotations

import contextlib
import os
import tempfile
from pathlib import Path
from typing import Literal

from llmcost.errors import UsageError
from llmcost.report.html.model import EXTRA_HINT, Section

ImageFormat = Literal["png", "svg"]


def write_images(sections: list[Section], directory: Path, fmt: ImageFormat, *, scale: float = 2.0) -> list[Path]:
    """Write ``<n>-<chart key>.<fmt>`` for each chart of each section (n = the result's place, from 1);
    each file is written to a temp name and renamed, so no partial image is left behind."""
    try:
        import vl_convert
    except ImportError:
        raise UsageError(EXTRA_HINT) from None
    option = f"--{fmt}"
    if directory.exists() and not directory.is_dir():
        raise UsageError(f"{option} {directory}: not a directory")
    try:
        directory.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise UsageError(f"{option} {directory}: cannot create the directory ({exc.strerror or exc})") from None
    if not os.access(directory, os.W_OK | os.X_OK):
        raise UsageError(f"{option} {directory}: directory is not writable")
    written = []
    for n, section in enumerate(sections, start=1):
        for chart in section.charts:
            if fmt == "png":
                data: bytes = vl_convert.vegalite_to_png(chart.spec, scale=scale, allowed_base_urls=[])
            else:
                data = vl_convert.vegalite_to_svg(chart.spec, allowed_base_urls=[]).encode("utf-8")
            target = directory / f"{n}-{chart.key}.{fmt}"
            _write_bytes(target, data, option)
            written.append(target)
    return written


def _write_bytes(target: Path, data: bytes, option: str) -> None:
    try:
        fd, tmp = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".tmp", dir=target.parent)
    except OSError as exc:
        raise UsageError(f"{option} {target.parent}: cannot write there ({exc.strerror or exc})") from None
    try:
        mask = os.umask(0)
        os.umask(mask)
        os.fchmod(fd, 0o666 & ~mask)  # an image like any other new file, not mkstemp's 0600
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
        os.replace(tmp, target)
    except OSError as exc:
        with contextlib.suppress(OSError):
            Path(tmp).unlink()
        raise UsageError(f"{option} {target}: cannot write ({exc.strerror or exc})") from None
