"""The chromadb API surface of ksdb, run against HttpClient and PersistentClient."""

import math
import os

import numpy as np
import pytest

import ksdb
from ksdb import errors


def _add_abc(col: ksdb.Collection) -> None:
    col.add(
        ids=["a", "b", "c"],
        embeddings=[[1.0, 0.0, 0.0], [0.0, 1.0, 0.0], [0.0, 0.0, 1.0]],
        documents=["hello world", "foo bar", None],
        metadatas=[{"k": 1, "s": "x"}, {"k": 2, "s": "y"}, None],
        uris=["u1", None, "u3"],
    )


# --- system and collections ---


def test_heartbeat_and_version(client):
    assert client.heartbeat() > 1_600_000_000 * 10**9
    assert isinstance(client.get_version(), str)
    assert client.get_max_batch_size() >= 1


def test_create_get_list_delete(client, collection_name):
    col = client.create_collection(collection_name, metadata={"owner": "me"})
    assert col.name == collection_name
    assert col.metadata == {"owner": "me"}
    assert col.tenant == ksdb.DEFAULT_TENANT and col.database == ksdb.DEFAULT_DATABASE
    assert col.configuration_json["hnsw"]["space"] == "l2"
    assert col.dimension is None
    same = client.get_collection(collection_name)
    assert same.id == col.id and same == col
    listed = client.list_collections()
    assert all(isinstance(c, ksdb.Collection) for c in listed)
    assert collection_name in [c.name for c in listed]
    assert client.count_collections() == len(listed)
    client.delete_collection(collection_name)
    with pytest.raises(errors.NotFoundError, match=collection_name):
        client.get_collection(collection_name)


def test_create_twice_and_get_or_create(client, collection_name):
    col = client.create_collection(collection_name, metadata={"v": 1})
    with pytest.raises(errors.UniqueConstraintError, match="already exists"):
        client.create_collection(collection_name)
    again = client.get_or_create_collection(collection_name, metadata={"v": 2})
    assert again.id == col.id and again.metadata == {"v": 1}
    client.delete_collection(collection_name)


def test_configuration_space_and_legacy_metadata(client, collection_name):
    col = client.create_collection(collection_name, configuration={"hnsw": {"space": "cosine"}})
    assert col.configuration["hnsw"]["space"] == "cosine"
    client.delete_collection(collection_name)
    col = client.create_collection(collection_name, metadata={"hnsw:space": "ip"})
    assert col.configuration_json["hnsw"]["space"] == "ip"
    client.delete_collection(collection_name)


def test_modify(client, collection, collection_name):
    collection.modify(name=collection_name + "-r", metadata={"x": 1})
    assert collection.name == collection_name + "-r"
    assert collection.metadata == {"x": 1}
    collection.modify(configuration={"hnsw": {"ef_search": 55}})
    assert collection.configuration_json["hnsw"]["ef_search"] == 55
    assert client.get_collection(collection_name + "-r").metadata == {"x": 1}
    with pytest.raises(ValueError):
        collection.modify(metadata={"hnsw:space": "cosine"})


def test_bad_collection_name(client):
    with pytest.raises(errors.InvalidArgumentError, match="Expected a name"):
        client.create_collection("a")


def test_tenants_and_databases(client):
    tenant = "ten-" + ksdb.Collection.__name__.lower()
    try:
        client.create_tenant(tenant)
    except errors.UniqueConstraintError:
        pass
    assert client.get_tenant(tenant)["name"] == tenant
    client.create_database("db1", tenant=tenant)
    assert client.get_database("db1", tenant=tenant)["name"] == "db1"
    assert [d["name"] for d in client.list_databases(tenant=tenant)] == ["db1"]
    client.set_tenant(tenant, "db1")
    col = client.create_collection("in-db1")
    assert col.tenant == tenant and col.database == "db1"
    client.set_tenant(ksdb.DEFAULT_TENANT, ksdb.DEFAULT_DATABASE)
    with pytest.raises(errors.NotFoundError):
        client.get_collection("in-db1")
    client.delete_database("db1", tenant=tenant)
    with pytest.raises(errors.NotFoundError):
        client.set_database("db1")
    with pytest.raises(errors.NotFoundError):
        client.get_tenant("no-such-tenant")


# --- records ---


