"""Exceptions raised by ksdb, named as in chromadb.errors.

Every error answered by the server (or by the in-process engine, which shares
the server's handlers) becomes one of these classes, chosen by the `error` name
of the response body, refined by the HTTP status for the generic
`ChromaError` name. The exception text is the server's message.
"""

from typing import Dict, Optional, Type


class ChromaError(Exception):
    """Base class of every ksdb error (chromadb's name)."""

    _default_code = 400
    _name = "ChromaError"
    trace_id: Optional[str] = None

    def __init__(self, message: str = "", status: Optional[int] = None) -> None:
        super().__init__(message)
        self.status = status

    def code(self) -> int:
        """The HTTP status the server answered (or the class default)."""
        return self.status if self.status is not None else self._default_code

    def message(self) -> str:
        return ", ".join(str(arg) for arg in self.args)

    @classmethod
    def name(cls) -> str:
        return cls._name


class InvalidArgumentError(ChromaError, ValueError):
    """Invalid input: bad names, shapes, dimensions, filters (HTTP 400/422).

    Also a ValueError, because chromadb raises ValueError for the checks it
    makes on the client side.
    """

    _name = "InvalidArgumentError"


class InvalidDimensionException(InvalidArgumentError):
    _name = "InvalidDimension"


class DuplicateIDError(InvalidArgumentError):
    """The same id appears twice in one add/upsert/update."""

    _name = "DuplicateID"


class IDAlreadyExistsError(ChromaError):
    _default_code = 409
    _name = "IDAlreadyExists"


class InvalidUUIDError(InvalidArgumentError):
    _name = "InvalidUUID"


class InvalidHTTPVersion(ChromaError):
    _name = "InvalidHTTPVersion"


class AuthorizationError(ChromaError):
    _default_code = 401
    _name = "AuthorizationError"


class ChromaAuthError(ChromaError):
    """Forbidden, e.g. reset while the server does not allow it (HTTP 403)."""

    _default_code = 403
    _name = "AuthError"


class NotFoundError(ChromaError):
    """A tenant, database or collection does not exist (HTTP 404)."""

    _default_code = 404
    _name = "NotFoundError"


class UniqueConstraintError(ChromaError):
    """A tenant, database or collection name is taken (HTTP 409)."""

    _default_code = 409
    _name = "UniqueConstraintError"


class BatchSizeExceededError(ChromaError):
    """A request body over the server's limit (HTTP 413)."""

    _default_code = 413
    _name = "BatchSizeExceededError"


class VersionMismatchError(ChromaError):
    _default_code = 500
    _name = "VersionMismatchError"


class InternalError(ChromaError):
    _default_code = 500
    _name = "InternalError"


class RateLimitError(ChromaError):
    _default_code = 429
    _name = "RateLimitError"


class QuotaError(ChromaError):
    _name = "QuotaError"


class UnimplementedError(ChromaError):
    """A feature the server does not support (HTTP 501, or 410 for /api/v1)."""

    _default_code = 501
    _name = "Unimplemented"


class ConnectionFailedError(ChromaError, ConnectionError):
    """The server could not be reached; the message names host:port."""

    _default_code = 503
    _name = "ConnectionError"


class NativeModuleMissingError(ChromaError, ImportError):
    """PersistentClient/EphemeralClient need the ksdb._native extension."""

    _name = "NativeModuleMissing"


# The `error` names of response bodies (spec §1.2) and chromadb's table.
error_types: Dict[str, Type[ChromaError]] = {
    cls._name: cls
    for cls in (
        InvalidDimensionException,
        InvalidArgumentError,
        IDAlreadyExistsError,
        DuplicateIDError,
        InvalidUUIDError,
        InvalidHTTPVersion,
        AuthorizationError,
        NotFoundError,
        BatchSizeExceededError,
        VersionMismatchError,
        RateLimitError,
        ChromaAuthError,
        UniqueConstraintError,
        QuotaError,
        InternalError,
        UnimplementedError,
    )
}

# The server names many codes just "ChromaError"; the status says more.
_by_status: Dict[int, Type[ChromaError]] = {
    400: InvalidArgumentError,
    401: AuthorizationError,
    403: ChromaAuthError,
    404: NotFoundError,
    409: UniqueConstraintError,
    410: UnimplementedError,
    413: BatchSizeExceededError,
    422: InvalidArgumentError,
    429: RateLimitError,
    500: InternalError,
    501: UnimplementedError,
}


def error_for(status: int, name: Optional[str], message: str) -> ChromaError:
    """The exception for an error response with `status` and body `error` name."""
    cls = error_types.get(name or "")
    if cls is None:
        cls = _by_status.get(status, ChromaError)
    return cls(message, status=status)


# ksdb::StatusCodeName() values (raised by the native module when the engine
# cannot be opened) to exception classes.
_by_status_code_name: Dict[str, Type[ChromaError]] = {
    "InvalidArgument": InvalidArgumentError,
    "InvalidShape": InvalidArgumentError,
    "DuplicateId": DuplicateIDError,
    "NotFound": NotFoundError,
    "AlreadyExists": UniqueConstraintError,
    "Forbidden": ChromaAuthError,
    "Unimplemented": UnimplementedError,
    "PayloadTooLarge": BatchSizeExceededError,
    "Internal": InternalError,
    "IoError": InternalError,
    "Corruption": InternalError,
}


def error_for_status_code(code_name: str, message: str) -> ChromaError:
    """The exception for a ksdb::Status code name, e.g. "NotFound"."""
    return _by_status_code_name.get(code_name, ChromaError)(message)
