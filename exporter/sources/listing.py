"""A whole ``/v1/jmx/mbean`` answer, decoded one bean at a time.

Decoding the whole 4-5 MB list at once holds every bean's decoded JSON (the 100-entry percentile maps included)
in memory next to the records made from it; one bean at a time, only the records stay. The list is cut where one
bean object ends and the next begins (``},{"objectName":``, airlift's compact form); if that text also occurs
inside a value, some piece is not a JSON object and the whole list is decoded at once instead.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import orjson

from exporter.mbeans import MBean
from exporter.sources import airlift
from exporter.sources.base import SourceError

_BEAN_START = b'{"objectName":'
_SEPARATOR = b"}," + _BEAN_START


class NotSplittable(Exception):
    """The answer is not in airlift's compact form (or not a list of objects): use ``parse``."""


class BeanListing:
    """The body of one whole-list answer; ``url`` names it in messages."""

    __slots__ = ("body", "url")

    def __init__(self, body: bytes, url: str) -> None:
        self.body = body
        self.url = url

    def parse(self) -> tuple[list[MBean], list[str]]:
        """The records, and the entries that could not be read (``airlift.parse_bean_list``'s result)."""
        parsed = self._parse_bean_by_bean()
        if parsed is None:
            parsed = airlift.parse_bean_list(airlift.loads(self.body, self.url), self.url)
        return parsed

    def items(self) -> Iterator[dict[str, Any]]:
        """The decoded bean objects in answer order, one at a time; raises NotSplittable on anything unusual."""
        text = self.body.strip()
        if not (text.startswith(b"[" + _BEAN_START) and text.endswith(b"}]")):
            raise NotSplittable
        view = memoryview(text)  # pieces are decoded in place, without copies
        start, end = 1, len(text) - 1
        while True:
            cut = text.find(_SEPARATOR, start, end)
            try:
                item = orjson.loads(view[start : end if cut < 0 else cut + 1])
            except orjson.JSONDecodeError:
                raise NotSplittable from None
            if item.__class__ is not dict:
                raise NotSplittable
            yield item
            if cut < 0:
                return
            start = cut + 2

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
