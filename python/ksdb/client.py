"""Clients: chromadb's ClientAPI and AdminAPI over HTTP or the in-process engine."""

import shutil
import tempfile
import weakref
from typing import Any, Callable, Dict, List, Optional, Sequence

from ._records import DEFAULT_MAX_REQUEST_BYTES
from ._transport import HttpTransport, NativeTransport, encode_json, quote_segment
from .collection import Collection

DEFAULT_TENANT = "default_tenant"
DEFAULT_DATABASE = "default_database"


class Settings:
    """The few chromadb settings ksdb reads; unknown keywords are kept and
    ignored so that chromadb Settings(...) calls keep working."""

    def __init__(self, allow_reset: bool = False, **kwargs: Any) -> None:
        self.allow_reset = allow_reset
        self.chroma_server_host: Optional[str] = kwargs.pop("chroma_server_host", None)
        self.chroma_server_http_port: Optional[int] = kwargs.pop("chroma_server_http_port", None)
        self.persist_directory: Optional[str] = kwargs.pop("persist_directory", None)
        self.extra = kwargs

    def __repr__(self) -> str:
        return f"Settings(allow_reset={self.allow_reset})"


class ClientAPI:
    """A connection to one ksdb (server or in-process engine) and a current
    tenant/database. Use HttpClient, PersistentClient or EphemeralClient."""

    def __init__(
        self,
        transport: Any,
        tenant: str = DEFAULT_TENANT,
        database: str = DEFAULT_DATABASE,
        settings: Optional[Settings] = None,
        batch_size: Optional[int] = None,
        max_request_bytes: int = DEFAULT_MAX_REQUEST_BYTES,
    ) -> None:
        self._transport = transport
        self._settings = settings or Settings()
        self._preflight: Optional[Dict[str, Any]] = None
        # Records per add/upsert/update request: the server's max_batch_size,
        # or this override when smaller.
        self.batch_size = batch_size
        self.max_request_bytes = max_request_bytes
        self.tenant = tenant
        self.database = database
        self._check_tenant_database(tenant, database)

    # --- plumbing ---
    def _database_path(self) -> str:
        return (
            f"/tenants/{quote_segment(self.tenant)}/databases/{quote_segment(self.database)}"
        )

    def _request(self, method: str, path: str, payload: Any = None, query: Any = None) -> Any:
        body = None if payload is None else encode_json(payload)
        return self._transport.request(method, path, query=query, body=body)

    def _limits(self) -> Dict[str, Any]:
        if self._preflight is None:
            self._preflight = self._request("GET", "/pre-flight-checks")
        return self._preflight

    def _check_tenant_database(self, tenant: str, database: str) -> None:
        """Both must exist, as chromadb's client checks at construction."""
        self._request("GET", f"/tenants/{quote_segment(tenant)}")
        self._request(
            "GET", f"/tenants/{quote_segment(tenant)}/databases/{quote_segment(database)}"
        )

    def _list_models(self, limit: Optional[int] = None, offset: Optional[int] = None) -> List[Any]:
        return self._request(
            "GET", self._database_path() + "/collections", query={"limit": limit, "offset": offset}
        )

    # --- system ---
    def heartbeat(self) -> int:
        """Server time in nanoseconds."""
        return int(self._request("GET", "/heartbeat")["nanosecond heartbeat"])

    def get_version(self) -> str:
        return str(self._request("GET", "/version"))

    def get_settings(self) -> Settings:
        return self._settings

    def get_max_batch_size(self) -> int:
        """Records per write request (writes of any size are split into these)."""
        server_limit = int(self._limits().get("max_batch_size", 1000))
        if self.batch_size is not None:
            return max(1, min(int(self.batch_size), server_limit))
        return server_limit

    def get_user_identity(self) -> Dict[str, Any]:
        return self._request("GET", "/auth/identity")

    def reset(self) -> bool:
        """Deletes everything (the server/engine must allow reset)."""
        return bool(self._request("POST", "/reset"))

    def set_tenant(self, tenant: str, database: str = DEFAULT_DATABASE) -> None:
        self._check_tenant_database(tenant, database)
        self.tenant, self.database = tenant, database

    def set_database(self, database: str) -> None:
        self._check_tenant_database(self.tenant, database)
        self.database = database

    def close(self) -> None:
        self._transport.close()

    def __enter__(self) -> "ClientAPI":
        return self

    def __exit__(self, *exc: Any) -> None:
        self.close()

    # --- collections ---
    def list_collections(
        self, limit: Optional[int] = None, offset: Optional[int] = None
    ) -> List[Collection]:
        return [Collection(self, model) for model in self._list_models(limit, offset)]

    def count_collections(self) -> int:
        return int(self._request("GET", self._database_path() + "/collections_count"))

    def create_collection(
        self,
        name: str,
        configuration: Optional[Dict[str, Any]] = None,
        metadata: Optional[Dict[str, Any]] = None,
        embedding_function: Optional[Callable[..., Any]] = None,
        data_loader: Any = None,
        get_or_create: bool = False,
    ) -> Collection:
        """Creates a collection. configuration: {"hnsw": {"space": "cosine", ...}}
        (legacy "hnsw:*" metadata keys work too). embedding_function: a
        chromadb-style callable used client-side for documents / query_texts;
        without one, documents are sent for the server to embed."""
        model = self._request(
            "POST",
            self._database_path() + "/collections",
            {
                "name": name,
                "configuration": configuration,
                "metadata": metadata,
                "get_or_create": get_or_create,
            },
        )
        return Collection(self, model, embedding_function)

    def get_collection(
        self,
        name: str,
        embedding_function: Optional[Callable[..., Any]] = None,
        data_loader: Any = None,
    ) -> Collection:
        model = self._request("GET", self._database_path() + "/collections/" + quote_segment(name))
        return Collection(self, model, embedding_function)

    def get_or_create_collection(
        self,
        name: str,
        configuration: Optional[Dict[str, Any]] = None,
        metadata: Optional[Dict[str, Any]] = None,
        embedding_function: Optional[Callable[..., Any]] = None,
        data_loader: Any = None,
    ) -> Collection:
        return self.create_collection(
            name, configuration, metadata, embedding_function, data_loader, get_or_create=True
        )

    def delete_collection(self, name: str) -> None:
        self._request("DELETE", self._database_path() + "/collections/" + quote_segment(name))

    # --- admin (chromadb's AdminAPI) ---
    def create_tenant(self, name: str) -> None:
        self._request("POST", "/tenants", {"name": name})

    def get_tenant(self, name: str) -> Dict[str, Any]:
        return self._request("GET", f"/tenants/{quote_segment(name)}")

    def create_database(self, name: str, tenant: str = DEFAULT_TENANT) -> None:
        self._request("POST", f"/tenants/{quote_segment(tenant)}/databases", {"name": name})

    def get_database(self, name: str, tenant: str = DEFAULT_TENANT) -> Dict[str, Any]:
        return self._request(
            "GET", f"/tenants/{quote_segment(tenant)}/databases/{quote_segment(name)}"
        )

    def delete_database(self, name: str, tenant: str = DEFAULT_TENANT) -> None:
        self._request(
            "DELETE", f"/tenants/{quote_segment(tenant)}/databases/{quote_segment(name)}"
        )

    def list_databases(
        self,
        limit: Optional[int] = None,
        offset: Optional[int] = None,
        tenant: str = DEFAULT_TENANT,
    ) -> List[Dict[str, Any]]:
        return self._request(
            "GET",
            f"/tenants/{quote_segment(tenant)}/databases",
            query={"limit": limit, "offset": offset},
        )