def test_add_get_shapes(collection):
    _add_abc(collection)
    assert collection.count() == 3
    result = collection.get()
    assert result["ids"] == ["a", "b", "c"]
    assert result["documents"] == ["hello world", "foo bar", None]
    assert result["metadatas"] == [{"k": 1, "s": "x"}, {"k": 2, "s": "y"}, None]
    assert result["embeddings"] is None and result["uris"] is None and result["data"] is None
    assert result["included"] == ["metadatas", "documents"]
    full = collection.get(ids=["c", "a"], include=["embeddings", "uris", "documents"])
    assert full["ids"] == ["a", "c"]  # storage order, not request order
    assert isinstance(full["embeddings"], np.ndarray)
    assert full["embeddings"].tolist() == [[1.0, 0.0, 0.0], [0.0, 0.0, 1.0]]
    assert full["uris"] == ["u1", "u3"]
    assert full["metadatas"] is None


def test_get_limit_offset_where(collection):
    collection.add(
        ids=[f"r{i}" for i in range(15)],
        embeddings=[[float(i), 1.0] for i in range(15)],
        metadatas=[{"g": i % 3, "i": i} for i in range(15)],
        documents=[f"doc {i} {'even' if i % 2 == 0 else 'odd'}" for i in range(15)],
    )
    got = collection.get(where={"g": 1}, limit=2, offset=1)
    assert got["ids"] == ["r4", "r7"]
    got = collection.get(where={"$and": [{"i": {"$gte": 10}}, {"g": {"$ne": 0}}]})
    assert got["ids"] == ["r10", "r11", "r13", "r14"]
    got = collection.get(where_document={"$contains": "odd"}, where={"i": {"$lt": 6}})
    assert got["ids"] == ["r1", "r3", "r5"]
    got = collection.get(where={"i": {"$in": [2, 3]}}, include=[])
    assert got["ids"] == ["r2", "r3"] and got["documents"] is None


def test_peek(collection):
    _add_abc(collection)
    peek = collection.peek(limit=2)
    assert peek["ids"] == ["a", "b"]
    assert peek["embeddings"].shape == (2, 3)
    assert peek["documents"] == ["hello world", "foo bar"]


def test_query_shapes_and_distances(collection):
    _add_abc(collection)
    result = collection.query(query_embeddings=[[1.0, 0.0, 0.0], [0.0, 1.0, 0.1]], n_results=2)
    assert result["ids"][0][0] == "a" and result["ids"][1][0] == "b"
    assert len(result["ids"]) == 2 and all(len(ids) == 2 for ids in result["ids"])
    assert result["distances"][0][0] == 0.0
    assert math.isclose(result["distances"][1][0], 0.01, rel_tol=1e-5)
    assert result["documents"][0][0] == "hello world"
    assert result["embeddings"] is None
    assert result["included"] == ["metadatas", "documents", "distances"]
    with_embeddings = collection.query(
        query_embeddings=np.array([1.0, 0.0, 0.0], dtype=np.float32),
        n_results=1,
        include=["embeddings"],
    )
    assert len(with_embeddings["embeddings"]) == 1
    assert with_embeddings["embeddings"][0].tolist() == [[1.0, 0.0, 0.0]]
    assert with_embeddings["distances"] is None


def test_query_filters(collection):
    _add_abc(collection)
    result = collection.query(query_embeddings=[[1.0, 0.0, 0.0]], where={"k": 2})
    assert result["ids"] == [["b"]]
    result = collection.query(
        query_embeddings=[[1.0, 0.0, 0.0]], where_document={"$contains": "foo"}
    )
    assert result["ids"] == [["b"]]
    result = collection.query(query_embeddings=[[1.0, 0.0, 0.0]], ids=["b", "c"], n_results=5)
    assert sorted(result["ids"][0]) == ["b", "c"]


def test_query_dimension_error(collection):
    _add_abc(collection)
    with pytest.raises(errors.InvalidArgumentError, match="dimension of 3, got 2"):
        collection.query(query_embeddings=[[1.0, 0.0]])


