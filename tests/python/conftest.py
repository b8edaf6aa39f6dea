"""Fixtures: every test that takes `client` runs against HttpClient (a ksdb
server) and PersistentClient (the in-process engine).

The server comes from KSDB_TEST_URL (scripts/test_python.sh starts one), or is
started here from KSDB_BIN on a free port with a temporary data directory.
PersistentClient needs ksdb._native (KSDB_NATIVE_DIR, see python/README.md);
its tests are skipped with the reason when it is missing, unless
KSDB_REQUIRE_NATIVE=1 makes that a failure.
"""

import os
import shutil
import socket
import subprocess
import tempfile
import time
import urllib.request
import uuid
from typing import Iterator, Tuple
from urllib.parse import urlparse

import pytest

import ksdb


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_for_heartbeat(url: str, process: "subprocess.Popen[bytes]", timeout: float) -> None:
    """Polls /api/v2/heartbeat until it answers; fails if the process exits."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"ksdb exited with {process.returncode} before answering")
        try:
            with urllib.request.urlopen(url + "/api/v2/heartbeat", timeout=1) as response:
                if response.status == 200:
                    return
        except OSError:
            time.sleep(0.05)
    raise RuntimeError(f"ksdb did not answer {url}/api/v2/heartbeat within {timeout} s")


@pytest.fixture(scope="session")
def server_address() -> Iterator[Tuple[str, int]]:
    url = os.environ.get("KSDB_TEST_URL")
    if url:
        parsed = urlparse(url)
        yield parsed.hostname or "127.0.0.1", parsed.port or 8000
        return
    binary = os.environ.get("KSDB_BIN")
    if not binary:
        pytest.skip("set KSDB_TEST_URL or KSDB_BIN (scripts/test_python.sh does)")
    data = tempfile.mkdtemp(prefix="ksdb-pytest-")
    port = _free_port()
    process = subprocess.Popen(
        [binary, "run", "--path", data, "--host", "127.0.0.1", "--port", str(port), "--allow-reset"]
    )
    try:
        wait_for_heartbeat(f"http://127.0.0.1:{port}", process, 30)
        yield "127.0.0.1", port
    finally:
        process.terminate()
        process.wait(timeout=30)
        shutil.rmtree(data, ignore_errors=True)


def _require_native() -> None:
    if not ksdb.native_available():
        if os.environ.get("KSDB_REQUIRE_NATIVE") == "1":
            pytest.fail("ksdb._native is not importable (KSDB_REQUIRE_NATIVE=1)")
        pytest.skip("ksdb._native not built/importable: set KSDB_NATIVE_DIR")


@pytest.fixture(scope="session")
def persistent_path() -> Iterator[str]:
    path = tempfile.mkdtemp(prefix="ksdb-pytest-engine-")
    yield path
    shutil.rmtree(path, ignore_errors=True)


@pytest.fixture(params=["http", "persistent"])
def client_kind(request: pytest.FixtureRequest) -> str:
    return request.param


@pytest.fixture
def client(client_kind: str, request: pytest.FixtureRequest) -> Iterator[ksdb.ClientAPI]:
    if client_kind == "http":
        host, port = request.getfixturevalue("server_address")
        c = ksdb.HttpClient(host=host, port=port)
    else:
        _require_native()
        embedder = os.environ.get("KSDB_TEST_EMBEDDER")
        c = ksdb.PersistentClient(
            path=request.getfixturevalue("persistent_path"),
            embedders=[embedder] if embedder else [],
        )
    yield c
    c.close()


@pytest.fixture
def collection_name() -> str:
    return "t-" + uuid.uuid4().hex[:12]


@pytest.fixture
def collection(client: ksdb.ClientAPI, collection_name: str) -> Iterator[ksdb.Collection]:
    col = client.create_collection(collection_name)
    yield col
    try:
        client.delete_collection(col.name)
    except ksdb.NotFoundError:
        pass
