"""A whole-list answer read bean by bean from the pieces it arrived in, wherever the pieces were cut."""

from __future__ import annotations

from itertools import pairwise
from pathlib import Path

import orjson
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from exporter.sources.base import SourceError
from exporter.sources.listing import BeanListing, NotSplittable

DUMP = Path(__file__).resolve().parent.parent / "examples" / "dumps" / "trino-coordinator.json"
BEANS = orjson.loads(DUMP.read_bytes())
COMPACT = orjson.dumps(BEANS)  # airlift's own form: no whitespace, beans joined by },{"objectName":
SMALL = orjson.dumps(BEANS[:3])
SEPARATOR = b'},{"objectName":'


def cut(body: bytes, positions: list[int]) -> list[bytes]:
    bounds = [0, *sorted(set(positions)), len(body)]
    return [body[start:end] for start, end in pairwise(bounds)]


def items(pieces: list[bytes]) -> list[dict]:
    return list(BeanListing(pieces, "http://coordinator/v1/jmx/mbean").items())


@settings(max_examples=60, deadline=None)
@given(st.lists(st.integers(min_value=0, max_value=len(COMPACT)), max_size=40))
def test_any_cuts_give_the_beans_of_the_whole_answer(positions: list[int]) -> None:
    assert items(cut(COMPACT, positions)) == BEANS


def test_a_separator_cut_at_each_of_its_bytes_is_still_found() -> None:
    first = SMALL.index(SEPARATOR)
    for offset in range(len(SEPARATOR) + 1):
        assert items(cut(SMALL, [first + offset])) == BEANS[:3], offset


def test_one_byte_pieces() -> None:
    assert items([SMALL[i : i + 1] for i in range(len(SMALL))]) == BEANS[:3]


def test_one_piece_and_whitespace_around_the_list_in_pieces_of_its_own() -> None:
    assert items([COMPACT]) == BEANS
    assert items([b" \r\n", b"\t", COMPACT, b"\n", b" "]) == BEANS


def test_a_separator_inside_a_value_is_not_split_there_and_parse_reads_the_whole_list() -> None:
    # Not in a string (its quotes would be escaped), but in a list of objects.
    bean = {"objectName": "a:type=B", "attributes": [{"name": "Rows", "type": "java.util.List",
                                                       "value": [{"k": 1}, {"objectName": "x"}]}]}  # fmt: skip
    body = orjson.dumps([bean, BEANS[0]])
    assert SEPARATOR in body
    listing = BeanListing(cut(body, [len(body) // 2]), "u")
    with pytest.raises(NotSplittable):
        list(listing.items())
    beans, problems = listing.parse()
    assert [b.object_name for b in beans] == ["a:type=B", BEANS[0]["objectName"]]
    assert problems == []


@pytest.mark.parametrize(
    "body", [b"[]", b"{}", b'[{"objectName":"a:b=c"},1]', b'[{"objectName":"a:b=c"}', b"[1,2]"]
)
def test_answers_not_in_airlift_form_are_not_split(body: bytes) -> None:
    with pytest.raises(NotSplittable):
        items(cut(body, [len(body) // 2]))


def test_no_body_at_all_is_an_error_that_says_so() -> None:
    with pytest.raises(SourceError, match="empty body"):
        BeanListing([], "http://coordinator/v1/jmx/mbean").parse()
    with pytest.raises(SourceError, match="empty body"):
        BeanListing([b"  ", b"\n"], "http://coordinator/v1/jmx/mbean").parse()


def test_reading_can_stop_halfway_and_start_again() -> None:
    listing = BeanListing(cut(COMPACT, [1000, 50_000, 120_000]), "u")
    reader = listing.items()
    assert next(reader) == BEANS[0]
    reader.close()
    assert list(listing.items()) == BEANS
    assert listing.body == COMPACT