def test_upsert_update_delete(collection):
    _add_abc(collection)
    collection.update(ids=["a", "zz"], metadatas=[{"k": 10, "s": None}, {"k": 0}])
    assert collection.get(ids=["a"])["metadatas"] == [{"k": 10}]
    assert collection.count() == 3
    collection.upsert(
        ids=["b", "d"],
        embeddings=[[0.0, 2.0, 0.0], [1.0, 1.0, 1.0]],
        documents=[None, "new d"],
    )
    got = collection.get(ids=["b", "d"], include=["documents", "embeddings"])
    assert got["documents"] == ["foo bar", "new d"]
    assert got["embeddings"].tolist() == [[0.0, 2.0, 0.0], [1.0, 1.0, 1.0]]
    collection.delete(where={"k": 2})
    assert collection.get()["ids"] == ["a", "c", "d"]
    collection.delete(ids=["a", "nosuch"])
    assert collection.get()["ids"] == ["c", "d"]
    collection.delete(where_document={"$contains": "new"})
    assert collection.get()["ids"] == ["c"]
    with pytest.raises(ValueError):
        collection.delete()


def test_add_existing_id_is_skipped(collection):
    collection.add(ids="a", embeddings=[1.0, 2.0], documents="first")
    collection.add(ids=["a", "b"], embeddings=[[3.0, 4.0], [5.0, 6.0]], documents=["x", "y"])
    got = collection.get(include=["documents"])
    assert got["ids"] == ["a", "b"] and got["documents"] == ["first", "y"]


def test_numpy_inputs(collection):
    matrix = np.arange(12, dtype=np.float64).reshape(4, 3) / 7.0
    collection.add(ids=[f"n{i}" for i in range(4)], embeddings=matrix)
    collection.add(ids=["single"], embeddings=np.array([0.5, 0.25, -1.0], dtype=np.float32))
    collection.add(ids=["rows"], embeddings=[np.array([1.0, 2.0, 3.0])])
    got = collection.get(include=["embeddings"])
    assert got["embeddings"].shape == (6, 3)
    np.testing.assert_allclose(got["embeddings"][:4], matrix.astype(np.float32), rtol=1e-7)
    assert got["embeddings"][4].tolist() == [0.5, 0.25, -1.0]
    hits = collection.query(query_embeddings=matrix[1:2], n_results=1)
    assert hits["ids"] == [["n1"]]


def test_metadata_value_kinds(collection):
    meta = {"i": 7, "f": 1.5, "s": "text", "b": True, "neg": -3}
    collection.add(ids=["m"], embeddings=[[1.0]], metadatas=[meta])
    stored = collection.get()["metadatas"][0]
    assert stored == meta and isinstance(stored["i"], int) and isinstance(stored["f"], float)
    assert collection.get(where={"b": True})["ids"] == ["m"]
    assert collection.get(where={"f": {"$gt": 1}})["ids"] == ["m"]


# --- errors ---


def test_client_side_validation(collection):
    with pytest.raises(errors.DuplicateIDError, match="a"):
        collection.add(ids=["a", "a"], embeddings=[[1.0], [2.0]])
    with pytest.raises(errors.InvalidArgumentError, match="Inconsistent number"):
        collection.add(ids=["a", "b"], embeddings=[[1.0]])
    with pytest.raises(ValueError):
        collection.add(ids=["n"], embeddings=[[float("nan")]])
    assert collection.count() == 0


def test_server_errors_carry_message(collection):
    collection.add(ids=["a"], embeddings=[[1.0, 2.0]])
    with pytest.raises(errors.InvalidArgumentError, match="dimension of 2, got 3") as info:
        collection.add(ids=["b"], embeddings=[[1.0, 2.0, 3.0]])
    assert info.value.code() == 400
    assert isinstance(info.value, errors.ChromaError)
    with pytest.raises(errors.InvalidArgumentError, match="Invalid where clause"):
        collection.get(where={"a": 1, "b": 2})
    with pytest.raises(errors.InvalidArgumentError, match="unknown variant"):
        collection.get(include=["bogus"])


def test_deleted_collection_is_not_found(client, collection_name):
    col = client.create_collection(collection_name)
    client.delete_collection(collection_name)
    with pytest.raises(errors.NotFoundError, match="does not exists"):
        col.count()
    with pytest.raises(errors.NotFoundError):
        client.delete_collection(collection_name)


# --- batching ---


