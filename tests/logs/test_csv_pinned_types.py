"""Big CSVs are read with column types pinned from a sample of their head (fast, little memory). A later
value the pinned type rejects must give exactly what plain inference gives: the value accepted, or an
error naming its line and field."""

from __future__ import annotations

import io
import json
from decimal import Decimal
from pathlib import Path
from typing import Any

import pandas as pd
import pyarrow.csv as pacsv
import pytest

from llmcost.catalog import load_catalog
from llmcost.errors import InputError
from llmcost.estimate import run_estimate, run_estimate_chunked
from llmcost.frame import conform
from llmcost.logs import flat_csv, read_logs
from llmcost.logs.chunks import iter_chunks
from llmcost.logs.flat_csv import SAMPLE_BYTES
from llmcost.logs.native import table_to_pandas
from llmcost.scenarios import Baseline

HEADER = "timestamp,model,task,input_tokens,cache_read_tokens,output_tokens,reasoning_tokens,batch\n"
MODELS = ("gpt-4o-mini", "gpt-4o", "claude-sonnet-4-20250514")
ROWS = 24_000  # about 1.4 MB: past the sampled head


def _row(i: int) -> str:
    return (f"2026-01-01T{i // 3600 % 24:02d}:{i // 60 % 60:02d}:{i % 60:02d}.250Z,{MODELS[i % 3]},"
            f"{'chat' if i % 2 else 'classify'},{1000 + i % 7},{512 if i % 5 == 0 else 0},{20 + i % 3},0,"
            f"{'true' if i % 4 == 0 else 'false'}\n")


def _write(path: Path, last: str | None = None, rows: int = ROWS) -> Path:
    body = [_row(i) for i in range(rows)]
    if last is not None:
        body[-1] = last
    path.write_text(HEADER + "".join(body))
    assert path.stat().st_size > SAMPLE_BYTES or rows < ROWS
    return path


def _plain(path: Path) -> pd.DataFrame:
    """What whole-file inference gives (the reader before types were pinned)."""
    table = pacsv.read_csv(path, convert_options=pacsv.ConvertOptions(strings_can_be_null=True))
    return conform(table_to_pandas(table), source=str(path), first_line=2).frame


def test_big_csv_equals_plain_inference(tmp_path: Path) -> None:
    path = _write(tmp_path / "big.csv")
    frame = read_logs([str(path)]).frame
    pd.testing.assert_frame_equal(frame, _plain(path))
    assert isinstance(frame["model"].dtype, pd.CategoricalDtype)
    assert isinstance(frame["task"].dtype, pd.CategoricalDtype)
    assert str(frame["timestamp"].dtype) == "datetime64[ns, UTC]"
    assert int(frame["input_tokens"].sum()) == sum(1000 + i % 7 for i in range(ROWS))
    assert int(frame["cache_read_tokens"].sum()) == 512 * len(range(0, ROWS, 5))
    assert int(frame["batch"].sum()) == len(range(0, ROWS, 4))
    assert frame["timestamp"].iloc[-1] == pd.Timestamp("2026-01-01T06:39:59.250Z")


def _last(**change: str) -> str:
    fields = dict(zip(HEADER.strip().split(","), _row(ROWS - 1).strip().split(","), strict=True))
    fields.update(change)
    return ",".join(fields.values()) + "\n"


@pytest.mark.parametrize(
    ("change", "column", "expected"),
    [
        ({"input_tokens": "1500.0"}, "input_tokens", 1500),
        ({"output_tokens": "7"}, "output_tokens", 7),  # a control: fits the pinned type
        ({"timestamp": "2026-01-02 00:00:00"}, "timestamp", pd.Timestamp("2026-01-02T00:00:00Z")),
        ({"batch": "yes"}, "batch", True),
        ({"model": ""}, None, None),
    ],
    ids=["float-tokens", "control", "naive-timestamp", "yes-batch", "blank-model"],
)
def test_late_value_outside_the_sampled_type(tmp_path: Path, change: dict[str, str], column: str | None,
                                             expected: Any) -> None:
    path = _write(tmp_path / "late.csv", _last(**change))
    if column is None:
        with pytest.raises(InputError, match="empty model name") as info:
            read_logs([str(path)])
        assert info.value.line == ROWS + 1
        return
    frame = read_logs([str(path)]).frame
    assert len(frame) == ROWS
    assert frame[column].iloc[-1] == expected
    pd.testing.assert_frame_equal(frame, _plain(path))