def HttpClient(
    host: str = "localhost",
    port: int = 8000,
    ssl: bool = False,
    headers: Optional[Dict[str, str]] = None,
    settings: Optional[Settings] = None,
    tenant: str = DEFAULT_TENANT,
    database: str = DEFAULT_DATABASE,
    batch_size: Optional[int] = None,
    timeout: Optional[float] = None,
) -> ClientAPI:
    """A client of a ksdb (or Chroma) server at host:port over one keep-alive
    connection. Raises ConnectionFailedError naming host:port if unreachable,
    NotFoundError if the tenant or database does not exist."""
    transport = HttpTransport(host, port, ssl=ssl, headers=headers, timeout=timeout)
    try:
        return ClientAPI(transport, tenant, database, settings, batch_size)
    except BaseException:
        transport.close()
        raise


def PersistentClient(
    path: str = "./chroma",
    settings: Optional[Settings] = None,
    tenant: str = DEFAULT_TENANT,
    database: str = DEFAULT_DATABASE,
    batch_size: Optional[int] = None,
    embedders: Sequence[str] = (),
) -> ClientAPI:
    """The ksdb engine in this process on the data directory `path` (created
    if missing); no server needed. Clients on the same path share one engine
    (the first one's `embedders` apply). `embedders` are `ksdb run --embedder`
    values ("static:DIR", "openai:URL#MODEL"), for server-side embeddings.
    Needs the ksdb._native extension (NativeModuleMissingError otherwise)."""
    settings = settings or Settings()
    transport = NativeTransport(
        str(path), allow_reset=settings.allow_reset, embedders=list(embedders)
    )
    try:
        return ClientAPI(transport, tenant, database, settings, batch_size)
    except BaseException:
        transport.close()
        raise


