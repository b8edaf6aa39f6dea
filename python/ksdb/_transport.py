"""How requests reach ksdb: over HTTP, or to the engine in-process.

Both transports take (method, path, query, body) for a Chroma API v2 route and
return the decoded JSON answer, raising a ksdb.errors exception for an error
answer. Everything above them (the client, collections, batching) is shared.
"""

import http.client
import json
import os
import socket
import threading
from typing import Any, Dict, List, Optional, Sequence, Tuple
from urllib.parse import quote, urlencode

from . import errors

_API = "/api/v2"


def encode_json(value: Any) -> bytes:
    """Compact UTF-8 JSON; NaN/Infinity are rejected (they are not JSON)."""
    try:
        text = json.dumps(value, separators=(",", ":"), ensure_ascii=False, allow_nan=False)
    except ValueError as e:
        raise errors.InvalidArgumentError(str(e)) from None
    return text.encode("utf-8")


def quote_segment(segment: str) -> str:
    """A path segment with everything but unreserved characters escaped."""
    return quote(segment, safe="")


def _decode_answer(status: int, payload: bytes) -> Any:
    """The JSON of a 2xx answer, or raises the mapped error."""
    if 200 <= status < 300:
        return json.loads(payload) if payload else None
    name: Optional[str] = None
    message = payload.decode("utf-8", "replace")
    try:
        body = json.loads(payload)
        if isinstance(body, dict):
            name = body.get("error")
            message = str(body.get("message", message))
    except ValueError:
        pass
    if not message:
        message = f"HTTP {status}"
    raise errors.error_for(status, name, message)


class HttpTransport:
    """One keep-alive HTTP/1.1 connection, reused for every request.

    Thread-safe: requests are serialised on the connection (use one client per
    thread for parallel requests). A connection the server closed while idle is
    reopened once, transparently.
    """

    def __init__(
        self,
        host: str,
        port: int,
        ssl: bool = False,
        headers: Optional[Dict[str, str]] = None,
        timeout: Optional[float] = None,
    ) -> None:
        self.host = host
        self.port = int(port)
        self._ssl = ssl
        self._headers = {"Content-Type": "application/json", "Accept": "application/json"}
        self._headers.update(headers or {})
        self._timeout = timeout
        self._conn: Optional[http.client.HTTPConnection] = None
        self._lock = threading.Lock()
        # Number of requests sent (observable by tests of batching).
        self.request_count = 0

    @property
    def address(self) -> str:
        return f"{self.host}:{self.port}"

    def _connect(self) -> http.client.HTTPConnection:
        cls = http.client.HTTPSConnection if self._ssl else http.client.HTTPConnection
        conn = cls(self.host, self.port, timeout=self._timeout)
        try:
            conn.connect()
        except OSError as e:
            raise errors.ConnectionFailedError(
                f"Could not connect to a ksdb server at {self.address}: {e}"
            ) from None
        # Small requests must not wait for delayed ACKs.
        conn.sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        return conn

    def _send(self, method: str, url: str, body: Optional[bytes]) -> Tuple[int, bytes]:
        assert self._conn is not None
        self._conn.request(method, url, body=body, headers=self._headers)
        response = self._conn.getresponse()
        payload = response.read()
        if response.will_close:
            self._drop()
        return response.status, payload

    def _roundtrip(self, method: str, url: str, body: Optional[bytes]) -> Tuple[int, bytes]:
        reused = self._conn is not None
        for attempt in range(2):
            if self._conn is None:
                self._conn = self._connect()
            try:
                return self._send(method, url, body)
            except (http.client.HTTPException, OSError) as e:
                self._drop()
                # The server closes idle keep-alive connections: a request on a
                # reused connection is tried once more on a fresh one.
                if not reused or attempt == 1:
                    raise errors.ConnectionFailedError(
                        f"Request to ksdb server at {self.address} failed: {e!r}"
                    ) from None
        raise AssertionError("unreachable")

    def _drop(self) -> None:
        if self._conn is not None:
            self._conn.close()
            self._conn = None

    def request(
        self,
        method: str,
        path: str,
        query: Optional[Dict[str, Any]] = None,
        body: Optional[Any] = None,
    ) -> Any:
        """Sends one request; body: bytes or a bytearray of JSON."""
        url = _API + path
        if query:
            url += "?" + urlencode({k: v for k, v in query.items() if v is not None})
        with self._lock:
            self.request_count += 1
            status, payload = self._roundtrip(method, url, body)
        return _decode_answer(status, payload)

    def close(self) -> None:
        with self._lock:
            self._drop()


def _load_native() -> Any:
    """The ksdb._native module, or raises NativeModuleMissingError."""
    try:
        from . import _native  # type: ignore[attr-defined]
    except ImportError as e:
        raise errors.NativeModuleMissingError(
            "ksdb.PersistentClient and ksdb.EphemeralClient need the ksdb._native extension, "
            f"which is not built or not on the path ({e}). Build it with "
            "`cmake --build <build> --target ksdb_native` and set KSDB_NATIVE_DIR=<build>/python/ksdb, "
            "or install the package with `pip install ./python` (see python/README.md). "
            "ksdb.HttpClient works without it."
        ) from None
    return _native


class _SharedEngine:
    """One open native engine per data directory, shared by every client on it
    in this process (the directory lock allows one opener)."""

    _lock = threading.Lock()
    _open: Dict[str, Tuple[Any, int]] = {}

    @classmethod
    def acquire(
        cls, path: str, allow_reset: bool, synchronous: str, embedders: Sequence[str] = ()
    ) -> Any:
        native = _load_native()
        key = os.path.realpath(path)
        with cls._lock:
            engine, refs = cls._open.get(key, (None, 0))
            if engine is None:
                try:
                    engine = native.Engine(key, allow_reset, synchronous, list(embedders))
                except native.NativeError as e:
                    code, message = e.args[0] if len(e.args) == 1 else e.args
                    raise errors.error_for_status_code(code, message) from None
            cls._open[key] = (engine, refs + 1)
            return engine

    @classmethod
    def release(cls, path: str) -> None:
        key = os.path.realpath(path)
        with cls._lock:
            engine, refs = cls._open.get(key, (None, 0))
            if engine is None:
                return
            if refs <= 1:
                del cls._open[key]
                engine.close()
            else:
                cls._open[key] = (engine, refs - 1)


class NativeTransport:
    """Requests served by the engine in this process (no server, no sockets)."""

    def __init__(
        self,
        path: str,
        allow_reset: bool = False,
        synchronous: str = "FULL",
        embedders: Sequence[str] = (),
    ) -> None:
        self.path = path
        self._engine = _SharedEngine.acquire(path, allow_reset, synchronous, embedders)
        self._closed = False
        self.request_count = 0

    @property
    def address(self) -> str:
        return self.path

    def request(
        self,
        method: str,
        path: str,
        query: Optional[Dict[str, Any]] = None,
        body: Optional[bytes] = None,
    ) -> Any:
        if self._closed:
            raise errors.ChromaError("this ksdb client is closed")
        pairs: List[Tuple[str, str]] = []
        if query:
            pairs = [(k, str(v)) for k, v in query.items() if v is not None]
        self.request_count += 1
        # The extension takes bytes; large write bodies are built as bytearrays.
        if body is not None and not isinstance(body, bytes):
            body = bytes(body)
        status, payload = self._engine.request(method, _API + path, pairs, body or b"")
        return _decode_answer(status, payload)

    def close(self) -> None:
        if not self._closed:
            self._closed = True
            _SharedEngine.release(self.path)
