"""Record columns: normalisation (chromadb's one-or-many rules), embedding
encoding (base64 float32 or JSON lists; numpy optional) and the split of a
write into request bodies no larger than the batch and byte limits."""

import array
import base64
import sys
from typing import Any, Dict, Iterator, List, Optional, Tuple

from . import errors
from ._transport import encode_json

try:
    import numpy as np
except ImportError:  # numpy is optional
    np = None  # type: ignore[assignment]

_BIG_ENDIAN = sys.byteorder == "big"

# Bodies above this many bytes are split further (the server accepts 40 MiB).
DEFAULT_MAX_REQUEST_BYTES = 24 * 1024 * 1024


def is_ndarray(value: Any) -> bool:
    return np is not None and isinstance(value, np.ndarray)


def _is_number(value: Any) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool) or (
        np is not None and isinstance(value, np.number)
    )


def one_or_many(value: Any) -> Optional[List[Any]]:
    """A str/dict given for a single record becomes a one-element list."""
    if value is None:
        return None
    if isinstance(value, (str, dict)):
        return [value]
    return list(value)


def normalize_embeddings(embeddings: Any) -> Optional[List[Any]]:
    """A list of rows (each a sequence, a 1-D array or None), or None.

    One embedding alone (a flat list of numbers or a 1-D array) becomes one
    row; a 2-D numpy array becomes its rows without copying.
    """
    if embeddings is None:
        return None
    if is_ndarray(embeddings):
        if embeddings.ndim == 1:
            return [embeddings]
        if embeddings.ndim == 2:
            return list(embeddings)
        raise errors.InvalidArgumentError(
            f"Expected embeddings to be a 1-D or 2-D array, got {embeddings.ndim} dimensions"
        )
    rows = list(embeddings)
    if rows and _is_number(rows[0]):
        return [rows]
    return rows


def _row_bytes(row: Any) -> bytes:
    """Little-endian float32 bytes of one embedding."""
    if is_ndarray(row):
        return np.ascontiguousarray(row, dtype="<f4").tobytes()
    try:
        values = array.array("f", row)
    except TypeError:
        raise errors.InvalidArgumentError(
            f"Expected each embedding to be a list of numbers, got {type(row).__name__}"
        ) from None
    if _BIG_ENDIAN:
        values.byteswap()
    return values.tobytes()


def _matrix_base64(matrix: Any) -> List[bytes]:
    """Base64 rows of a 2-D array; one encode when rows are 3-byte aligned."""
    data = np.ascontiguousarray(matrix, dtype="<f4")
    rows, dim = data.shape
    row_bytes = 4 * dim
    if row_bytes % 3 == 0 and rows > 0:
        text = base64.b64encode(data.tobytes())
        width = row_bytes // 3 * 4
        return [text[i * width : (i + 1) * width] for i in range(rows)]
    view = memoryview(data.tobytes())
    return [base64.b64encode(view[i * row_bytes : (i + 1) * row_bytes]) for i in range(rows)]


def encode_embeddings(embeddings: Any, use_base64: bool) -> List[Any]:
    """The `embeddings` column: base64 bytes per row (spliced into the body
    as JSON strings) or lists of floats; None stays null."""
    if use_base64 and is_ndarray(embeddings) and embeddings.ndim == 2:
        return _matrix_base64(embeddings)
    rows = normalize_embeddings(embeddings) or []
    if use_base64:
        return [None if row is None else base64.b64encode(_row_bytes(row)) for row in rows]
    return [None if row is None else embedding_as_list(row) for row in rows]


def _embeddings_json(column: List[Any]) -> bytes:
    """A JSON array of the column. Base64 text needs no escaping, so it is
    joined directly instead of going through json (several times faster)."""
    if column and all(isinstance(row, bytes) for row in column):
        return b'["' + b'","'.join(column) + b'"]'
    if any(isinstance(row, bytes) for row in column):
        column = [row.decode("ascii") if isinstance(row, bytes) else row for row in column]
    return encode_json(column)


def embedding_as_list(row: Any) -> List[float]:
    """One embedding as a JSON-ready list of floats."""
    if is_ndarray(row):
        return row.astype(np.float32).tolist()
    return [float(x) for x in row]


def query_embeddings_as_lists(embeddings: Any) -> List[List[float]]:
    """Query vectors: plain JSON arrays (the server takes no base64 there)."""
    if is_ndarray(embeddings):
        matrix = embeddings if embeddings.ndim == 2 else embeddings.reshape(1, -1)
        return matrix.astype(np.float32).tolist()
    return [embedding_as_list(row) for row in normalize_embeddings(embeddings) or []]