def _remove_tree(path: str) -> None:
    shutil.rmtree(path, ignore_errors=True)


def EphemeralClient(
    settings: Optional[Settings] = None,
    tenant: str = DEFAULT_TENANT,
    database: str = DEFAULT_DATABASE,
    batch_size: Optional[int] = None,
) -> ClientAPI:
    """An in-process engine on a temporary directory, deleted when the client
    is closed or garbage-collected (or at exit). Writes skip fsync."""
    settings = settings or Settings()
    path = tempfile.mkdtemp(prefix="ksdb-ephemeral-")
    try:
        transport = NativeTransport(path, allow_reset=settings.allow_reset, synchronous="OFF")
    except BaseException:
        _remove_tree(path)
        raise
    try:
        client = ClientAPI(transport, tenant, database, settings, batch_size)
    except BaseException:
        transport.close()
        _remove_tree(path)
        raise
    # Close the engine before deleting its files.
    finalizer = weakref.finalize(client, _close_and_remove, transport, path)
    original_close = client.close

    def close() -> None:
        original_close()
        finalizer()

    client.close = close  # type: ignore[method-assign]
    return client


def _close_and_remove(transport: NativeTransport, path: str) -> None:
    transport.close()
    _remove_tree(path)


def Client(settings: Optional[Settings] = None, **kwargs: Any) -> ClientAPI:
    """chromadb.Client(): an EphemeralClient, or a PersistentClient when
    settings.persist_directory is set."""
    settings = settings or Settings()
    if settings.persist_directory:
        return PersistentClient(settings.persist_directory, settings, **kwargs)
    return EphemeralClient(settings, **kwargs)


def AdminClient(
    settings: Optional[Settings] = None,
    host: Optional[str] = None,
    port: Optional[int] = None,
    path: Optional[str] = None,
) -> ClientAPI:
    """A client for tenant/database administration (create_tenant,
    create_database, ...): over HTTP to host:port (or settings'
    chroma_server_host/port), or in-process on `path`."""
    settings = settings or Settings()
    if path is not None:
        return PersistentClient(path, settings)
    return HttpClient(
        host or settings.chroma_server_host or "localhost",
        port or settings.chroma_server_http_port or 8000,
        settings=settings,
    )
