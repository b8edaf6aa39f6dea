"""Client-specific behaviour: a typical chromadb script, connections, the
ephemeral client, and the package without its native module."""

import os
import socket
import subprocess
import sys
import textwrap

import pytest

import ksdb
from ksdb import errors

TYPICAL_SCRIPT = textwrap.dedent(
    """
    import sys
    import ksdb as chromadb

    if sys.argv[1] == "http":
        client = chromadb.HttpClient(host=sys.argv[2], port=int(sys.argv[3]))
    else:
        client = chromadb.PersistentClient(path=sys.argv[2])
    try:
        client.delete_collection("typical")
    except chromadb.errors.NotFoundError:
        pass
    collection = client.get_or_create_collection(
        name="typical", metadata={"hnsw:space": "cosine"})
    n = 1000
    collection.add(
        ids=[f"doc{i}" for i in range(n)],
        embeddings=[[float(i % 7), float(i % 11), 1.0] for i in range(n)],
        documents=[f"document number {i}" for i in range(n)],
        metadatas=[{"source": "notes" if i % 2 else "web", "i": i} for i in range(n)],
    )
    results = collection.query(
        query_embeddings=[[3.0, 5.0, 1.0]], n_results=3, where={"source": "notes"})
    assert len(results["ids"][0]) == 3, results
    for doc_id, doc, meta, dist in zip(results["ids"][0], results["documents"][0],
                                       results["metadatas"][0], results["distances"][0]):
        assert meta["source"] == "notes" and doc.startswith("document number")
    print(collection.count(), results["ids"][0][0])
    """
)


def _run_script(args, env=None):
    return subprocess.run(
        [sys.executable, "-c", TYPICAL_SCRIPT, *args],
        capture_output=True,
        text=True,
        env=env,
        timeout=120,
    )


def test_typical_chromadb_script_http(server_address):
    host, port = server_address
    done = _run_script(["http", host, str(port)])
    assert done.returncode == 0, done.stderr
    assert done.stdout.startswith("1000 doc")


def test_typical_chromadb_script_persistent(tmp_path):
    if not ksdb.native_available():
        pytest.skip("ksdb._native not built/importable: set KSDB_NATIVE_DIR")
    done = _run_script(["persistent", str(tmp_path / "data")])
    assert done.returncode == 0, done.stderr
    assert done.stdout.startswith("1000 doc")
    # The data survived the process: reopen and count.
    client = ksdb.PersistentClient(path=str(tmp_path / "data"))
    assert client.get_collection("typical").count() == 1000
    client.close()


def test_connection_failure_names_address():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]  # closed again: nothing listens there
    with pytest.raises(errors.ConnectionFailedError, match=f"127.0.0.1:{port}"):
        ksdb.HttpClient(host="127.0.0.1", port=port)
    with pytest.raises(ConnectionError):
        ksdb.HttpClient(host="127.0.0.1", port=port)


def test_missing_tenant_refuses_to_start(server_address):
    host, port = server_address
    with pytest.raises(errors.NotFoundError):
        ksdb.HttpClient(host=host, port=port, tenant="no-such-tenant")


def test_connection_reused_and_reopened(server_address):
    host, port = server_address
    client = ksdb.HttpClient(host=host, port=port)
    conn = client._transport._conn
    client.heartbeat()
    assert client._transport._conn is conn  # keep-alive: same connection
    # The server may close an idle connection; the next request reconnects.
    conn.sock.shutdown(socket.SHUT_RDWR)
    assert client.heartbeat() > 0
    client.close()


def test_ephemeral_client_removes_its_directory():
    if not ksdb.native_available():
        pytest.skip("ksdb._native not built/importable: set KSDB_NATIVE_DIR")
    client = ksdb.EphemeralClient()
    path = client._transport.path
    col = client.create_collection("eph")
    col.add(ids=["a"], embeddings=[[1.0, 2.0]])
    assert col.count() == 1 and os.path.isdir(path)
    client.close()
    assert not os.path.exists(path)


def test_persistent_clients_share_one_engine(tmp_path):
    if not ksdb.native_available():
        pytest.skip("ksdb._native not built/importable: set KSDB_NATIVE_DIR")
    first = ksdb.PersistentClient(path=str(tmp_path))
    second = ksdb.PersistentClient(path=str(tmp_path))
    first.create_collection("shared").add(ids=["a"], embeddings=[[1.0]])
    assert second.get_collection("shared").count() == 1
    first.close()
    assert second.get_collection("shared").count() == 1
    second.close()
    with pytest.raises(errors.ChromaError, match="closed"):
        second.heartbeat()


def test_reset_needs_allow_reset(tmp_path):
    if not ksdb.native_available():
        pytest.skip("ksdb._native not built/importable: set KSDB_NATIVE_DIR")
    client = ksdb.PersistentClient(path=str(tmp_path / "a"))
    with pytest.raises(errors.ChromaAuthError, match="Reset is disabled"):
        client.reset()
    client.close()
    client = ksdb.PersistentClient(
        path=str(tmp_path / "b"), settings=ksdb.Settings(allow_reset=True)
    )
    client.create_collection("gone")
    assert client.reset() is True
    assert client.list_collections() == []
    client.close()


def test_package_works_without_native_module(server_address, tmp_path):
    host, port = server_address
    env = dict(os.environ)
    env.pop("KSDB_NATIVE_DIR", None)
    env["PYTHONPATH"] = os.path.dirname(os.path.dirname(ksdb.__file__))
    code = textwrap.dedent(
        f"""
        import ksdb
        assert not ksdb.native_available()
        client = ksdb.HttpClient(host={host!r}, port={port})
        print(client.heartbeat() > 0)
        try:
            ksdb.PersistentClient(path={str(tmp_path)!r})
        except ksdb.errors.NativeModuleMissingError as e:
            print("missing:", e)
        """
    )
    if os.path.exists(os.path.join(os.path.dirname(ksdb.__file__), "_native.so")) or any(
        name.startswith("_native") for name in os.listdir(os.path.dirname(ksdb.__file__))
    ):
        pytest.skip("ksdb is installed with its native module; nothing to check")
    done = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, env=env, timeout=60
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.startswith("True\nmissing:")
    assert "ksdb_native" in done.stdout
