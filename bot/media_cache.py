"""The last few small files served from media links, kept in memory.

Viber, a retry of its, or a customer opening the link again, would otherwise each cost a
download from Telegram. Only small files are kept (a sticker, a photo, a short voice note),
within a fixed total; the least recently used goes first.
"""

from __future__ import annotations

from collections import OrderedDict
from dataclasses import dataclass


@dataclass(frozen=True)
class CachedFile:
    data: bytes
    content_type: str


class SmallFileCache:
    def __init__(self, total_bytes: int, largest_file: int) -> None:
        self._total = total_bytes
        self.largest_file = min(largest_file, total_bytes)
        self._files: OrderedDict[str, CachedFile] = OrderedDict()
        self._size = 0

    def get(self, key: str) -> CachedFile | None:
        found = self._files.get(key)
        if found is not None:
            self._files.move_to_end(key)
        return found

    def put(self, key: str, file: CachedFile) -> None:
        """Keep `file` unless it is too large; older files make room."""
        if len(file.data) > self.largest_file:
            return
        previous = self._files.pop(key, None)
        if previous is not None:
            self._size -= len(previous.data)
        while self._files and self._size + len(file.data) > self._total:
            _, oldest = self._files.popitem(last=False)
            self._size -= len(oldest.data)
        self._files[key] = file
        self._size += len(file.data)

    @property
    def size(self) -> int:
        """Bytes held now."""
        return self._size