def check_ids(ids: Any) -> List[str]:
    """ids as a list of non-empty strings without duplicates (chromadb's rules)."""
    id_list = one_or_many(ids)
    if id_list is None:
        raise errors.InvalidArgumentError("Expected ids to be a list of strings, got None")
    for value in id_list:
        if not isinstance(value, str):
            raise errors.InvalidArgumentError(
                f"Expected ID to be a str, got {value!r} of type {type(value).__name__}"
            )
    if len(set(id_list)) != len(id_list):
        seen, duplicates = set(), []
        for value in id_list:
            if value in seen and value not in duplicates:
                duplicates.append(value)
            seen.add(value)
        shown = ", ".join(duplicates[:10]) + (", ..." if len(duplicates) > 10 else "")
        raise errors.DuplicateIDError(
            f"Expected IDs to be unique, found {len(duplicates)} duplicated IDs: {shown}"
        )
    return id_list


class WriteColumns:
    """The columns of one add/upsert/update, validated for equal lengths."""

    def __init__(
        self,
        ids: Any,
        embeddings: Any = None,
        metadatas: Any = None,
        documents: Any = None,
        uris: Any = None,
    ) -> None:
        self.ids = check_ids(ids)
        self.embeddings = embeddings
        self.embedding_rows = normalize_embeddings(embeddings)
        self.metadatas = one_or_many(metadatas)
        self.documents = one_or_many(documents)
        self.uris = one_or_many(uris)
        n = len(self.ids)
        for column in (self.embedding_rows, self.metadatas, self.documents, self.uris):
            if column is not None and len(column) != n:
                raise errors.InvalidArgumentError(
                    "Inconsistent number of IDs, embeddings, documents, URIs and metadatas"
                )

    def __len__(self) -> int:
        return len(self.ids)

    def encoded_embeddings(self, use_base64: bool) -> Optional[List[Any]]:
        if self.embeddings is None:
            return None
        if is_ndarray(self.embeddings) and self.embeddings.ndim == 2:
            return encode_embeddings(self.embeddings, use_base64)
        return encode_embeddings(self.embedding_rows, use_base64)


def _body(columns: WriteColumns, encoded: Optional[List[Any]], lo: int, hi: int) -> bytes:
    payload: Dict[str, Any] = {"ids": columns.ids[lo:hi]}
    if columns.documents is not None:
        payload["documents"] = columns.documents[lo:hi]
    if columns.metadatas is not None:
        payload["metadatas"] = columns.metadatas[lo:hi]
    if columns.uris is not None:
        payload["uris"] = columns.uris[lo:hi]
    body = encode_json(payload)
    if encoded is None:
        return body
    return body[:-1] + b',"embeddings":' + _embeddings_json(encoded[lo:hi]) + b"}"


def batch_bodies(
    columns: WriteColumns,
    use_base64: bool,
    max_batch_size: int,
    max_request_bytes: int = DEFAULT_MAX_REQUEST_BYTES,
) -> Iterator[Tuple[int, bytes]]:
    """(record count, JSON body) per request: at most max_batch_size records
    and, when a row allows it, at most max_request_bytes bytes per body."""
    encoded = columns.encoded_embeddings(use_base64)
    n = len(columns)
    if n == 0:
        yield 0, _body(columns, encoded, 0, 0)
        return
    # Size the batches from a sample, so that a large write is not encoded
    # twice; an oversized body is still halved below.
    sample = min(n, 32)
    row_estimate = max(1, len(_body(columns, encoded, 0, sample)) // sample)
    per_request = max(1, min(max_batch_size, int(max_request_bytes * 0.8) // row_estimate))
    pending: List[Tuple[int, int]] = [
        (lo, min(n, lo + per_request)) for lo in range(0, n, per_request)
    ]
    pending.reverse()
    while pending:
        lo, hi = pending.pop()
        body = _body(columns, encoded, lo, hi)
        if len(body) > max_request_bytes and hi - lo > 1:
            mid = (lo + hi) // 2
            pending.append((mid, hi))
            pending.append((lo, mid))
            continue
        yield hi - lo, body


def to_matrix(rows: Optional[List[Any]]) -> Any:
    """get's embeddings as chromadb returns them: np.array(rows) when numpy is
    installed (float64, as chromadb's client builds it), else the lists."""
    if rows is None or np is None:
        return rows
    return np.array(rows)


def to_matrices(groups: Optional[List[Any]]) -> Any:
    """query's embeddings: one numpy array per query (or the lists)."""
    if groups is None or np is None:
        return groups
    return [np.array(rows) for rows in groups]
