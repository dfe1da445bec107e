"""A whole ``/v1/jmx/mbean`` answer, decoded one bean at a time.

Decoding the whole 4-5 MB list at once holds every bean's decoded JSON (the 100-entry percentile maps included)
in memory next to the records made from it; one bean at a time, only the records stay. The list is cut where one
bean object ends and the next begins (``},{"objectName":``, airlift's compact form); if that text also occurs
inside a value, some piece is not a JSON object and the whole list is decoded at once instead.

The answer is kept as the pieces it was read in and never joined on the steady path: joined, 4-5 MB is one block
that glibc maps afresh on every scrape (:mod:`exporter.malloctuning`), and its page faults cost about as much as
decoding a tenth of it. The pieces are a few hundred KiB each and reuse the same heap memory scrape after scrape.
"""

from __future__ import annotations

from collections.abc import Generator, Iterator, Sequence
from typing import Any

import orjson

from exporter.mbeans import MBean
from exporter.sources import airlift
from exporter.sources.base import SourceError

_BEAN_START = b'{"objectName":'
_SEPARATOR = b"}," + _BEAN_START
_OPENING = b"[" + _BEAN_START
_BLANK = frozenset(b" \t\r\n")


class NotSplittable(Exception):
    """The answer is not in airlift's compact form (or not a list of objects): use ``parse``."""


class BeanListing:
    """The body of one whole-list answer, as the ``pieces`` it was read in; ``url`` names it in messages."""

    __slots__ = ("pieces", "url")

    def __init__(self, pieces: Sequence[bytes], url: str) -> None:
        self.pieces = pieces
        self.url = url

    @property
    def body(self) -> bytes:
        """The whole answer in one block (joined on each call)."""
        return b"".join(self.pieces)

    def parse(self) -> tuple[list[MBean], list[str]]:
        """The records, and the entries that could not be read (``airlift.parse_bean_list``'s result)."""
        parsed = self._parse_bean_by_bean()
        if parsed is None:
            parsed = airlift.parse_bean_list(airlift.loads(self.body, self.url), self.url)
        return parsed

    def items(self) -> Iterator[dict[str, Any]]:
        """The decoded bean objects in answer order, one at a time; raises NotSplittable on anything unusual."""
        pending = bytearray()  # from the start of a bean not decoded yet to the end of the pieces added so far
        search_from = 0  # where a separator not looked at yet may start in ``pending``
        opened = False
        for piece in self.pieces:
            pending += piece
            if not opened:
                first = _first_non_blank(pending)
                if len(pending) - first < len(_OPENING):
                    continue  # too little yet to tell
                if not pending.startswith(_OPENING, first):
                    raise NotSplittable
                del pending[: first + 1]
                opened = True
            consumed = yield from _complete_beans(pending, search_from, len(pending), final=False)
            del pending[:consumed]
            search_from = max(0, len(pending) - len(_SEPARATOR) + 1)  # a separator may straddle two pieces
        end = _last_non_blank(pending)
        if not opened or not pending.endswith(b"}]", 0, end):
            raise NotSplittable
        yield from _complete_beans(pending, search_from, end - 1, final=True)

    def _parse_bean_by_bean(self) -> tuple[list[MBean], list[str]] | None:
        beans: list[MBean] = []
        problems: list[str] = []
        try:
            for index, item in enumerate(self.items()):
                try:
                    beans.append(airlift.parse_bean(item))
                except SourceError as exc:
                    problems.append(f"{self.url}[{index}]: {exc}")
        except NotSplittable:
            return None
        if not beans:
            return None  # let the whole-list parser say why
        return beans, problems


def _complete_beans(
    pending: bytearray, search_from: int, end: int, final: bool
) -> Generator[dict[str, Any], None, int]:
    """Yield the beans that end before ``end`` in ``pending`` (and the one up to ``end`` when ``final``); return
    how many bytes they took. Decoded in place, through a memoryview released before ``pending`` can change."""
    start = 0
    with memoryview(pending) as view:
        while True:
            cut = pending.find(_SEPARATOR, search_from, end)
            if cut < 0:
                break
            yield _decode(view, start, cut + 1)
            start = search_from = cut + 2
        if final:
            yield _decode(view, start, end)
            start = end
    return start


def _decode(view: memoryview, start: int, end: int) -> dict[str, Any]:
    try:
        with view[start:end] as text:
            item = orjson.loads(text)
    except orjson.JSONDecodeError:
        raise NotSplittable from None
    if item.__class__ is not dict:
        raise NotSplittable
    return item  # type: ignore[no-any-return]


def _first_non_blank(text: bytearray) -> int:
    position = 0
    while position < len(text) and text[position] in _BLANK:
        position += 1
    return position


def _last_non_blank(text: bytearray) -> int:
    """The end of ``text`` without its trailing JSON whitespace."""
    position = len(text)
    while position > 0 and text[position - 1] in _BLANK:
        position -= 1
    return position
