"""Record columns: normalisation (chromadb's one-or-many rules), embedding
encoding (base64 float32 or JSON lists; numpy optional) and the split of a
write into request bodies no larger than the batch and byte limits."""

import array
import base64
import struct
import sys
from binascii import b2a_base64 as _b64
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


# struct formats by row length: packing a list of floats with a precompiled
# Struct is about twice as fast as array.array("f", row).
_ROW_STRUCTS: Dict[int, struct.Struct] = {}


def _list_row_bytes(row: Any) -> bytes:
    """Little-endian float32 bytes of one embedding given as a list/tuple.

    Values struct refuses (non-numbers, floats beyond float32 range) go
    through array.array, whose conversion (inf for out-of-range floats) and
    errors the client has always had."""
    packer = _ROW_STRUCTS.get(len(row))
    if packer is None:
        packer = _ROW_STRUCTS.setdefault(len(row), struct.Struct(f"<{len(row)}f"))
    try:
        return packer.pack(*row)
    except (struct.error, OverflowError, TypeError):
        return _array_row_bytes(row)


def _array_row_bytes(row: Any) -> bytes:
    try:
        values = array.array("f", row)
    except TypeError:
        raise errors.InvalidArgumentError(
            f"Expected each embedding to be a list of numbers, got {type(row).__name__}"
        ) from None
    if _BIG_ENDIAN:
        values.byteswap()
    return values.tobytes()


def _row_bytes(row: Any) -> bytes:
    """Little-endian float32 bytes of one embedding."""
    if isinstance(row, (list, tuple)):
        return _list_row_bytes(row)
    if is_ndarray(row):
        return np.ascontiguousarray(row, dtype="<f4").tobytes()
    return _array_row_bytes(row)


def _framed_matrix_base64(matrix: Any, prefix: bytes, suffix: bytes) -> Any:
    """prefix + the JSON array of base64 strings of a 2-D array's rows + suffix.

    When a row is a multiple of 3 bytes its base64 has no padding, so the
    whole block is encoded at once and laid out, with the quotes and commas
    around each row, straight into the final buffer by numpy: one encode and
    one copy, no per-row Python objects. Returns bytes or a bytearray."""
    data = np.ascontiguousarray(matrix, dtype="<f4")
    rows, dim = data.shape
    row_bytes = 4 * dim
    if rows == 0 or row_bytes % 3 != 0:
        view = memoryview(data).cast("B")
        encoded = [base64.b64encode(view[i * row_bytes : (i + 1) * row_bytes]) for i in range(rows)]
        column = b'["' + b'","'.join(encoded) + b'"]' if encoded else b"[]"
        return b"".join((prefix, column, suffix))
    width = row_bytes // 3 * 4
    text = np.frombuffer(base64.b64encode(data), dtype=np.uint8).reshape(rows, width)
    # [ "row", "row", ... "row" ]: each row takes width + 3 bytes (quotes and
    # a comma); the last comma becomes the closing bracket.
    column_bytes = 1 + rows * (width + 3)
    buffer = bytearray(len(prefix) + column_bytes + len(suffix))
    buffer[: len(prefix)] = prefix
    buffer[len(buffer) - len(suffix) :] = suffix
    column = np.frombuffer(buffer, dtype=np.uint8, count=column_bytes, offset=len(prefix))
    column[0] = ord("[")
    cells = column[1:].reshape(rows, width + 3)
    cells[:, 0] = ord('"')
    cells[:, 1 : width + 1] = text
    cells[:, width + 1] = ord('"')
    cells[:, width + 2] = ord(",")
    column[-1] = ord("]")
    return buffer


def _rows_base64_json(rows: List[Any]) -> bytes:
    """The JSON array of base64 strings (null for a None row) of a list of
    rows. Base64 text needs no escaping, so it is joined directly instead of
    going through json (several times faster)."""
    encoded = [None if row is None else _b64(_row_bytes(row), newline=False) for row in rows]
    if not encoded:
        return b"[]"
    if None not in encoded:
        return b'["' + b'","'.join(encoded) + b'"]'
    items = [b"null" if item is None else b'"' + item + b'"' for item in encoded]
    return b"[" + b",".join(items) + b"]"