@pytest.mark.parametrize(
    ("change", "field", "why"),
    [
        ({"output_tokens": "lots"}, "output_tokens", "must be a whole number (got 'lots')"),
        ({"input_tokens": ""}, "input_tokens", "is missing"),
        ({"input_tokens": "-3"}, "input_tokens", "must not be negative"),
        ({"timestamp": "yesterday"}, "timestamp", "not a date/time"),
        ({"batch": "maybe"}, "batch", "must be true or false"),
    ],
    ids=["word-tokens", "blank-tokens", "negative", "bad-timestamp", "bad-batch"],
)
def test_late_bad_value_names_its_line_and_field(cli: Any, tmp_path: Path, change: dict[str, str], field: str,
                                                 why: str) -> None:
    path = _write(tmp_path / "bad.csv", _last(**change))
    result = cli("estimate", str(path), "--baseline-only", "--format", "json")
    assert result.exit_code == 2, result.stderr
    message = result.stderr.strip()
    assert "\n" not in message and "Traceback" not in message, message
    assert f"{path}:{ROWS + 1}: field '{field}'" in message, message
    assert why in message, message
    skipped = cli("estimate", str(path), "--baseline-only", "--format", "json", "--skip-bad")
    assert skipped.exit_code == 0, skipped.stderr
    assert json.loads(skipped.stdout)["window"]["requests"] == ROWS - 1


def test_column_blank_in_the_head_filled_later(tmp_path: Path) -> None:
    lines = [_row(i) for i in range(ROWS)]
    late = ROWS - 100
    # cache_read_tokens blank for most of the file: the sample sees an all-null column
    lines = [line.split(",") for line in lines]
    for i, parts in enumerate(lines):
        parts[4] = "300" if i >= late else ""
    path = tmp_path / "blank-head.csv"
    path.write_text(HEADER + "".join(",".join(parts) for parts in lines))
    frame = read_logs([str(path)]).frame
    assert int(frame["cache_read_tokens"].sum()) == 300 * 100
    pd.testing.assert_frame_equal(frame, _plain(path))


def test_small_csv_is_read_in_one_go(tmp_path: Path) -> None:
    path = _write(tmp_path / "small.csv", rows=10)
    frame = read_logs([str(path)]).frame
    pd.testing.assert_frame_equal(frame, _plain(path))
    assert list(frame["model"].astype(str)) == [MODELS[i % 3] for i in range(10)]


def test_big_csv_streamed_equals_in_memory_to_the_cent(tmp_path: Path) -> None:
    path = _write(tmp_path / "big.csv")
    catalog = load_catalog()
    whole = run_estimate(read_logs([str(path)]).frame, catalog, [Baseline()])
    streamed = run_estimate_chunked((c.frame for c in iter_chunks([str(path)], 5_000)), catalog, [Baseline()])
    assert whole.baseline.observed_cost == streamed.baseline.observed_cost
    assert whole.baseline.priced == streamed.baseline.priced
    assert whole.window == streamed.window
    # gpt-4o-mini by hand: tokens summed per batch flag, priced at the catalog's rates for that flag
    model = catalog.model("gpt-4o-mini")
    expected = Decimal(0)
    for is_batch in (False, True):
        rows = [i for i in range(ROWS) if i % 3 == 0 and (i % 4 == 0) == is_batch]
        cached = sum(512 for i in rows if i % 5 == 0)
        uncached = sum(1000 + i % 7 for i in rows) - cached
        output = sum(20 + i % 3 for i in rows)
        rates = model.rates_for(long_context=False, batch=is_batch)
        assert rates["input"] is not None and rates["cache_read"] is not None and rates["output"] is not None
        expected += (uncached * rates["input"] + cached * rates["cache_read"] + output * rates["output"]) / 1_000_000
    cost = next(m.cost for m in whole.baseline.priced.by_model if m.model == "gpt-4o-mini")
    assert cost == expected


