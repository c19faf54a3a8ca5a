"""Logs where they live: object storage (``s3://``, ``gs://``, ``az://``) and ``https://`` through fsspec.

Credentials and endpoints come only from the environment and each service's standard configuration
(``AWS_ACCESS_KEY_ID``, ``AWS_ENDPOINT_URL``, ``~/.aws``, ``GOOGLE_APPLICATION_CREDENTIALS``,
``AZURE_STORAGE_*``...), never from the command line. Every message names the path with any password
and query string (a pre-signed URL's signature) left out. fsspec is imported only when a remote path is
given, and a missing filesystem package is an error naming the extra to install.
"""

from __future__ import annotations

import gzip
import io
import os
import re
from typing import IO, TYPE_CHECKING, Any
from urllib.parse import urlsplit, urlunsplit

from llmcost.errors import InputError, UsageError

if TYPE_CHECKING:
    from fsspec import AbstractFileSystem

# scheme → (fsspec protocol, llmcost extra that installs it)
# the package each fsspec protocol needs (fsspec's registry would hide a missing one once it was imported)
_PACKAGES = {"s3": "s3fs", "gcs": "gcsfs", "abfs": "adlfs", "https": "aiohttp"}
REMOTE_SCHEMES: dict[str, tuple[str, str]] = {
    "s3": ("s3", "s3"), "s3a": ("s3", "s3"),
    "gs": ("gcs", "gcs"), "gcs": ("gcs", "gcs"),
    "az": ("abfs", "azure"), "abfs": ("abfs", "azure"), "abfss": ("abfs", "azure"),
    "http": ("https", "https"), "https": ("https", "https"),
}
DATABASE_SCHEMES = ("postgresql", "postgres")
_SCHEME = re.compile(r"^([A-Za-z][A-Za-z0-9+.-]*)://")


def scheme(name: str) -> str | None:
    """The URL scheme of ``name`` in lower case (None for a local path or ``-``)."""
    found = _SCHEME.match(name)
    return found.group(1).lower() if found else None


def is_remote(name: str) -> bool:
    return scheme(name) in REMOTE_SCHEMES


def is_database(name: str) -> bool:
    return scheme(name) in DATABASE_SCHEMES


def is_url(name: str) -> bool:
    """Any ``scheme://`` name: remote, database, or one llmcost cannot read (then an error says so)."""
    return scheme(name) is not None


def redact(url: str) -> str:
    """``url`` without its password and query string: what every message may show."""
    try:
        parts = urlsplit(url)
    except ValueError:
        return url.split("?", 1)[0].split("@")[-1]
    netloc = parts.netloc
    if "@" in netloc:
        userinfo, host = netloc.rsplit("@", 1)
        user = userinfo.split(":", 1)[0]
        netloc = f"{user}@{host}" if user else host
    query = "…" if parts.query else ""
    return urlunsplit((parts.scheme, netloc, parts.path, query, ""))


def filesystem(url: str) -> tuple[AbstractFileSystem, str]:
    """The fsspec filesystem for ``url`` (credentials from the environment) and the path inside it."""
    kind = scheme(url)
    if kind not in REMOTE_SCHEMES:
        known = ", ".join(f"{s}://" for s in ("s3", "gs", "az", "https", *DATABASE_SCHEMES))
        raise InputError(f"cannot read {kind}:// paths (known: {known})", source=redact(url))
    protocol, extra = REMOTE_SCHEMES[kind]
    try:
        import importlib

        import fsspec

        importlib.import_module(_PACKAGES[protocol])
        cls = fsspec.get_filesystem_class(protocol)
    except (ImportError, ValueError):
        raise UsageError(f"reading {kind}:// paths needs the '{extra}' extra: "
                         f"pip install 'llmcost[{extra}]'") from None
    # One instance per protocol and configuration: a new S3 client costs a second, and fsspec's own cache
    # would keep an earlier configuration's credentials after the environment changed (in-process runs).
    key = (protocol, tuple(sorted((k, v) for k, v in os.environ.items() if k.startswith(_CONFIG_PREFIXES))))
    fs = _INSTANCES.get(key)
    if fs is None:
        fs = _INSTANCES[key] = cls(skip_instance_cache=True)
    path = url if protocol == "https" else cls._strip_protocol(url)
    return fs, path


_CONFIG_PREFIXES = ("AWS_", "GOOGLE_", "GCS", "AZURE_", "HTTP", "FSSPEC_")
_INSTANCES: dict[tuple[str, tuple[tuple[str, str], ...]], AbstractFileSystem] = {}


def _is_pattern(url: str) -> bool:
    # an https URL's '?' starts its query string, and http has no listing to glob over
    return scheme(url) not in ("http", "https") and any(ch in url for ch in "*?[")


def expand_remote(url: str) -> list[str]:
    """The objects ``url`` names: itself when it exists, or every object its glob matches (sorted)."""
    fs, path = filesystem(url)
    kind = scheme(url)
    with translated(url, fs, path):
        if _is_pattern(url):
            found = sorted(p for p, info in fs.glob(path, detail=True).items() if info.get("type") != "directory")
            if not found:
                bucket = _bucket(url)
                if bucket and not _bucket_exists(fs, bucket):
                    raise InputError(f"no such bucket or container '{bucket}'", source=redact(url))
                raise InputError("no object matches this pattern", source=redact(url))
            return [f"{kind}://{p}" for p in found]
        if kind in ("http", "https"):
            fs.info(path)  # a missing URL is reported here, not later mid-read
            return [url]
        info = fs.info(path)
        if info.get("type") == "directory":
            raise InputError("this is a bucket or folder, not an object (use a glob such as "
                             f"{url.rstrip('/')}/*.jsonl)", source=redact(url))
        return [url]


