"""Progress display for long writes: tqdm when installed, else a plain bar on
stderr."""

import sys
import time
from typing import Any, Optional


class _PlainBar:
    """A one-line text bar redrawn on stderr at most every 0.1 s."""

    _WIDTH = 30

    def __init__(self, total: int, desc: str) -> None:
        self._total = max(total, 1)
        self._desc = desc
        self._done = 0
        self._start = time.monotonic()
        self._last_draw = 0.0
        self._draw(force=True)

    def update(self, n: int) -> None:
        self._done += n
        self._draw(force=self._done >= self._total)

    def _draw(self, force: bool) -> None:
        now = time.monotonic()
        if not force and now - self._last_draw < 0.1:
            return
        self._last_draw = now
        filled = int(self._WIDTH * min(self._done, self._total) / self._total)
        elapsed = max(now - self._start, 1e-9)
        sys.stderr.write(
            f"\r{self._desc}: [{'#' * filled}{'.' * (self._WIDTH - filled)}] "
            f"{self._done}/{self._total} records, {self._done / elapsed:,.0f}/s"
        )
        sys.stderr.flush()

    def close(self) -> None:
        sys.stderr.write("\n")
        sys.stderr.flush()


class _NoBar:
    def update(self, n: int) -> None:
        pass

    def close(self) -> None:
        pass


def progress_bar(enabled: bool, total: int, desc: str) -> Any:
    """An object with update(n) and close(): tqdm, the plain bar, or nothing."""
    if not enabled:
        return _NoBar()
    tqdm: Optional[Any]
    try:
        from tqdm import tqdm  # type: ignore[no-redef]
    except ImportError:
        tqdm = None
    if tqdm is not None:
        return tqdm(total=total, desc=desc, unit="rec")
    return _PlainBar(total, desc)
