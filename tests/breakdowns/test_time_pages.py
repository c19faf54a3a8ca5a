"""Time buckets from the timestamp pages' statistics (llmcost.engines.time_pages): every row's bucket equals
the floor division of its timestamp, whatever the page layout (sorted or not, boundaries inside pages, at
page and row-group edges, dictionary or PLAIN pages, data page v1 or v2, every codec Arrow writes, every
unit); pages are decoded only where a boundary crosses them; and ``estimate --by`` on such logs equals the
full reader to the cent without reading the timestamp column."""

from __future__ import annotations

import json
from functools import partial
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from engine_logs import BILLING, log_table
from llmcost.engines import arrow_breakdowns, parquet_pages, partitions, time_pages

DAY_MS = 86_400_000
DIMS = ["hour", "day", "week"]


def _stamps(rows: int, *, seed: int = 1, days: int = 9, shuffle: bool = False) -> np.ndarray:
    """ms timestamps from 2026-03-01 (a Sunday: a week starts the next day), with rows exactly at the last
    and the first millisecond of each day."""
    rng = np.random.default_rng(seed)
    start = int(np.datetime64("2026-03-01", "ms").astype(np.int64))
    stamps = np.sort(start + rng.integers(0, days * DAY_MS, rows))
    edges = start + np.arange(1, days) * DAY_MS
    stamps[rng.choice(rows, len(edges), replace=False)] = edges - 1  # 23:59:59.999
    stamps[rng.choice(rows, len(edges), replace=False)] = edges  # 00:00:00.000
    stamps = np.sort(stamps)
    if shuffle:
        rng.shuffle(stamps)
    return stamps


def _write(path: Path, stamps: np.ndarray, unit: str = "ms", **options: Any) -> str:
    values = pa.array(stamps, pa.int64()).cast(pa.timestamp("ms", tz="UTC"))
    if unit != "ms":
        values = values.cast(pa.timestamp(unit, tz="UTC"))
    table = pa.table({"timestamp": values, "input_tokens": np.arange(len(stamps))})
    options.setdefault("row_group_size", 2_000)
    options.setdefault("max_rows_per_page", 100)
    pq.write_table(table, path, **options)
    return str(path)