SEQUENTIAL_BLOCK = 16 << 20  # reading a whole log front to back: few, large requests
RANDOM_BLOCK = 1 << 20  # a sniffed head, a Parquet footer and the column chunks a run needs


def open_remote(url: str, *, random_access: bool = False) -> IO[bytes]:
    """A seekable binary stream of the object, fetched in ranged requests as it is consumed."""
    fs, path = filesystem(url)
    with translated(url, fs, path):
        raw: IO[bytes] = fs.open(path, "rb", block_size=RANDOM_BLOCK if random_access else SEQUENTIAL_BLOCK)
    return _Guarded(raw, url, fs, path)  # type: ignore[return-value]


def remote_size(url: str) -> int:
    fs, path = filesystem(url)
    with translated(url, fs, path):
        return int(fs.size(path) or 0)


class translated:
    """Turn the filesystem's errors into one-line InputErrors naming the (redacted) path."""

    def __init__(self, url: str, fs: Any, path: str) -> None:
        self.url, self.fs, self.path = url, fs, path

    def __enter__(self) -> None:
        return None

    def __exit__(self, kind: type[BaseException] | None, exc: BaseException | None, tb: Any) -> None:
        if isinstance(exc, Exception) and not isinstance(exc, InputError | UsageError):
            raise InputError(describe(exc, self.url, self.fs, self.path), source=redact(self.url)) from None


def describe(exc: BaseException, url: str, fs: Any, path: str) -> str:
    """What went wrong, in words a user can act on, with no credential in them."""
    text = f"{type(exc).__name__} {exc}"
    if isinstance(exc, FileNotFoundError) or "NoSuchKey" in text or "Not Found" in text or "404" in text:
        bucket = _bucket(url)
        if bucket and not _bucket_exists(fs, bucket):
            return f"no such bucket or container '{bucket}'"
        return "no such object"
    if isinstance(exc, PermissionError) or any(k in text for k in ("AccessDenied", "InvalidAccessKeyId",
                                                                   "SignatureDoesNotMatch", "Forbidden", "403",
                                                                   "401", "Unauthorized")):
        return ("access denied: check the credentials in the environment or the standard configuration "
                "(for S3: AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY, AWS_PROFILE, AWS_ENDPOINT_URL)")
    if "NoCredentials" in text or "Unable to locate credentials" in text:
        return "no credentials found (for S3: set AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY or AWS_PROFILE)"
    if isinstance(exc, OSError | EOFError) and "compress" in text.lower():
        return f"cannot decompress: {exc}"
    first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
    return f"cannot read: {_scrub(first, url)}"


def _scrub(message: str, url: str) -> str:
    """A library message with the URL's secret parts replaced by the redacted URL."""
    return message.replace(url, redact(url)) if url != redact(url) else message


def _bucket(url: str) -> str | None:
    if scheme(url) in ("http", "https"):
        return None
    rest = url.split("://", 1)[1]
    return rest.split("/", 1)[0] or None


def _bucket_exists(fs: Any, bucket: str) -> bool:
    try:
        return bool(fs.exists(bucket))
    except Exception:  # a denied or failed check: do not claim the bucket is missing
        return True


class _Guarded:
    """A remote file whose read errors come out as InputErrors naming the path."""

    def __init__(self, raw: IO[bytes], url: str, fs: Any, path: str) -> None:
        self._raw, self._url, self._fs, self._path = raw, url, fs, path

    def read(self, size: int = -1) -> bytes:
        with translated(self._url, self._fs, self._path):
            at = self._raw.tell()
            try:
                return self._raw.read(size)
            except ValueError as exc:
                if "range requests" not in str(exc):
                    raise
                # an http server without Range support: fetch the whole object once, then read from memory
                self._raw.close()
                self._raw = io.BytesIO(self._fs.cat_file(self._path))
                self._raw.seek(at)
                return self._raw.read(size)

    def readinto(self, buffer: Any) -> int:
        data = self.read(len(buffer))
        buffer[:len(data)] = data
        return len(data)

    def seek(self, offset: int, whence: int = 0) -> int:
        with translated(self._url, self._fs, self._path):
            return int(self._raw.seek(offset, whence))

    def tell(self) -> int:
        return int(self._raw.tell())

    def seekable(self) -> bool:
        return True

    def readable(self) -> bool:
        return True

    def writable(self) -> bool:
        return False

    @property
    def closed(self) -> bool:
        return bool(self._raw.closed)

    def close(self) -> None:
        self._raw.close()

    def __enter__(self) -> _Guarded:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


class ClosingGzip(gzip.GzipFile):
    """A GzipFile over a stream it owns: closing it closes the stream too."""

    def __init__(self, raw: IO[bytes]) -> None:
        super().__init__(fileobj=raw, mode="rb")
        self._owned = raw

    def close(self) -> None:
        try:
            super().close()
        finally:
            self._owned.close()