def embeddings_json(rows: Any, use_base64: bool, prefix: bytes = b"", suffix: bytes = b"") -> Any:
    """prefix + the `embeddings` column of a request body + suffix (bytes or a
    bytearray). rows: a 2-D numpy array or a list of rows (sequences, 1-D
    arrays or None), sent as base64 float32 strings or as JSON lists of
    floats; a None row is null."""
    if is_ndarray(rows) and use_base64:
        return _framed_matrix_base64(rows, prefix, suffix)
    if is_ndarray(rows):
        column = encode_json(rows.astype(np.float32).tolist())
    elif use_base64:
        column = _rows_base64_json(rows)
    else:
        column = encode_json([None if row is None else embedding_as_list(row) for row in rows])
    return b"".join((prefix, column, suffix))


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
    """The columns of one add/upsert/update, validated for equal lengths.

    Embeddings are kept as given (a 2-D numpy array stays one array) and
    encoded one request body at a time, so that encoding overlaps the
    requests already in flight."""

    def __init__(
        self,
        ids: Any,
        embeddings: Any = None,
        metadatas: Any = None,
        documents: Any = None,
        uris: Any = None,
    ) -> None:
        self.ids = check_ids(ids)
        self.embeddings = _embedding_column(embeddings)
        self.metadatas = one_or_many(metadatas)
        self.documents = one_or_many(documents)
        self.uris = one_or_many(uris)
        n = len(self.ids)
        for column in (self.embeddings, self.metadatas, self.documents, self.uris):
            if column is not None and len(column) != n:
                raise errors.InvalidArgumentError(
                    "Inconsistent number of IDs, embeddings, documents, URIs and metadatas"
                )

    def __len__(self) -> int:
        return len(self.ids)

    def body(self, lo: int, hi: int, use_base64: bool) -> Any:
        """The JSON request body of records [lo, hi): bytes or a bytearray."""
        payload: Dict[str, Any] = {"ids": self.ids[lo:hi]}
        if self.documents is not None:
            payload["documents"] = self.documents[lo:hi]
        if self.metadatas is not None:
            payload["metadatas"] = self.metadatas[lo:hi]
        if self.uris is not None:
            payload["uris"] = self.uris[lo:hi]
        head = encode_json(payload)
        if self.embeddings is None:
            return head
        # The embeddings (most of the bytes) are spliced in rather than
        # encoded by json.
        prefix = head[:-1] + b',"embeddings":'
        return embeddings_json(self.embeddings[lo:hi], use_base64, prefix, b"}")


def _embedding_column(embeddings: Any) -> Any:
    """A 2-D numpy array (a 1-D one becomes one row), a list of rows, or None."""
    if is_ndarray(embeddings) and embeddings.ndim == 1:
        return embeddings.reshape(1, -1)
    if is_ndarray(embeddings) and embeddings.ndim == 2:
        return embeddings
    return normalize_embeddings(embeddings)


def batch_bodies(
    columns: WriteColumns,
    use_base64: bool,
    max_batch_size: int,
    max_request_bytes: int = DEFAULT_MAX_REQUEST_BYTES,
) -> Iterator[Tuple[int, Any, bool]]:
    """(record count, JSON body, whether it is the last) per request, built
    lazily: at most max_batch_size records and, when a row allows it, at most
    max_request_bytes bytes per body."""
    n = len(columns)
    if n == 0:
        yield 0, columns.body(0, 0, use_base64), True
        return
    # Size the batches from a sample, so that a large write is not encoded
    # twice; an oversized body is still halved below.
    sample = min(n, 32)
    row_estimate = max(1, len(columns.body(0, sample, use_base64)) // sample)
    per_request = max(1, min(max_batch_size, int(max_request_bytes * 0.8) // row_estimate))
    pending: List[Tuple[int, int]] = [
        (lo, min(n, lo + per_request)) for lo in range(0, n, per_request)
    ]
    pending.reverse()
    while pending:
        lo, hi = pending.pop()
        body = columns.body(lo, hi, use_base64)
        if len(body) > max_request_bytes and hi - lo > 1:
            mid = (lo + hi) // 2
            pending.append((mid, hi))
            pending.append((lo, mid))
            continue
        yield hi - lo, body, not pending


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
