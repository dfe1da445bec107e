"""The incremental HTTP response reader: every framing a server may use for a GET, cut into pieces anywhere."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from exporter.sources.http_response import BodyTooLarge, HttpError, ResponseReader

BODY = b'{"objectName":"trino.memory:type=ClusterMemoryPool,name=general","attributes":[]}'


def _chunked(body: bytes, size: int = 7) -> bytes:
    out = b""
    for start in range(0, len(body), size):
        piece = body[start : start + size]
        out += f"{len(piece):x};ext=1\r\n".encode() + piece + b"\r\n"
    return out + b"0\r\nX-Trailer: yes\r\n\r\n"


RESPONSES = {
    "length": (b"HTTP/1.1 200 OK\r\nContent-Length: %d\r\n\r\n" % len(BODY)) + BODY,
    "chunked": b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n" + _chunked(BODY),
    "interim first": b"HTTP/1.1 103 Early Hints\r\nLink: </x>\r\n\r\nHTTP/1.1 200 OK\r\nContent-Length: %d\r\n\r\n"
    % len(BODY) + BODY,
    "bare newlines": (b"HTTP/1.1 200 OK\nContent-Length: %d\n\n" % len(BODY)) + BODY,
}


def _read(raw: bytes, cuts: list[int] = (), max_body: int = 1 << 20) -> ResponseReader:  # type: ignore[assignment]
    reader = ResponseReader(max_body)
    start = 0
    for cut in [*sorted(cuts), len(raw)]:
        reader.feed(raw[start:cut])
        start = cut
    return reader


@settings(max_examples=200, deadline=None)
@given(st.sampled_from(sorted(RESPONSES)), st.lists(st.integers(0, 400), max_size=12))
def test_a_response_cut_anywhere_reads_the_same(kind: str, cuts: list[int]) -> None:
    raw = RESPONSES[kind]
    reader = _read(raw, [min(cut, len(raw)) for cut in cuts])
    assert reader.done and not reader.extra
    assert (reader.status, reader.body(), reader.keep_alive) == (200, BODY, True)


def test_how_far_a_response_has_come() -> None:
    """``started`` and ``in_body`` name what a timeout was waiting for; an interim head does not count as the head."""
    for kind, raw in RESPONSES.items():
        blank = b"\n\n" if kind == "bare newlines" else b"\r\n\r\n"
        head_end = raw.index(blank, raw.index(b"200 OK")) + len(blank)  # the final head's blank line
        for cut in range(len(raw) + 1):
            reader = _read(raw[:cut])
            assert (reader.started, reader.in_body) == (cut > 0, cut >= head_end), (kind, cut)


def test_one_byte_at_a_time() -> None:
    for kind, raw in RESPONSES.items():
        reader = _read(raw, list(range(len(raw))))
        assert (reader.done, reader.status, reader.body()) == (True, 200, BODY), kind


def test_a_body_ended_by_the_close_is_whole_only_at_the_close() -> None:
    reader = _read(b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\n\r\n" + BODY)
    assert not reader.done
    reader.end()
    assert reader.done and reader.body() == BODY and not reader.keep_alive
    # Not chunked last: framed by the close as well (RFC 9112 6.3).
    reader = _read(b"HTTP/1.1 200 OK\r\nTransfer-Encoding: gzip\r\n\r\nabc")
    reader.end()
    assert reader.body() == b"abc" and not reader.keep_alive


@pytest.mark.parametrize(
    ("head", "keep_alive"),
    [
        (b"HTTP/1.1 200 OK\r\n", True),
        (b"HTTP/1.1 200 OK\r\nConnection: close\r\n", False),
        (b"HTTP/1.1 200 OK\r\nConnection: Keep-Alive, Close\r\n", False),
        (b"HTTP/1.0 200 OK\r\n", False),
        (b"HTTP/1.0 200 OK\r\nConnection: keep-alive\r\n", True),
    ],
)
def test_whether_the_connection_can_carry_another_request(head: bytes, keep_alive: bool) -> None:
    reader = _read(head + b"Content-Length: 2\r\n\r\n{}")
    assert reader.done and reader.keep_alive is keep_alive


def test_answers_without_a_body() -> None:
    for status in (204, 304):
        reader = _read(b"HTTP/1.1 %d X\r\nContent-Length: 5\r\n\r\n" % status)
        assert reader.done and reader.status == status and reader.body() == b""
    reader = _read(b"HTTP/1.1 500 Server Error\r\nContent-Length: 0\r\n\r\n")
    assert reader.done and reader.status == 500


def test_bytes_after_the_response_are_noticed() -> None:
    reader = _read(b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\n{}HTTP/1.1 200 OK\r\n")
    assert reader.done and reader.body() == b"{}" and reader.extra


def test_the_body_cap_by_content_length_and_while_streaming() -> None:
    with pytest.raises(BodyTooLarge, match="body of 5000 bytes exceeds the cap of 1000 bytes"):
        _read(b"HTTP/1.1 200 OK\r\nContent-Length: 5000\r\n\r\n", max_body=1000)
    big = b"x" * 5000
    with pytest.raises(BodyTooLarge, match="body exceeds the cap of 1000 bytes"):
        _read(b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n" + _chunked(big, 600), max_body=1000)
    with pytest.raises(BodyTooLarge, match="body exceeds the cap of 1000 bytes"):
        _read(b"HTTP/1.1 200 OK\r\n\r\n" + big, max_body=1000)


def test_a_connection_closed_early_says_how_far_it_got() -> None:
    with pytest.raises(HttpError, match=r"^the server closed the connection$"):
        ResponseReader(100).end()
    for cut in (5, 30, 45):
        reader = _read(RESPONSES["length"][:cut])
        with pytest.raises(HttpError, match=r"^the response was cut off$"):
            reader.end()
    reader = _read(RESPONSES["chunked"][:-2])
    with pytest.raises(HttpError, match=r"^the response was cut off$"):
        reader.end()


@pytest.mark.parametrize(
    ("raw", "message"),
    [
        (b"SSH-2.0-OpenSSH_9.6\r\n", "status line b'SSH-2.0-OpenSSH_9.6'"),
        (b"HTTP/1.1 2000 OK\r\n", "status line"),
        (b"HTTP/2 200\r\n", "status line"),
        (b"HTTP/1.1 200 OK\r\nno colon here\r\n", "header line b'no colon here'"),
        (b"HTTP/1.1 200 OK\r\n Folded: x\r\n", "header line"),
        (b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\nContent-Length: 3\r\n\r\n", "two different Content-Length"),
        (b"HTTP/1.1 200 OK\r\nContent-Length: -1\r\n\r\n", "Content-Length b'-1'"),
        (b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n0x10\r\n", "chunk size b'0x10'"),
        (b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n+a\r\n", "chunk size b'\\+a'"),
        (b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n1_0\r\n", "chunk size b'1_0'"),
        (b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n2\r\nabc\r\n", "a chunk is longer than its size"),
        (b"HTTP/1.1 200 OK\r\nX: " + b"y" * 70_000, "a line longer than 64 KiB"),
        (b"HTTP/1.1 200 OK\r\n" + b"X: y\r\n" * 60_000, "headers longer than 256 KiB"),
    ],
)
def test_answers_that_are_not_http_are_named(raw: bytes, message: str) -> None:
    with pytest.raises(HttpError, match=f"^bad HTTP answer: {message}"):
        _read(raw)


def test_equal_content_lengths_and_repeated_codings_are_read() -> None:
    reader = _read(b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\ncontent-length: 2\r\n\r\n{}")
    assert reader.body() == b"{}"
    codings = b"Transfer-Encoding: gzip\r\nTransfer-Encoding: chunked\r\n"
    reader = _read(b"HTTP/1.1 200 OK\r\n" + codings + b"\r\n1\r\nz\r\n0\r\n\r\n")
    assert reader.done and reader.body() == b"z" and reader.keep_alive