def test_gzip_csv_past_the_sample(tmp_path: Path) -> None:
    import gzip

    plain = _write(tmp_path / "big.csv")
    packed = tmp_path / "big.csv.gz"
    packed.write_bytes(gzip.compress(plain.read_bytes()))
    pd.testing.assert_frame_equal(read_logs([str(packed)]).frame, read_logs([str(plain)]).frame)
    assert io.BytesIO(packed.read_bytes()).read(2) == b"\x1f\x8b"


@pytest.fixture
def small_pieces(monkeypatch: pytest.MonkeyPatch) -> None:
    """Pieces of 200 kB, so the test files span several (the parse buffer is reused between them)."""
    monkeypatch.setattr(flat_csv, "PIECE_BYTES", 200_000)


def _with_hash(i: int) -> str:
    return _row(i).rstrip("\n") + f",h{i * 7919 % 100_003:06d}\n"


def test_pieces_equal_plain_inference(tmp_path: Path, small_pieces: None) -> None:
    path = tmp_path / "pieces.csv"
    path.write_text(HEADER.rstrip("\n") + ",prompt_hash\n" + "".join(_with_hash(i) for i in range(ROWS)))
    frame = read_logs([str(path)]).frame
    pd.testing.assert_frame_equal(frame, _plain(path))
    assert frame["prompt_hash"].iloc[-1] == f"h{(ROWS - 1) * 7919 % 100_003:06d}"
    assert len(frame) == ROWS


@pytest.mark.parametrize(("column", "expected"), [("cache_read_tokens", 0), ("batch", False), ("task", None),
                                                  ("timestamp", None)])
def test_blank_in_a_later_piece(tmp_path: Path, small_pieces: None, column: str, expected: Any) -> None:
    """A null after the first piece: the column continues as Arrow chunks, as inference would give it."""
    path = _write(tmp_path / "late-null.csv", _last(**{column: ""}))
    if column == "timestamp":
        with pytest.raises(InputError, match="is missing") as info:
            read_logs([str(path)])
        assert info.value.line == ROWS + 1
        assert info.value.field == "timestamp"
        return
    frame = read_logs([str(path)]).frame
    pd.testing.assert_frame_equal(frame, _plain(path))
    last = frame[column].iloc[-1]
    assert pd.isna(last) if expected is None else last == expected


def test_more_rows_than_the_head_suggested(tmp_path: Path, small_pieces: None) -> None:
    """Long lines in the head, short ones after: the columns grow."""
    long_head = [_row(i).replace(",chat,", ",chat-" + "x" * 150 + ",") for i in range(8_000)]
    short = [_row(i).replace("2026-01-01T", "2026-01-02T").replace(".250Z", "Z") for i in range(8_000, 80_000)]
    path = tmp_path / "grow.csv"
    path.write_text(HEADER + "".join(long_head + short))
    with path.open("rb") as fh:
        table = flat_csv.read_csv(fh, None, size_hint=path.stat().st_size // 4)
    assert table.num_rows == 80_000
    frame = read_logs([str(path)]).frame
    pd.testing.assert_frame_equal(frame, _plain(path))
    assert int(frame["input_tokens"].sum()) == sum(1000 + i % 7 for i in range(80_000))


def test_many_distinct_texts_stay_arrow_encoded(tmp_path: Path, small_pieces: None,
                                                monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(flat_csv, "MAX_CATEGORIES", 500)
    path = tmp_path / "users.csv"
    rows = [_row(i).rstrip("\n") + (f",u{i % 3000}\n" if i % 11 else ",\n") for i in range(ROWS)]
    path.write_text(HEADER.rstrip("\n") + ",user\n" + "".join(rows))
    frame = read_logs([str(path)]).frame
    pd.testing.assert_frame_equal(frame, _plain(path))
    assert frame["user"].nunique() == 3000  # every u0..u2999 shows on some row not a multiple of 11
    assert pd.isna(frame["user"].iloc[0]) and frame["user"].iloc[1] == "u1"
