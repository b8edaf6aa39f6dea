"""ksdb: the Python client of the ksdb vector database, with chromadb's API.

    import ksdb as chromadb
    client = chromadb.HttpClient(host="localhost", port=8000)   # a ksdb server
    client = chromadb.PersistentClient(path="./data")           # in-process engine
    col = client.get_or_create_collection("docs")
    col.add(ids=[...], embeddings=[...], documents=[...], metadatas=[...])

HttpClient needs only the standard library (numpy is optional).
PersistentClient and EphemeralClient need the ksdb._native extension; set
KSDB_NATIVE_DIR to the build folder that holds it (<build>/python/ksdb) to use
one built by CMake without installing the package.
"""

import os as _os

# Lets `from . import _native` find an extension built outside this folder.
if _os.environ.get("KSDB_NATIVE_DIR"):
    __path__.append(_os.path.abspath(_os.environ["KSDB_NATIVE_DIR"]))  # type: ignore[name-defined]

from . import errors  # noqa: E402
from .client import (  # noqa: E402
    DEFAULT_DATABASE,
    DEFAULT_TENANT,
    AdminClient,
    Client,
    ClientAPI,
    EphemeralClient,
    HttpClient,
    PersistentClient,
    Settings,
)
from .collection import Collection, GetResult, QueryResult  # noqa: E402
from .errors import (  # noqa: E402
    ChromaError,
    DuplicateIDError,
    InvalidArgumentError,
    NotFoundError,
    UniqueConstraintError,
)

__version__ = "0.1.0"


def native_available() -> bool:
    """Whether PersistentClient/EphemeralClient can be used (extension built)."""
    try:
        from . import _native  # noqa: F401
    except ImportError:
        return False
    return True


__all__ = [
    "AdminClient",
    "ChromaError",
    "Client",
    "ClientAPI",
    "Collection",
    "DEFAULT_DATABASE",
    "DEFAULT_TENANT",
    "DuplicateIDError",
    "EphemeralClient",
    "GetResult",
    "HttpClient",
    "InvalidArgumentError",
    "NotFoundError",
    "PersistentClient",
    "QueryResult",
    "Settings",
    "UniqueConstraintError",
    "errors",
    "native_available",
]
