"""Engines reading Parquet where it lives: partitions fetched from a real S3-compatible server (moto, on
127.0.0.1) by this machine and by Dask worker processes give the local file's result to the cent."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from engine_logs import BILLING, fast_json, log_table, write
from remote_servers import S3Server, s3_server

BUCKET = "engine-logs"


@pytest.fixture(scope="module")
def local_log(tmp_path_factory: pytest.TempPathFactory) -> str:
    return write(log_table(4000, seed=21), tmp_path_factory.mktemp("engine-remote") / "log.parquet", 700)


@pytest.fixture(scope="module")
def s3(local_log: str) -> Iterator[S3Server]:
    pytest.importorskip("s3fs")
    with s3_server(BUCKET, {"2026/log.parquet": Path(local_log).read_bytes()}) as server:
        yield server


@pytest.fixture
def aws(s3: S3Server, monkeypatch: pytest.MonkeyPatch) -> S3Server:
    for name, value in s3.env().items():
        monkeypatch.setenv(name, value)
    return s3


def test_partitions_read_from_s3_equal_the_local_file(aws: S3Server, local_log: str) -> None:
    from llmcost.engines.partitions import parquet_partitions

    url = f"s3://{BUCKET}/2026/log.parquet"
    parts = parquet_partitions([url], rows=1500)
    assert parts is not None and len(parts) >= 2 and all(p.path == url for p in parts)
    assert fast_json([url]) == fast_json([local_log])


def test_dask_workers_read_s3_themselves(cli: Any, aws: S3Server, local_log: str) -> None:
    distributed = pytest.importorskip("distributed")
    url = f"s3://{BUCKET}/2026/log.parquet"
    args = ["--baseline-only", "--catalog", BILLING, "--format", "json"]
    # worker processes started now inherit the endpoint and credentials from the environment
    with distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=True, host="127.0.0.1",
                                  dashboard_address="127.0.0.1:0") as cluster:
        remote = cli("estimate", url, *args, "--engine", "dask", "--scheduler", cluster.scheduler_address)
    assert remote.exit_code == 0, remote.stderr
    assert json.loads(remote.stdout) == json.loads(cli("estimate", local_log, *args).stdout)