def _expected(path: str, groups: list[int]) -> dict[str, np.ndarray]:
    column = pq.ParquetFile(path).read_row_groups(groups, columns=["timestamp"]).column(0)
    ns = column.cast(pa.timestamp("ns", tz="UTC")).cast(pa.int64()).to_numpy()
    return {s.dim: (ns + s.shift) // s.size for s in time_pages.steps(DIMS, 1)}


def _buckets(path: str, groups: list[int], dims: list[str]) -> dict[str, np.ndarray]:
    """Each row's buckets from ``partition_runs``, whose runs must lie back to back from the first row."""
    runs = time_pages.partition_runs(path, groups, dims)
    assert [r.start for r in runs] == [0, *(r.end for r in runs[:-1])]
    out = {d: np.full(runs[-1].end, -1, dtype=np.int64) for d in dims}
    for run in runs:
        for dim, bucket in run.buckets.items():
            assert isinstance(bucket, int) or (bucket.dtype == np.int32 and len(bucket) == run.end - run.start)
            out[dim][run.start:run.end] = bucket
    return out


def _check(path: str, monkeypatch: pytest.MonkeyPatch, *, by_arrow: int = 0, dims: list[str] = DIMS) -> None:
    """Every row group's buckets (all row groups as one partition, and each alone) equal the divided
    timestamps; ``by_arrow`` row groups were left to Arrow's reader."""
    arrow: list[int] = []
    original = time_pages._arrow_run
    monkeypatch.setattr(time_pages, "_arrow_run", lambda p, g, *a: arrow.append(g) or original(p, g, *a))
    groups = list(range(pq.ParquetFile(path).metadata.num_row_groups))
    for chosen in [groups, *([g] for g in groups)]:
        got = _buckets(path, chosen, dims)
        want = _expected(path, chosen)
        for dim in dims:
            assert np.array_equal(got[dim], want[dim]), (dim, chosen)
    assert len(set(arrow)) == by_arrow


@pytest.mark.parametrize("shuffle", [False, True])
@pytest.mark.parametrize("options", [{}, {"use_dictionary": False}, {"data_page_version": "2.0"},
                                     {"compression": "zstd"}, {"compression": "gzip"}, {"compression": "none"},
                                     {"compression": "lz4"}, {"compression": "brotli"}])
def test_buckets_equal_the_divided_timestamps(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, shuffle: bool,
                                              options: dict[str, Any]) -> None:
    monkeypatch.setattr(time_pages, "DECODE_SHARE", 1.0)  # decode what crosses a boundary, however much
    path = _write(tmp_path / "log.parquet", _stamps(6_000, shuffle=shuffle), **options)
    _check(path, monkeypatch, by_arrow=3 if options.get("compression") == "lz4" else 0)  # Hadoop-framed LZ4


@pytest.mark.parametrize("unit", ["s", "us", "ns"])
def test_every_unit(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, unit: str) -> None:
    monkeypatch.setattr(time_pages, "DECODE_SHARE", 1.0)
    stamps = _stamps(5_000)
    if unit == "s":
        stamps = stamps // 1000 * 1000
    _check(_write(tmp_path / "log.parquet", stamps, unit), monkeypatch)


def test_every_page_decoded_when_none_has_statistics(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Pages without min and max are decoded (dictionary and PLAIN, v1 and v2), never guessed."""
    monkeypatch.setattr(time_pages, "DECODE_SHARE", 1.0)
    monkeypatch.setattr(parquet_pages, "min_max", lambda stats: (None, None))
    decoded: list[parquet_pages.Page] = []
    original = parquet_pages.decode
    monkeypatch.setattr(parquet_pages, "decode", lambda fd, page, *a: decoded.append(page) or original(fd, page, *a))
    for version in ("1.0", "2.0"):
        path = _write(tmp_path / f"log{version}.parquet", _stamps(4_000, shuffle=True), data_page_version=version,
                      dictionary_pagesize_limit=4_000)  # dictionary pages first, then PLAIN pages
        _check(path, monkeypatch)
    assert sum(p.values for p in decoded) == 2 * 2 * 4_000  # 2 files, read as one partition and group by group
    assert {(p.kind, p.dictionary_encoded) for p in decoded} == {(k, d) for k in (0, 3) for d in (False, True)}


def test_only_the_pages_a_boundary_crosses_are_decoded(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    decoded: list[int] = []
    original = parquet_pages.decode
    monkeypatch.setattr(parquet_pages, "decode", lambda fd, page, *a: decoded.append(page.values) or
                        original(fd, page, *a))
    stamps = _stamps(20_000, days=4)
    path = _write(tmp_path / "log.parquet", stamps, row_group_size=5_000)
    got = _buckets(path, [0, 1, 2, 3], ["day"])
    assert np.array_equal(got["day"], stamps // DAY_MS)
    assert 0 < sum(decoded) <= 3 * 100  # three midnights, each inside one page of 100 rows (or at an edge)


def test_a_boundary_at_a_row_group_edge_and_row_groups_inside_one_bucket(tmp_path: Path,
                                                                          monkeypatch: pytest.MonkeyPatch) -> None:
    """Row groups of exactly one day each: no page is decoded, every bucket comes from statistics."""
    start = int(np.datetime64("2026-03-02", "ms").astype(np.int64))
    stamps = np.concatenate([start + d * DAY_MS + np.linspace(0, DAY_MS - 1, 1_000).astype(np.int64)
                             for d in range(3)])
    path = _write(tmp_path / "log.parquet", stamps, row_group_size=1_000)
    monkeypatch.setattr(parquet_pages, "decode", lambda *a: pytest.fail("a page was decoded"))
    monkeypatch.setattr(parquet_pages, "walk", lambda *a: pytest.fail("a row group inside one bucket was walked"))
    _check(path, monkeypatch, dims=["day", "week"])


def test_what_pages_do_not_cover_goes_to_arrow(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    # DELTA_BINARY_PACKED pages: not decoded here
    path = _write(tmp_path / "delta.parquet", _stamps(3_000), use_dictionary=False,
                  column_encoding={"timestamp": "DELTA_BINARY_PACKED"})
    _check(path, monkeypatch, by_arrow=2)
    # a busy log's hour buckets: most pages crossed, Arrow decodes the column
    busy = _write(tmp_path / "busy.parquet", _stamps(3_000, days=1))
    _check(busy, monkeypatch, by_arrow=2)


def test_a_page_that_does_not_match_its_statistics_goes_to_arrow(tmp_path: Path,
                                                                  monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(parquet_pages, "decode", lambda fd, page, *a: np.full(page.values, -1, dtype=np.int64))
    _check(_write(tmp_path / "log.parquet", _stamps(4_000)), monkeypatch, by_arrow=2)


def test_hybrid_runs_of_every_width() -> None:
    rng = np.random.default_rng(3)

    def varint(v: int) -> bytes:
        out = bytearray()
        while True:
            out.append((v & 0x7F) | (0x80 if v >> 7 else 0))
            v >>= 7
            if not v:
                return bytes(out)

    for width in (0, 1, 3, 7, 8, 13, 18, 24, 31, 32):
        values: list[int] = []
        data = bytearray(b"\x00")
        for packed, groups in ((True, 3), (False, 10), (True, 63), (False, 5), (True, 2)):
            if packed:
                run = rng.integers(0, 1 << width if width else 1, groups * 8, dtype=np.int64)
                bits = ((run[:, None] >> np.arange(width)) & 1).astype(np.uint8).ravel()
                data += varint(groups << 1 | 1) + np.packbits(bits, bitorder="little").tobytes()
                values += run.tolist()
            else:
                value = int(rng.integers(0, 1 << width if width else 1))
                data += varint(groups << 1) + value.to_bytes((width + 7) // 8, "little")
                values += [value] * groups
        got = parquet_pages.hybrid(memoryview(bytes(data)), 1, width, len(values) - 5)
        assert got.tolist() == values[:-5], width


# --- through the CLI: estimate --by on logs whose buckets come from the pages ---------------------------------

def _estimate(cli: Any, path: str, *args: str) -> dict[str, Any]:
    result = cli("estimate", path, "--baseline-only", "--catalog", BILLING, "--format", "json", *args)
    assert result.exit_code == 0, result.stderr
    return dict(json.loads(result.stdout))


def _by(values: list[str]) -> list[str]:
    return [a for v in values for a in ("--by", v)]


def _columns_read(monkeypatch: pytest.MonkeyPatch) -> list[tuple[str, ...]]:
    """The columns of every partition the Arrow path reads from here on, in order."""
    read: list[tuple[str, ...]] = []
    original = partitions.read_partition
    monkeypatch.setattr(partitions, "read_partition", lambda part, **kw: read.append(part.columns) or
                        original(part, **kw))
    return read


@pytest.mark.parametrize("shuffle", [False, True])
def test_cli_equals_the_full_reader_without_reading_timestamps(cli: Any, monkeypatch: pytest.MonkeyPatch,
                                                                tmp_path: Path, shuffle: bool) -> None:
    """A 20-day log (price changes inside it: those partitions read their timestamps for the price
    periods), row groups of 1,000 rows across day boundaries, pages of 100 rows; --by day/week/hour."""
    table = log_table(6_000, start="2026-01-01", days=20)
    if shuffle:  # rows out of time order inside every row group
        order = np.random.default_rng(2).permutation(table.num_rows)
        table = table.take(pa.array(order))
    path = tmp_path / "log.parquet"
    pq.write_table(table, path, row_group_size=1_000, max_rows_per_page=100)
    read = _columns_read(monkeypatch)
    monkeypatch.setattr(partitions, "parquet_partitions", partial(partitions.parquet_partitions, rows=2_000))
    by = _by(["day,model", "week", "hour"])
    monkeypatch.setattr(arrow_breakdowns, "_paged", lambda part, wanted: part.stamps is not None)
    fast = _estimate(cli, str(path), *by)
    assert sum("timestamp" not in columns for columns in read) == 3  # each partition first read without them
    taken = arrow_breakdowns.breakdown_estimate
    monkeypatch.setattr(arrow_breakdowns, "breakdown_estimate", lambda *a, **kw: None)  # the full reader
    assert fast == _estimate(cli, str(path), *by)
    chunked = _estimate(cli, str(path), *by, "--chunk-rows", "6000")  # --chunk-rows as big as the whole log
    assert chunked["breakdowns"] == fast["breakdowns"]
    monkeypatch.setattr(arrow_breakdowns, "breakdown_estimate", taken)
    assert _estimate(cli, str(path), *by, "--chunk-rows", "700")["breakdowns"] == fast["breakdowns"]


def test_cli_day_buckets_read_no_timestamps(cli: Any, monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """A log without price changes: --by day reads no timestamp column at all; the same JSON as the full
    reader's, to the cent."""
    table = log_table(8_000, start="2026-03-01", days=12, tiers=False)
    models = table.column("model").to_pylist()
    keep = [m in ("flash", "tiered", "mystery-model") for m in models]
    table = table.filter(pa.array(keep))
    path = tmp_path / "log.parquet"
    pq.write_table(table, path, row_group_size=700, max_rows_per_page=50)
    read = _columns_read(monkeypatch)
    by = _by(["day", "week,model"])
    assert _estimate(cli, str(path), *by) and read and all("timestamp" in columns for columns in read)
    read.clear()  # pages of Arrow's 20,000 rows would mostly be crossed: the column was read; of 50 rows:
    monkeypatch.setattr(time_pages, "PAGE_ROWS", 50)
    fast = _estimate(cli, str(path), *by)
    assert read and all("timestamp" not in columns for columns in read)
    assert _estimate(cli, str(path), *by, "--jobs", "1") == fast  # the buckets on the reading thread
    monkeypatch.setattr(arrow_breakdowns, "breakdown_estimate", lambda *a, **kw: None)
    assert fast == _estimate(cli, str(path), *by)


def test_cli_a_corrupt_timestamp_page_is_one_line(cli: Any, tmp_path: Path) -> None:
    """A timestamp page that does not decompress: exit 2, one line naming the file, no traceback."""
    stamps = _stamps(4_000)
    path = tmp_path / "log.parquet"
    table = pa.table({"timestamp": pa.array(stamps, pa.int64()).cast(pa.timestamp("ms", tz="UTC")),
                      "model": pa.array(["flash"] * len(stamps)), "input_tokens": np.full(len(stamps), 10),
                      "output_tokens": np.full(len(stamps), 5)})
    pq.write_table(table, path, row_group_size=2_000, max_rows_per_page=100, use_dictionary=False)
    meta = pq.ParquetFile(path).metadata
    chunk = meta.row_group(1).column(0)
    data = bytearray(path.read_bytes())
    middle = chunk.data_page_offset + chunk.total_compressed_size // 2
    data[middle:middle + 600] = b"\xff" * 600
    path.write_bytes(bytes(data))
    result = cli("estimate", str(path), "--baseline-only", "--catalog", BILLING, "--format", "json", "--by", "day")
    assert result.exit_code == 2, result.stdout
    assert str(path.name) in result.stderr and "Traceback" not in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1


@pytest.mark.parametrize("kind", [pa.timestamp("s", tz="UTC"), pa.timestamp("us", tz="America/New_York"),
                                  pa.timestamp("ns"), pa.timestamp("ms", tz="Asia/Kolkata")])
def test_cli_paged_buckets_are_utc_in_every_unit_and_zone(cli: Any, monkeypatch: pytest.MonkeyPatch, tmp_path: Path,
                                                          kind: pa.DataType) -> None:
    """Zoned or naive, s to ns: the pages' buckets are the full reader's (UTC) buckets."""
    table = log_table(4_000, start="2026-03-01", days=12, tiers=False)
    table = table.filter(pa.array([m in ("flash", "tiered") for m in table.column("model").to_pylist()]))
    stamps = table.column("timestamp")
    stamps = stamps.cast(kind, safe=False) if kind.tz else stamps.cast(pa.timestamp("ms")).cast(kind, safe=False)
    path = tmp_path / "log.parquet"
    pq.write_table(table.set_column(0, "timestamp", stamps), path, row_group_size=500, max_rows_per_page=40)
    monkeypatch.setattr(time_pages, "PAGE_ROWS", 40)
    read = _columns_read(monkeypatch)
    paged = _estimate(cli, str(path), *_by(["day,model", "week"]))
    assert read and all("timestamp" not in columns for columns in read)
    with_hours = _estimate(cli, str(path), *_by(["day,model", "week", "hour"]))  # hours: the column is read
    monkeypatch.setattr(arrow_breakdowns, "breakdown_estimate", lambda *a, **kw: None)
    assert paged == _estimate(cli, str(path), *_by(["day,model", "week"]))
    assert with_hours == _estimate(cli, str(path), *_by(["day,model", "week", "hour"]))
