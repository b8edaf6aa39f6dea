"""Collection: chromadb's Collection API over a ksdb transport."""

import itertools
import uuid
from concurrent.futures import Future, ThreadPoolExecutor
from typing import TYPE_CHECKING, Any, Callable, Dict, Iterator, List, Optional, Tuple

from . import errors
from ._progress import progress_bar
from ._records import (
    WriteColumns,
    batch_bodies,
    one_or_many,
    query_embeddings_as_lists,
    to_matrices,
    to_matrix,
)
from ._transport import encode_json, quote_segment

if TYPE_CHECKING:
    from .client import ClientAPI

# Dicts, as chromadb's GetResult / QueryResult TypedDicts are.
GetResult = Dict[str, Any]
QueryResult = Dict[str, Any]

_GET_INCLUDE = ["metadatas", "documents"]
_QUERY_INCLUDE = ["metadatas", "documents", "distances"]
_PEEK_INCLUDE = ["embeddings", "documents", "metadatas"]


def _request_include(include: Optional[List[str]], default: List[str]) -> List[str]:
    """The include list sent to the server. "data" (chromadb's data loaders)
    is not a server field and is answered as None."""
    if isinstance(include, str):
        raise errors.InvalidArgumentError(f"Expected include to be a list, got {include!r}")
    chosen = list(default if include is None else include)
    return [field for field in chosen if field != "data"]


