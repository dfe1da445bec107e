"""Read one HTTP/1.x response from bytes as they arrive, so several responses can be read at once on one thread.

The pool (:mod:`exporter.sources.http_pool`) sends one GET on each of several connections and feeds each socket's
bytes to its own reader as they come in. The reader understands what a server may send to a GET: a status line
(``1xx`` heads are skipped), header lines, and a body framed by ``Content-Length``, by chunked transfer coding, or
by the end of the connection. It caps the body and says whether the connection can carry another request.
"""

from __future__ import annotations

_MAX_LINE = 64 * 1024  # one header line, or a chunk-size line
_MAX_HEAD = 256 * 1024  # every header line of one response together

_STATUS, _HEADERS, _LENGTH, _CHUNK_SIZE, _CHUNK_DATA, _CHUNK_END, _TRAILER, _UNTIL_CLOSE, _DONE = range(9)
_LINE_STATES = frozenset({_STATUS, _HEADERS, _CHUNK_SIZE, _CHUNK_END, _TRAILER})
_HEX_DIGITS = b"0123456789abcdefABCDEF"


class HttpError(Exception):
    """A request failed; ``str()`` is a short cause (no URL, no secret)."""


class BodyTooLarge(HttpError):
    """The answer is bigger than the cap."""


class ResponseReader:
    """One response to a GET, fed in pieces of any size; ``done`` once it is whole. Raises HttpError."""

    def __init__(self, max_body: int) -> None:
        self.max_body = max_body
        self.status = 0
        self.keep_alive = False
        self.extra = False  # bytes came after the response: the connection cannot be trusted with another request
        self._state = _STATUS
        self._line = bytearray()
        self._head_size = 0
        self._headers: dict[bytes, bytes] = {}
        self._version = b""
        self._remaining = 0  # of the Content-Length body or of the current chunk
        self._size = 0
        self._pieces: list[bytes] = []

    @property
    def done(self) -> bool:
        """Whether the whole response has arrived."""
        return self._state is _DONE

    @property
    def started(self) -> bool:
        """Whether any of the response has arrived."""
        return self._head_size > 0 or bool(self._line)

    @property
    def in_body(self) -> bool:
        """Whether the (final) head has arrived whole: what is awaited now is the body, or the end of it."""
        return self._state is not _STATUS and self._state is not _HEADERS

    def body(self) -> bytes:
        return b"".join(self._pieces)

    def feed(self, data: bytes) -> None:
        """Take the next bytes read from the connection."""
        position, end = 0, len(data)
        while position < end:
            state = self._state
            if state is _DONE:
                self.extra = True
                break
            if state in _LINE_STATES:
                newline = data.find(b"\n", position)
                stop = end if newline < 0 else newline + 1
                self._line += data[position:stop]
                if len(self._line) > _MAX_LINE:
                    raise HttpError("bad HTTP answer: a line longer than 64 KiB")
                position = stop
                if newline >= 0:
                    line = bytes(self._line).rstrip(b"\r\n")
                    self._line.clear()
                    self._take_line(line)
                continue
            take = end - position if state is _UNTIL_CLOSE else min(self._remaining, end - position)
            self._add_body(data if take == end and position == 0 else data[position : position + take])
            position += take
            if state is not _UNTIL_CLOSE:
                self._remaining -= take
                if not self._remaining:
                    self._state = _CHUNK_END if state is _CHUNK_DATA else _DONE

    def end(self) -> None:
        """The server closed the connection: that ends a body framed by it; any other unfinished answer is cut."""
        if self._state is _UNTIL_CLOSE:
            self._state = _DONE
            self.keep_alive = False
        elif self._state is not _DONE:
            raise HttpError("the response was cut off" if self.started else "the server closed the connection")

    def _add_body(self, piece: bytes) -> None:
        self._size += len(piece)
        if self._size > self.max_body:
            raise BodyTooLarge(f"body exceeds the cap of {self.max_body} bytes")
        self._pieces.append(piece)

    def _take_line(self, line: bytes) -> None:
        state = self._state
        if state in (_STATUS, _HEADERS, _TRAILER):
            self._head_size += len(line) + 2
            if self._head_size > _MAX_HEAD:
                raise HttpError("bad HTTP answer: headers longer than 256 KiB")
        if state is _STATUS:
            self._take_status(line)
        elif state is _HEADERS:
            if line:
                self._take_header(line)
            else:
                self._start_body()
        elif state is _CHUNK_SIZE:
            size = line.split(b";", 1)[0].strip()
            if not size or size.strip(_HEX_DIGITS):  # int(x, 16) would also take "0x1f", "+1f" and "1_f"
                raise HttpError(f"bad HTTP answer: chunk size {size[:30]!r}")
            self._remaining = int(size, 16)
            self._state = _CHUNK_DATA if self._remaining else _TRAILER
        elif state is _CHUNK_END:
            if line:
                raise HttpError("bad HTTP answer: a chunk is longer than its size")
            self._state = _CHUNK_SIZE
        elif not line:  # _TRAILER: trailer fields are read past; the empty line ends the body
            self._state = _DONE

    def _take_status(self, line: bytes) -> None:
        if not line:  # empty lines before a status line are read past (RFC 9112 2.2), within the head's cap
            return
        version, _, rest = line.partition(b" ")
        code = rest[:3]
        if not version.startswith(b"HTTP/1.") or len(code) != 3 or not code.isdigit() or rest[3:4] not in (b"", b" "):
            raise HttpError(f"bad HTTP answer: status line {line[:60]!r}")
        self._version = version
        self.status = int(code)
        self._headers = {}
        self._state = _HEADERS

    def _take_header(self, line: bytes) -> None:
        name, colon, value = line.partition(b":")
        if not colon or not name or name != name.strip():
            raise HttpError(f"bad HTTP answer: header line {line[:60]!r}")
        key = name.lower()
        value = value.strip()
        if key in self._headers and key in (b"transfer-encoding", b"connection"):
            self._headers[key] += b", " + value
        elif key == b"content-length" and self._headers.get(key, value) != value:
            raise HttpError("bad HTTP answer: two different Content-Length headers")
        else:
            self._headers[key] = value

    def _start_body(self) -> None:
        headers = self._headers
        if 100 <= self.status < 200:  # an interim answer (e.g. 103 Early Hints): the real one follows
            self._state = _STATUS
            return
        tokens = {token.strip() for token in headers.get(b"connection", b"").lower().split(b",")}
        if self._version == b"HTTP/1.0":
            self.keep_alive = b"keep-alive" in tokens
        else:
            self.keep_alive = b"close" not in tokens
        codings = headers.get(b"transfer-encoding")
        length = headers.get(b"content-length")
        if self.status in (204, 304):
            self._state = _DONE
        elif codings is not None:
            if codings.lower().rsplit(b",", 1)[-1].strip() != b"chunked":
                self._state = _UNTIL_CLOSE  # RFC 9112 6.3: not chunked last, so the close ends it
                self.keep_alive = False
            else:
                self._state = _CHUNK_SIZE
        elif length is not None:
            if not length.isdigit():
                raise HttpError(f"bad HTTP answer: Content-Length {length[:30]!r}")
            self._remaining = int(length)
            if self._remaining > self.max_body:
                raise BodyTooLarge(f"body of {self._remaining} bytes exceeds the cap of {self.max_body} bytes")
            self._state = _LENGTH if self._remaining else _DONE
        else:
            self._state = _UNTIL_CLOSE
            self.keep_alive = False
