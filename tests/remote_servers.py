"""Real servers for the remote-log tests, started on 127.0.0.1 inside the test run (never the internet).

- ``S3Server``: moto's S3-compatible server (``moto.server.ThreadedMotoServer``) with IAM authentication
  switched on, an IAM user allowed ``s3:*`` and a bucket of logs; wrong keys get a real 403.
- ``http_server``: Python's ``http.server`` serving a directory.
"""

from __future__ import annotations

import functools
import http.server
import json
import logging
import socket
import threading
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@dataclass(frozen=True)
class S3Server:
    endpoint: str
    access_key: str
    secret_key: str

    def env(self) -> dict[str, str]:
        """What a user of this server sets: the standard AWS variables, nothing of llmcost's own."""
        return {"AWS_ENDPOINT_URL": self.endpoint, "AWS_ACCESS_KEY_ID": self.access_key,
                "AWS_SECRET_ACCESS_KEY": self.secret_key, "AWS_DEFAULT_REGION": "us-east-1"}


@contextmanager
def s3_server(bucket: str, objects: dict[str, bytes]) -> Iterator[S3Server]:
    """A moto S3 server holding ``objects`` (key → bytes) in ``bucket``, with authentication enforced."""
    import boto3
    from moto import settings
    from moto.server import ThreadedMotoServer

    logging.getLogger("werkzeug").setLevel(logging.ERROR)  # its request log would land in captured stderr
    port = free_port()
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=port, verbose=False)
    server.start()
    endpoint = f"http://127.0.0.1:{port}"
    admin = {"endpoint_url": endpoint, "region_name": "us-east-1", "aws_access_key_id": "admin",
             "aws_secret_access_key": "admin"}
    before = settings.INITIAL_NO_AUTH_ACTION_COUNT
    try:
        iam = boto3.client("iam", **admin)
        iam.create_user(UserName="llmcost-reader")
        policy = {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "s3:*", "Resource": "*"}]}
        iam.put_user_policy(UserName="llmcost-reader", PolicyName="s3", PolicyDocument=json.dumps(policy))
        key = iam.create_access_key(UserName="llmcost-reader")["AccessKey"]
        s3 = boto3.client("s3", **admin)
        s3.create_bucket(Bucket=bucket)
        for name, body in objects.items():
            s3.put_object(Bucket=bucket, Key=name, Body=body)
        settings.INITIAL_NO_AUTH_ACTION_COUNT = 0  # from here on every request must be signed by a real key
        yield S3Server(endpoint, key["AccessKeyId"], key["SecretAccessKey"])
    finally:
        settings.INITIAL_NO_AUTH_ACTION_COUNT = before
        # moto keeps its accounts, users and buckets in process-wide state: clear it for the next server
        urllib.request.urlopen(urllib.request.Request(f"{endpoint}/moto-api/reset", method="POST"), timeout=30)
        server.stop()


class _QuietHandler(http.server.SimpleHTTPRequestHandler):
    def log_message(self, format: str, *args: object) -> None:
        pass


@contextmanager
def http_server(directory: Path) -> Iterator[str]:
    """Serve ``directory`` over http on 127.0.0.1; yields the base URL (no trailing slash)."""
    handler = functools.partial(_QuietHandler, directory=str(directory))
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)