def test_batching_splits_requests(client, collection_name):
    client.batch_size = 7
    col = client.create_collection(collection_name)
    assert client.get_max_batch_size() == 7  # also caches pre-flight-checks
    before = client._transport.request_count
    n = 50
    col.add(
        ids=[str(i) for i in range(n)],
        embeddings=np.random.default_rng(1).random((n, 4), dtype=np.float32),
        metadatas=[{"i": i} for i in range(n)],
    )
    assert client._transport.request_count - before == math.ceil(n / 7)
    assert col.count() == n
    before = client._transport.request_count
    col.update(ids=[str(i) for i in range(n)], documents=[f"d{i}" for i in range(n)])
    assert client._transport.request_count - before == math.ceil(n / 7)
    col.upsert(ids=[str(i) for i in range(n + 5)], embeddings=[[float(i)] * 4 for i in range(n + 5)])
    got = col.get(include=["documents", "metadatas"])
    assert got["ids"] == [str(i) for i in range(n + 5)]
    assert got["documents"][n - 1] == f"d{n - 1}" and got["metadatas"][3] == {"i": 3}
    client.delete_collection(collection_name)


def test_batching_by_request_bytes(client, collection_name):
    client.max_request_bytes = 64 * 1024
    col = client.create_collection(collection_name)
    client.get_max_batch_size()
    before = client._transport.request_count
    n = 200
    col.add(ids=[f"id{i}" for i in range(n)], embeddings=np.ones((n, 128), dtype=np.float32))
    assert client._transport.request_count - before >= 3
    assert col.count() == n
    client.delete_collection(collection_name)


def test_progress_plain_bar(client, collection, capsys, monkeypatch):
    import builtins

    real_import = builtins.__import__

    def no_tqdm(name, *args, **kwargs):
        if name == "tqdm":
            raise ImportError("no tqdm")
        return real_import(name, *args, **kwargs)

    monkeypatch.setattr(builtins, "__import__", no_tqdm)
    client.batch_size = 10
    collection.add(ids=[str(i) for i in range(25)], embeddings=[[1.0]] * 25, progress=True)
    err = capsys.readouterr().err
    assert "25/25 records" in err


# --- server-side embeddings (another issue) ---


def test_documents_only_add_and_query_texts(collection):
    if not os.environ.get("KSDB_TEST_EMBEDDER"):
        pytest.skip("no embedding model installed (scripts/install_glove.sh; KSDB_TEST_EMBEDDER)")
    collection.add(ids=["d1", "d2"], documents=["a cat sat", "stock markets fell"])
    assert collection.count() == 2
    hits = collection.query(query_texts=["kitten"], n_results=1)
    assert hits["ids"][0] == ["d1"]


def test_documents_without_embedder_are_a_clear_error(client, collection_name):
    if os.environ.get("KSDB_TEST_EMBEDDER"):
        pytest.skip("this run has a server-side embedder")
    col = client.create_collection(collection_name)
    with pytest.raises(errors.InvalidArgumentError, match="no embedding function"):
        col.add(ids=["d1"], documents=["a cat sat"])


def test_client_side_embedding_function(client, collection_name):
    class CharCounts:
        def __call__(self, input):
            return [[float(text.count(ch)) for ch in "abc"] for text in input]

    col = client.create_collection(collection_name, embedding_function=CharCounts())
    col.add(ids=["x", "y"], documents=["aaa", "cc"])
    assert col.get(include=["embeddings"])["embeddings"].tolist() == [[3, 0, 0], [0, 0, 2]]
    assert col.query(query_texts=["c"], n_results=1)["ids"] == [["y"]]
    client.delete_collection(collection_name)


def test_batched_write_stops_at_failing_batch(client, collection_name):
    client.batch_size = 4
    col = client.create_collection(collection_name)
    col.add(ids=["x"], embeddings=[[1.0, 2.0]])
    rows = [[float(i), 1.0] for i in range(12)]
    rows[4:8] = [[1.0, 2.0, 3.0]] * 4  # the second batch has the wrong dimension
    with pytest.raises(errors.InvalidArgumentError, match="dimension of 2, got 3"):
        col.add(ids=[f"r{i}" for i in range(12)], embeddings=rows)
    # Batches are not atomic together: the first one stays, later ones never ran.
    assert col.get()["ids"] == ["x", "r0", "r1", "r2", "r3"]
    client.delete_collection(collection_name)


def test_update_with_null_embedding_keeps_it(collection):
    collection.add(ids=["a", "b"], embeddings=[[1.0, 1.0], [2.0, 2.0]])
    collection.update(ids=["a", "b"], embeddings=[None, [3.0, 3.0]])
    got = collection.get(include=["embeddings"])
    assert got["embeddings"].tolist() == [[1.0, 1.0], [3.0, 3.0]]
