"""Logs in object storage and over http(s): a real S3-compatible server (moto) and a real http.server on
127.0.0.1. Results read remotely equal the same logs read from local disk to the cent, streamed or not;
every failure is exit 2 with one stderr line naming the path and no credential."""

from __future__ import annotations

import gzip
import io
import json
import os
import shutil
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pandas as pd
import pytest

from llmcost.logs.remote import redact
from remote_servers import S3Server, http_server, s3_server

ROOT = Path(__file__).resolve().parents[2]
SAMPLE = ROOT / "sample_logs" / "support_workload.jsonl.gz"
BUCKET = "team-logs"


def _flat(frame: pd.DataFrame) -> pd.DataFrame:
    return frame.drop(columns=["prefix_hashes"]).assign(model=frame["model"].astype(str),
                                                       task=frame["task"].astype(str))


@pytest.fixture(scope="module")
def local(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """The same logs on local disk, in every container the remote tests read."""
    from llmcost.logs import read_logs

    frame = _flat(read_logs([str(SAMPLE)]).frame)
    out = tmp_path_factory.mktemp("local")
    paths = {"jsonl.gz": out / "log.jsonl.gz", "parquet": out / "log.parquet", "csv": out / "log.csv"}
    shutil.copy(SAMPLE, paths["jsonl.gz"])
    frame.to_parquet(paths["parquet"], row_group_size=500)
    frame.to_csv(paths["csv"], index=False)
    wide = frame.iloc[:4000].assign(response_body=[os.urandom(2000).hex() for _ in range(4000)])  # 16 MB unread
    wide.to_parquet(out / "wide.parquet", row_group_size=1000)
    paths["wide"] = out / "wide.parquet"
    half = len(frame) // 2
    for i, part in enumerate((frame.iloc[:half], frame.iloc[half:])):
        path = out / f"part-{i}.jsonl.gz"
        text = part.assign(timestamp=part["timestamp"].dt.strftime("%Y-%m-%dT%H:%M:%S.%fZ")).to_json(
            orient="records", lines=True)
        path.write_bytes(gzip.compress(text.encode()))
        paths[f"part-{i}"] = path
    return paths


@pytest.fixture(scope="module")
def s3(local: dict[str, Path]) -> Iterator[S3Server]:
    objects = {
        "2026/11/log.jsonl.gz": local["jsonl.gz"].read_bytes(),
        "2026/11/log.parquet": local["parquet"].read_bytes(),
        "2026/11/log.csv": local["csv"].read_bytes(),
        "2026/11/wide.parquet": local["wide"].read_bytes(),
        "2026/11/gzipped-without-suffix": local["jsonl.gz"].read_bytes(),  # gzip known by its magic bytes
        "parts/part-0.jsonl.gz": local["part-0"].read_bytes(),
        "parts/part-1.jsonl.gz": local["part-1"].read_bytes(),
        "parts/README.txt": b"not a log; the glob below does not match it\n",
    }
    with s3_server(BUCKET, objects) as server:
        yield server


@pytest.fixture
def aws(s3: S3Server, monkeypatch: pytest.MonkeyPatch) -> S3Server:
    for name, value in s3.env().items():
        monkeypatch.setenv(name, value)
    return s3


def estimate_json(cli: Any, *args: str) -> dict[str, Any]:
    result = cli("estimate", *args, "--format", "json")
    assert result.exit_code == 0, result.stderr
    data: dict[str, Any] = json.loads(result.stdout)
    return data


@pytest.mark.parametrize(("key", "local_name"), [("2026/11/log.parquet", "parquet"),
                                                 ("2026/11/log.jsonl.gz", "jsonl.gz"),
                                                 ("2026/11/log.csv", "csv"),
                                                 ("2026/11/gzipped-without-suffix", "jsonl.gz")])
def test_s3_object_prices_like_the_local_file(cli: Any, aws: S3Server, local: dict[str, Path], key: str,
                                              local_name: str) -> None:
    here = estimate_json(cli, str(local[local_name]), "--baseline-only")
    there = estimate_json(cli, f"s3://{BUCKET}/{key}", "--baseline-only")
    assert there == here
    assert float(there["scenarios"][0]["observed_cost_usd"]) > 0


@pytest.mark.parametrize("local_name", ["parquet", "jsonl.gz", "csv"])
def test_s3_streams_in_chunks_like_the_whole_local_file(cli: Any, aws: S3Server, local: dict[str, Path],
                                                        local_name: str) -> None:
    key = {"parquet": "log.parquet", "jsonl.gz": "log.jsonl.gz", "csv": "log.csv"}[local_name]
    here = estimate_json(cli, str(local[local_name]))
    streamed = estimate_json(cli, f"s3://{BUCKET}/2026/11/{key}", "--chunk-rows", "700")
    assert streamed == here


def test_s3_glob_reads_every_matching_object(cli: Any, aws: S3Server, local: dict[str, Path]) -> None:
    here = estimate_json(cli, str(local["part-0"]), str(local["part-1"]))
    there = estimate_json(cli, f"s3://{BUCKET}/parts/*.jsonl.gz")
    streamed = estimate_json(cli, f"s3://{BUCKET}/parts/*.jsonl.gz", "--chunk-rows", "500")
    assert there == here == streamed
    # the parts are the whole log (without its prefix hashes, so compared on the baseline)
    assert estimate_json(cli, f"s3://{BUCKET}/parts/*.jsonl.gz", "--baseline-only") == estimate_json(
        cli, str(local["jsonl.gz"]), "--baseline-only")


def test_s3_parquet_reads_only_the_needed_columns(aws: S3Server, local: dict[str, Path]) -> None:
    """A baseline estimate fetches the token columns, not a big column it does not use."""
    import pyarrow.parquet as pq

    from llmcost.frame import BASELINE_EXTRA
    from llmcost.logs import read_logs
    from llmcost.logs.remote import filesystem

    fs, _ = filesystem(f"s3://{BUCKET}/2026/11/wide.parquet")
    metadata = pq.read_metadata(local["wide"])
    total = local["wide"].stat().st_size
    fetched: list[int] = []
    real_open = fs.__class__._open

    def counting_open(self: Any, *args: Any, **kwargs: Any) -> Any:
        handle = real_open(self, *args, **kwargs)
        fetch = handle._fetch_range

        def counted(start: int, end: int) -> bytes:
            data: bytes = fetch(start, end)
            fetched.append(len(data))
            return data

        handle._fetch_range = counted
        handle.cache.fetcher = counted
        return handle

    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(fs.__class__, "_open", counting_open)
        frame = read_logs([f"s3://{BUCKET}/2026/11/wide.parquet"], columns=BASELINE_EXTRA).frame
    assert len(frame) == metadata.num_rows
    assert "response_body" not in frame.columns
    assert 0 < sum(fetched) < total * 0.5, (sum(fetched), total)


def one_error_line(result: Any) -> str:
    assert result.exit_code == 2
    assert result.stdout == ""
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert "Traceback" not in result.stderr
    return str(lines[0])


@pytest.mark.parametrize(("url", "expected"), [
    (f"s3://{BUCKET}/2026/11/missing.jsonl", "no such object"),
    ("s3://no-such-bucket/log.jsonl", "no such bucket or container 'no-such-bucket'"),
    (f"s3://{BUCKET}/2025/*.jsonl", "no object matches this pattern"),
    ("s3://no-such-bucket/*.jsonl", "no such bucket or container 'no-such-bucket'"),
    (f"s3://{BUCKET}/2026/11", "not an object"),
])
def test_s3_missing_things_are_one_line_naming_the_path(cli: Any, aws: S3Server, url: str, expected: str) -> None:
    line = one_error_line(cli("estimate", url, "--baseline-only"))
    assert url in line and expected in line


@pytest.mark.parametrize("which", ["secret", "key id"])
def test_s3_wrong_credentials_exit_2_without_echoing_them(cli: Any, aws: S3Server, monkeypatch: pytest.MonkeyPatch,
                                                          which: str) -> None:
    wrong = "wRoNgSeCrEt1234567890"
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY" if which == "secret" else "AWS_ACCESS_KEY_ID", wrong)
    url = f"s3://{BUCKET}/2026/11/log.parquet"
    result = cli("estimate", url, "--baseline-only")
    line = one_error_line(result)
    assert url in line and "access denied" in line
    for secret in (wrong, aws.secret_key, aws.access_key):
        assert secret not in result.stderr + result.stdout


def test_s3_wrong_credentials_on_a_glob(cli: Any, aws: S3Server, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "not-the-secret")
    line = one_error_line(cli("estimate", f"s3://{BUCKET}/parts/*.jsonl.gz"))
    assert "access denied" in line


def test_missing_s3_extra_names_it(cli: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "s3fs", None)  # as if llmcost[s3] were not installed
    line = one_error_line(cli("estimate", "s3://bucket/log.jsonl"))
    assert "pip install 'llmcost[s3]'" in line


@pytest.mark.parametrize(("url", "extra", "module"), [("gs://bucket/log.jsonl", "gcs", "gcsfs"),
                                                      ("az://container/log.jsonl", "azure", "adlfs")])
def test_missing_cloud_extra_names_it(cli: Any, monkeypatch: pytest.MonkeyPatch, url: str, extra: str,
                                      module: str) -> None:
    monkeypatch.setitem(sys.modules, module, None)
    line = one_error_line(cli("estimate", url))
    assert f"pip install 'llmcost[{extra}]'" in line


def test_unknown_scheme_is_one_line(cli: Any) -> None:
    line = one_error_line(cli("estimate", "ftp://host/log.jsonl"))
    assert "cannot read ftp:// paths" in line


@pytest.fixture(scope="module")
def served(local: dict[str, Path]) -> Iterator[str]:
    with http_server(local["jsonl.gz"].parent) as base:
        yield base


def test_https_log_prices_like_the_local_file(cli: Any, served: str, local: dict[str, Path]) -> None:
    here = estimate_json(cli, str(local["jsonl.gz"]))
    assert estimate_json(cli, f"{served}/log.jsonl.gz") == here
    assert estimate_json(cli, f"{served}/log.jsonl.gz", "--chunk-rows", "600") == here
    assert estimate_json(cli, f"{served}/log.parquet", "--baseline-only") == estimate_json(
        cli, str(local["parquet"]), "--baseline-only")


def test_https_missing_log_is_one_line(cli: Any, served: str) -> None:
    line = one_error_line(cli("estimate", f"{served}/nothing.jsonl"))
    assert f"{served}/nothing.jsonl" in line and "no such object" in line


def test_https_query_string_is_never_shown(cli: Any, served: str) -> None:
    url = f"{served}/nothing.jsonl?X-Amz-Signature=topsecret"
    result = cli("estimate", url)
    one_error_line(result)
    assert "topsecret" not in result.stderr


def test_redact_keeps_the_user_drops_password_and_query() -> None:
    assert redact("postgresql://ana:pw@db:5432/litellm") == "postgresql://ana@db:5432/litellm"
    assert redact("https://h/x.jsonl?sig=abc") == "https://h/x.jsonl?…"
    assert redact("s3://b/k.jsonl") == "s3://b/k.jsonl"


def test_open_path_reads_local_stdin_and_remote_alike(aws: S3Server, local: dict[str, Path],
                                                      monkeypatch: pytest.MonkeyPatch) -> None:
    from llmcost.logs.source import open_path

    expected = local["csv"].read_bytes()
    with open_path(str(local["csv"])) as fh:
        assert fh.read() == expected
    with open_path(f"s3://{BUCKET}/2026/11/log.csv") as fh:
        assert fh.read() == expected
    monkeypatch.setattr(sys, "stdin", io.TextIOWrapper(io.BytesIO(expected)))
    assert open_path("-").read() == expected
