"""Request encoding and the pipelined batched write (client side), plus
round trips of large base64 writes through both clients."""

import base64
import json
import threading

import numpy as np
import pytest

from ksdb import _records, errors
from ksdb.collection import Collection


def _decoded_rows(body) -> list:
    """The embeddings of a request body, decoded from base64 float32."""
    column = json.loads(bytes(body))["embeddings"]
    return [
        None if text is None else np.frombuffer(base64.b64decode(text), dtype="<f4").tolist()
        for text in column
    ]


def _bodies(embeddings, n, use_base64=True, max_batch_size=1000, max_request_bytes=1 << 24):
    columns = _records.WriteColumns([f"id{i}" for i in range(n)], embeddings)
    return list(_records.batch_bodies(columns, use_base64, max_batch_size, max_request_bytes))


@pytest.mark.parametrize("dim", [384, 5, 1])
def test_numpy_and_list_inputs_encode_to_the_same_bodies(dim):
    # 384 floats (1536 bytes) take the one-encode numpy layout, 5 and 1 the
    # per-row path (base64 padding); both must equal the list encoding.
    matrix = np.random.default_rng(5).standard_normal((40, dim), dtype=np.float32)
    from_numpy = _bodies(matrix, 40, max_batch_size=16)
    from_lists = _bodies(matrix.tolist(), 40, max_batch_size=16)
    assert [(c, bytes(b), last) for c, b, last in from_numpy] == [
        (c, bytes(b), last) for c, b, last in from_lists
    ]
    assert [c for c, _, _ in from_numpy] == [16, 16, 8]
    assert [last for _, _, last in from_numpy] == [False, False, True]
    decoded = sum((_decoded_rows(b) for _, b, _ in from_numpy), [])
    assert decoded == matrix.tolist()


def test_float64_matrix_is_sent_as_float32():
    matrix = np.random.default_rng(6).standard_normal((3, 6))
    (_, body, _), = _bodies(matrix, 3)
    assert _decoded_rows(body) == matrix.astype(np.float32).tolist()
    assert json.loads(bytes(body))["ids"] == ["id0", "id1", "id2"]


def test_null_rows_and_json_lists():
    rows = [None, [1.0, 2.0, 3.0], (4, 5, 6)]
    (_, body, _), = _bodies(rows, 3)
    assert _decoded_rows(body) == [None, [1.0, 2.0, 3.0], [4.0, 5.0, 6.0]]
    (_, plain, _), = _bodies(rows, 3, use_base64=False)
    assert json.loads(plain)["embeddings"] == [None, [1.0, 2.0, 3.0], [4.0, 5.0, 6.0]]


def test_out_of_range_and_invalid_values():
    # Beyond float32 range becomes inf (the server then refuses it); a
    # non-number is the client's InvalidArgumentError.
    (_, body, _), = _bodies([[1e300, 1.0]], 1)
    assert _decoded_rows(body) == [[float("inf"), 1.0]]
    with pytest.raises(errors.InvalidArgumentError, match="list of numbers"):
        _bodies([["a", "b"]], 1)


def test_oversized_bodies_are_halved():
    matrix = np.ones((64, 384), dtype=np.float32)
    bodies = _bodies(matrix, 64, max_request_bytes=20000)
    assert sum(c for c, _, _ in bodies) == 64
    assert all(len(b) <= 20000 for _, b, _ in bodies)
    assert [last for _, _, last in bodies] == [False] * (len(bodies) - 1) + [True]


class _BlockingTransport:
    """A transport whose write requests, once started, wait (bounded) until
    the next body has started being built, recording whether it was."""

    def __init__(self) -> None:
        self.request_started = threading.Event()
        self.next_body_started = threading.Event()
        self.overlapped = []
        self.bodies = []

    def request(self, method, path, query=None, body=None):
        self.bodies.append(bytes(body))
        self.request_started.set()
        if len(self.bodies) < 3:
            self.overlapped.append(self.next_body_started.wait(timeout=10))
            self.next_body_started.clear()
        return None


class _FakeClient:
    def __init__(self, transport) -> None:
        self._transport = transport
        self.max_request_bytes = 1 << 24

    def _limits(self):
        return {"max_batch_size": 10, "supports_base64_encoding": True}

    def get_max_batch_size(self):
        return 10

    def _database_path(self):
        return "/tenants/t/databases/d"


def test_next_body_is_built_while_a_request_is_in_flight(monkeypatch):
    transport = _BlockingTransport()
    original_body = _records.WriteColumns.body
    built_after_request_started = []

    def body(self, lo, hi, use_base64):
        if lo >= 10:  # a body after the first (the sample is built from row 0)
            built_after_request_started.append(transport.request_started.wait(timeout=10))
            transport.request_started.clear()
            transport.next_body_started.set()
        return original_body(self, lo, hi, use_base64)

    monkeypatch.setattr(_records.WriteColumns, "body", body)
    col = Collection(_FakeClient(transport), {"id": "c", "name": "c"})
    matrix = np.arange(30 * 3, dtype=np.float32).reshape(30, 3)
    col.add(ids=[str(i) for i in range(30)], embeddings=matrix)
    assert len(transport.bodies) == 3
    # Body k+1 was built after request k had started and before it returned.
    assert built_after_request_started == [True, True]
    assert transport.overlapped == [True, True]
    decoded = sum((_decoded_rows(b) for b in transport.bodies), [])
    assert decoded == matrix.tolist()


def test_large_numpy_add_round_trips(client, collection_name):
    # Several byte-limited requests with the numpy layout, through both
    # clients (PersistentClient receives the bodies as bytes).
    client.max_request_bytes = 256 * 1024
    col = client.create_collection(collection_name, configuration={"hnsw": {"space": "cosine"}})
    n = 600
    matrix = np.random.default_rng(9).standard_normal((n, 384), dtype=np.float32)
    before = client._transport.request_count
    col.add(ids=[f"id-{i}" for i in range(n)], embeddings=matrix,
            metadatas=[{"i": i} for i in range(n)])
    assert client._transport.request_count - before >= 4
    got = col.get(ids=["id-0", "id-321", "id-599"], include=["embeddings", "metadatas"])
    assert got["ids"] == ["id-0", "id-321", "id-599"]
    assert got["embeddings"].astype(np.float32).tolist() == matrix[[0, 321, 599]].tolist()
    assert got["metadatas"] == [{"i": 0}, {"i": 321}, {"i": 599}]
    client.delete_collection(collection_name)


def test_list_encoding_does_not_need_numpy(monkeypatch):
    # Without numpy the list path must produce the same bodies as with it.
    rows = np.random.default_rng(2).standard_normal((7, 384), dtype=np.float32).tolist()
    with_numpy = _bodies(rows, 7)
    monkeypatch.setattr(_records, "np", None)
    without = _bodies(rows, 7)
    assert [bytes(b) for _, b, _ in with_numpy] == [bytes(b) for _, b, _ in without]