class Collection:
    """A collection of records. Obtained from a client, never built directly."""

    def __init__(
        self,
        client: "ClientAPI",
        model: Dict[str, Any],
        embedding_function: Optional[Callable[..., Any]] = None,
    ) -> None:
        self._client = client
        self._model = model
        self._embedding_function = embedding_function

    # --- properties (chromadb's names) ---
    @property
    def id(self) -> uuid.UUID:
        return uuid.UUID(self._model["id"])

    @property
    def name(self) -> str:
        return self._model["name"]

    @property
    def metadata(self) -> Optional[Dict[str, Any]]:
        return self._model.get("metadata")

    @property
    def configuration_json(self) -> Dict[str, Any]:
        return self._model.get("configuration_json") or {}

    @property
    def configuration(self) -> Dict[str, Any]:
        return self.configuration_json

    @property
    def dimension(self) -> Optional[int]:
        return self._model.get("dimension")

    @property
    def tenant(self) -> str:
        return self._model["tenant"]

    @property
    def database(self) -> str:
        return self._model["database"]

    @property
    def embedding_function(self) -> Optional[Callable[..., Any]]:
        return self._embedding_function

    def get_model(self) -> Dict[str, Any]:
        return dict(self._model)

    def __repr__(self) -> str:
        return f"Collection(name={self.name})"

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, Collection):
            return NotImplemented
        return self._model.get("id") == other._model.get("id") and self.name == other.name

    def __hash__(self) -> int:
        return hash(self._model.get("id"))

    # --- plumbing ---
    def _path(self, action: str = "") -> str:
        path = self._client._database_path() + "/collections/" + self._model["id"]
        return path + ("/" + action if action else "")

    def _post(self, action: str, payload: Dict[str, Any]) -> Any:
        return self._client._transport.request("POST", self._path(action), body=encode_json(payload))

    def _embed(self, texts: List[Any], is_query: bool) -> Optional[Any]:
        """Embeddings from the collection's client-side embedding function, or
        None to let the server embed the documents."""
        ef = self._embedding_function
        if ef is None:
            return None
        if is_query and hasattr(ef, "embed_query"):
            return ef.embed_query(input=texts)
        return ef(input=texts)

    def _write(
        self,
        action: str,
        columns: WriteColumns,
        progress: bool,
    ) -> None:
        limits = self._client._limits()
        bodies = batch_bodies(
            columns,
            use_base64=limits.get("supports_base64_encoding", False),
            max_batch_size=self._client.get_max_batch_size(),
            max_request_bytes=self._client.max_request_bytes,
        )
        path = self._path(action)
        transport = self._client._transport
        bar = progress_bar(progress, len(columns), action)
        try:
            count, body, last = next(bodies)
            if last:
                transport.request("POST", path, body=body)
                bar.update(count)
                return
            self._pipeline(transport, path, itertools.chain([(count, body, last)], bodies), bar)
        finally:
            bar.close()

    @staticmethod
    def _pipeline(transport: Any, path: str, bodies: Iterator[Any], bar: Any) -> None:
        """Sends the bodies in order, one request at a time, building the next
        body while the previous request is in flight (the sender thread
        releases the GIL while it waits on the socket or the engine). The first
        failure stops the write."""
        with ThreadPoolExecutor(max_workers=1) as sender:
            in_flight: Optional[Tuple[int, Future]] = None
            # Each next() of `bodies` builds a body while the previous one is
            # sent; it is submitted only once that request has succeeded.
            for count, body, _ in bodies:
                if in_flight is not None:
                    in_flight[1].result()
                    bar.update(in_flight[0])
                in_flight = (count, sender.submit(transport.request, "POST", path, None, body))
            if in_flight is not None:
                in_flight[1].result()
                bar.update(in_flight[0])

    def _columns(
        self,
        ids: Any,
        embeddings: Any,
        metadatas: Any,
        documents: Any,
        uris: Any,
        embed_documents: bool,
    ) -> WriteColumns:
        if embeddings is None and embed_documents and documents is not None:
            embeddings = self._embed(one_or_many(documents) or [], is_query=False)
        return WriteColumns(ids, embeddings, metadatas, documents, uris)

    # --- records ---
    def count(self) -> int:
        return int(self._client._transport.request("GET", self._path("count")))

    def add(
        self,
        ids: Any,
        embeddings: Any = None,
        metadatas: Any = None,
        documents: Any = None,
        images: Any = None,
        uris: Any = None,
        progress: bool = False,
    ) -> None:
        """Adds records; ids that exist are skipped. Any number of records:
        they are sent in batches of at most the server's max_batch_size (one
        request per batch, not atomic across batches). Without embeddings the
        collection's embedding function, else the server, embeds documents."""
        if images is not None:
            raise errors.InvalidArgumentError("ksdb does not support images")
        columns = self._columns(ids, embeddings, metadatas, documents, uris, True)
        self._write("add", columns, progress)

    def upsert(
        self,
        ids: Any,
        embeddings: Any = None,
        metadatas: Any = None,
        documents: Any = None,
        images: Any = None,
        uris: Any = None,
        progress: bool = False,
    ) -> None:
        """Inserts new ids and merge-updates existing ones (batched like add)."""
        if images is not None:
            raise errors.InvalidArgumentError("ksdb does not support images")
        columns = self._columns(ids, embeddings, metadatas, documents, uris, True)
        self._write("upsert", columns, progress)

    def update(
        self,
        ids: Any,
        embeddings: Any = None,
        metadatas: Any = None,
        documents: Any = None,
        images: Any = None,
        uris: Any = None,
        progress: bool = False,
    ) -> None:
        """Merge-updates existing ids; unknown ids are ignored (batched)."""
        if images is not None:
            raise errors.InvalidArgumentError("ksdb does not support images")
        columns = self._columns(ids, embeddings, metadatas, documents, uris, True)
        self._write("update", columns, progress)

    def get(
        self,
        ids: Any = None,
        where: Optional[Dict[str, Any]] = None,
        limit: Optional[int] = None,
        offset: Optional[int] = None,
        where_document: Optional[Dict[str, Any]] = None,
        include: Optional[List[str]] = None,
    ) -> GetResult:
        """Records in storage order: ids ∩ where ∩ where_document, then offset,
        limit. Returns chromadb's dict of lists."""
        included = list(_GET_INCLUDE if include is None else include)
        payload = {
            "ids": one_or_many(ids),
            "where": where,
            "where_document": where_document,
            "limit": limit,
            "offset": offset,
            "include": _request_include(include, _GET_INCLUDE),
        }
        answer = self._post("get", payload)
        return {
            "ids": answer["ids"],
            "embeddings": to_matrix(answer.get("embeddings")),
            "documents": answer.get("documents"),
            "uris": answer.get("uris"),
            "data": None,
            "metadatas": answer.get("metadatas"),
            "included": included,
        }

    def peek(self, limit: int = 10) -> GetResult:
        return self.get(limit=limit, include=list(_PEEK_INCLUDE))

    def query(
        self,
        query_embeddings: Any = None,
        query_texts: Any = None,
        query_images: Any = None,
        query_uris: Any = None,
        ids: Any = None,
        n_results: int = 10,
        where: Optional[Dict[str, Any]] = None,
        where_document: Optional[Dict[str, Any]] = None,
        include: Optional[List[str]] = None,
    ) -> QueryResult:
        """The n_results nearest records per query (after where /
        where_document / ids filtering). Returns chromadb's dict of
        list-of-lists, one inner list per query."""
        if query_images is not None or query_uris is not None:
            raise errors.InvalidArgumentError("ksdb does not support image or uri queries")
        if (query_embeddings is None) == (query_texts is None):
            raise errors.InvalidArgumentError(
                "You must provide exactly one of query_embeddings or query_texts"
            )
        if isinstance(n_results, bool) or not isinstance(n_results, int):
            raise errors.InvalidArgumentError(
                f"Expected requested number of results to be a int, got {n_results!r}"
            )
        included = list(_QUERY_INCLUDE if include is None else include)
        payload: Dict[str, Any] = {
            "ids": None if ids is None else one_or_many(ids),
            "where": where,
            "where_document": where_document,
            "n_results": n_results,
            "include": _request_include(include, _QUERY_INCLUDE),
        }
        if query_texts is not None:
            texts = one_or_many(query_texts) or []
            query_embeddings = self._embed(texts, is_query=True)
            if query_embeddings is None:
                payload["query_texts"] = texts
        if query_embeddings is not None:
            payload["query_embeddings"] = query_embeddings_as_lists(query_embeddings)
        answer = self._post("query", payload)
        return {
            "ids": answer["ids"],
            "embeddings": to_matrices(answer.get("embeddings")),
            "documents": answer.get("documents"),
            "uris": answer.get("uris"),
            "data": None,
            "metadatas": answer.get("metadatas"),
            "distances": answer.get("distances"),
            "included": included,
        }

    def delete(
        self,
        ids: Any = None,
        where: Optional[Dict[str, Any]] = None,
        where_document: Optional[Dict[str, Any]] = None,
    ) -> None:
        """Deletes records matching ids AND where AND where_document."""
        if ids is None and where is None and where_document is None:
            raise errors.InvalidArgumentError(
                "At least one of ids, where, or where_document must be provided"
            )
        self._post(
            "delete",
            {"ids": one_or_many(ids), "where": where, "where_document": where_document},
        )

    def modify(
        self,
        name: Optional[str] = None,
        metadata: Optional[Dict[str, Any]] = None,
        configuration: Optional[Dict[str, Any]] = None,
    ) -> None:
        """Renames, replaces the metadata and/or changes the configuration
        (e.g. {"hnsw": {"ef_search": 50}})."""
        if metadata is not None and "hnsw:space" in metadata:
            raise errors.InvalidArgumentError(
                "Changing the distance function of a collection once it is created is not "
                "supported currently."
            )
        payload = {
            "new_name": name,
            "new_metadata": metadata,
            "new_configuration": configuration,
        }
        self._client._transport.request(
            "PUT",
            self._client._database_path() + "/collections/" + self._model["id"],
            body=encode_json(payload),
        )
        if name is not None:
            self._model["name"] = name
        self._refresh()

    def _refresh(self) -> None:
        """Reloads the model (name, metadata, configuration) after a change."""
        path = self._client._database_path() + "/collections/"
        self._model = self._client._transport.request("GET", path + quote_segment(self.name))

__all__ = ["Collection", "GetResult", "QueryResult"]
