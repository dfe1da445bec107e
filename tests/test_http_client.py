"""The coordinator client (``HttpClient``): one GET and several at once, against real servers on 127.0.0.1."""

from __future__ import annotations

import gzip
import socket
import ssl
import struct
import threading
import time
import zlib
from collections.abc import Callable, Iterator
from contextlib import contextmanager

import orjson
import pytest

from exporter.sources.rest.client import Answer, HttpClient, HttpError
from tests.helpers.canned_server import CannedServer, ForwardingProxy, Reply
from tests.helpers.certs import self_signed

HEADERS = {"Accept": "application/json"}


def client(url: str, width: int = 8, max_body: int = 1 << 20, verify: bool | str = True) -> HttpClient:
    return HttpClient(url, HEADERS, verify=verify, max_body=max_body, parallelism=width)


def _answers(pool: HttpClient, paths: list[str], budget: float = 5.0) -> dict[str, tuple[int, bytes] | HttpError]:
    """{path: (status, body) or HttpError}, and that every path was answered once."""
    got = list(pool.get_many(paths, time.monotonic() + budget))
    assert sorted(index for index, _ in got) == list(range(len(paths)))
    return {paths[index]: (a.status, a.body) if isinstance(a, Answer) else a for index, a in got}


def test_the_requests_are_in_flight_together() -> None:
    # Each answer waits until all four requests have arrived: sent one after another, they would never all arrive.
    barrier = threading.Barrier(4, timeout=5)

    def answer(path: str) -> Reply:
        barrier.wait()
        return Reply(body=path.encode())

    paths = [f"/v1/jmx/mbean/b{i}" for i in range(4)]
    with CannedServer(answer) as server:
        pool = client(server.url, width=4)
        answers = _answers(pool, paths)
        pool.close()
    assert answers == {path: (200, path.encode()) for path in paths}


def test_no_more_than_width_requests_are_in_flight() -> None:
    lock = threading.Lock()
    in_flight = [0, 0]  # now, most
    pairs = threading.Barrier(2, timeout=5)  # two at a time get through: more would pass in pairs too

    def answer(path: str) -> Reply:
        with lock:
            in_flight[0] += 1
            in_flight[1] = max(in_flight)
        pairs.wait()
        with lock:
            in_flight[0] -= 1
        return Reply(body=b"{}")

    with CannedServer(answer) as server:
        pool = client(server.url, width=2)
        answers = _answers(pool, [f"/p{i}" for i in range(6)])
        pool.close()
    assert set(answers.values()) == {(200, b"{}")}
    assert in_flight[1] == 2


def test_a_width_below_one_still_answers_every_path() -> None:
    with CannedServer(lambda path: Reply(body=b"{}")) as server:
        pool = client(server.url, width=0)
        assert set(_answers(pool, ["/a", "/b"]).values()) == {(200, b"{}")}
        pool.close()


def test_connections_are_kept_and_reused_across_calls() -> None:
    with raw_server(lambda line: b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\n[]") as (url, accepted):
        pool = client(url, width=3)
        for _ in range(3):
            assert set(_answers(pool, ["/a", "/b", "/c"]).values()) == {(200, b"[]")}
        pool.close()
    assert accepted[0] <= 3


@contextmanager
def raw_server(
    reply: Callable[[bytes], bytes | None],
    answers_per_connection: int | None = None,
    reset: bool = False,
    tls: ssl.SSLContext | None = None,
) -> Iterator[tuple[str, list[int]]]:
    """A TCP server on 127.0.0.1 that writes ``reply(request line)`` as is for each request (None: close instead of
    answering) and closes after an HTTP/1.0 answer or one with ``Connection: close``. Yields its URL and the count
    of connections it accepted.

    With ``answers_per_connection``, a connection that has answered that many requests is closed when the next one
    arrives, unanswered: a kept-alive connection the server gave up just as the client reused it. ``reset`` closes
    it with a TCP reset instead of a FIN, and without reading the request. ``tls`` serves HTTPS (and closes without
    a close_notify, as a server dropping a connection may)."""
    stop = threading.Event()

    def handle(connection: socket.socket) -> None:
        if tls is not None:
            try:
                connection = tls.wrap_socket(connection, server_side=True)
            except (OSError, ssl.SSLError):
                connection.close()
                return
        with connection:
            buffer = b""
            answered = 0
            while not stop.is_set():
                while b"\r\n\r\n" not in buffer:
                    if reset and answered == answers_per_connection:
                        connection.recv(1, socket.MSG_PEEK)  # the request is here, not read: a reset follows
                        connection.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
                        return
                    data = connection.recv(65536)
                    if not data:
                        return
                    buffer += data
                head, _, buffer = buffer.partition(b"\r\n\r\n")
                if answered == answers_per_connection:
                    return
                answered += 1
                answer = reply(head.split(b"\r\n", 1)[0])
                if answer is None:
                    return
                connection.sendall(answer)
                if answer.startswith(b"HTTP/1.0") or b"Connection: close" in answer.split(b"\r\n\r\n")[0]:
                    return

    with tcp_server(handle, stop) as (port, accepted):
        yield f"{'https' if tls else 'http'}://127.0.0.1:{port}", accepted


@contextmanager
def tcp_server(handle: Callable[[socket.socket], None], stop: threading.Event) -> Iterator[tuple[int, list[int]]]:
    """Accept connections on 127.0.0.1 and ``handle`` each on a thread of its own until the block ends (``stop`` is
    then set); yields the port and the count of connections accepted."""
    listener = socket.create_server(("127.0.0.1", 0))
    accepted = [0]

    def serve() -> None:
        while not stop.is_set():
            try:
                connection, _ = listener.accept()
            except OSError:
                return
            accepted[0] += 1
            threading.Thread(target=handle, args=(connection,), daemon=True).start()

    thread = threading.Thread(target=serve, daemon=True)
    thread.start()
    try:
        yield listener.getsockname()[1], accepted
    finally:
        stop.set()
        listener.shutdown(socket.SHUT_RDWR)  # wakes the accept (closing alone does not)
        listener.close()
        thread.join(5)
        assert not thread.is_alive()


def _path_of(request_line: bytes) -> bytes:
    return request_line.split(b" ")[1]


def test_every_framing_over_a_real_socket() -> None:
    def reply(line: bytes) -> bytes:
        body = b'{"path":"%s"}' % _path_of(line)
        if b"/chunked" in line:
            return b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n%x\r\n%s\r\n0\r\nX-T: 1\r\n\r\n" % (
                len(body), body)
        if b"/close" in line:
            return b"HTTP/1.1 200 OK\r\nConnection: close\r\n\r\n" + body
        if b"/old" in line:
            return b"HTTP/1.0 200 OK\r\n\r\n" + body
        return b"HTTP/1.1 200 OK\r\nContent-Length: %d\r\n\r\n%s" % (len(body), body)

    paths = ["/chunked", "/close", "/old", "/length", "/chunked2", "/length2"]
    with raw_server(reply) as (url, accepted):
        pool = client(url, width=2)
        answers = _answers(pool, paths)
        pool.close()
    assert answers == {path: (200, b'{"path":"%s"}' % path.encode()) for path in paths}
    assert accepted[0] < len(paths)  # the kept-alive connections carried more than one request


def test_answers_that_fail_fail_alone() -> None:
    def reply(line: bytes) -> bytes | None:
        if b"/cut" in line:
            return b"HTTP/1.1 200 OK\r\nContent-Length: 100\r\nConnection: close\r\n\r\n0123456789"
        if b"/gone" in line:
            return None
        if b"/garbage" in line:
            return b"220 smtp.example ESMTP\r\n\r\n"
        return b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\n{}"

    with raw_server(reply) as (url, _):
        pool = client(url, width=3)
        answers = _answers(pool, ["/cut", "/ok1", "/gone", "/garbage", "/ok2"])
        pool.close()
    assert answers["/ok1"] == answers["/ok2"] == (200, b"{}")
    assert str(answers["/cut"]) == "the response was cut off"
    assert str(answers["/gone"]) == "the server closed the connection"
    assert str(answers["/garbage"]) == "not an HTTP answer (is that the server's HTTP port?)"


def test_slow_answers_time_out_at_the_deadline_and_the_others_arrive() -> None:
    with CannedServer(lambda path: Reply(body=b"{}")) as server:

        def answer(path: str) -> Reply:
            if path == "/no-answer":
                server.release.wait(30)
            if path == "/slow-body":
                return Reply(body=b"{}", before_body=lambda: server.release.wait(30))
            return Reply(body=b"{}")

        server.answer = answer
        pool = client(server.url, width=4)
        started = time.monotonic()
        answers = _answers(pool, ["/no-answer", "/a", "/slow-body", "/b"], budget=0.5)
        elapsed = time.monotonic() - started
        server.release.set()
        pool.close()
    assert answers["/a"] == answers["/b"] == (200, b"{}")
    assert str(answers["/no-answer"]) == "timed out waiting for the response"
    assert str(answers["/slow-body"]) == "timed out while reading the body"
    assert 0.4 < elapsed < 2.0


def test_a_head_that_stops_halfway_times_out_as_such() -> None:
    def reply(line: bytes) -> bytes:
        if b"/half" in line:
            return b"HTTP/1.1 200 OK\r\nContent-Le"  # and nothing more: the connection stays open
        return b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\n{}"

    with raw_server(reply) as (url, _):
        pool = client(url, width=2)
        answers = _answers(pool, ["/half", "/ok"], budget=0.5)
        pool.close()
    assert answers["/ok"] == (200, b"{}")
    assert str(answers["/half"]) == "timed out waiting for the response"


def test_a_refused_connection_fails_every_request_at_once() -> None:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    pool = client(f"http://127.0.0.1:{port}", width=2)
    answers = _answers(pool, ["/a", "/b", "/c"])
    pool.close()
    assert {str(answer) for answer in answers.values()} == {"cannot connect: Connection refused"}


def test_the_body_cap_applies_to_each_answer() -> None:
    with CannedServer(lambda path: Reply(body=b"x" * (50 if path == "/small" else 5000))) as server:
        pool = client(server.url, max_body=1000)
        answers = _answers(pool, ["/small", "/big"])
        pool.close()
    assert answers["/small"] == (200, b"x" * 50)
    assert str(answers["/big"]) == "body of 5000 bytes exceeds the cap of 1000 bytes"


@pytest.mark.parametrize("chunked", [False, True], ids=["content-length", "chunked"])
def test_the_body_cap_applies_to_the_answers_of_one_call_together(chunked: bool) -> None:
    """Eight beans of 600 bytes each under a cap of 1000: the cap holds for the scrape, not for each answer."""
    body = b"x" * 600
    reply = Reply(body=_chunk(body), headers={"Transfer-Encoding": "chunked"}) if chunked else Reply(body=body)
    with CannedServer(lambda path: reply) as server:
        pool = client(server.url, max_body=1000)
        answers = _answers(pool, [f"/{index}" for index in range(8)])
        pool.close()
    read = [answer for answer in answers.values() if not isinstance(answer, HttpError)]
    refused = {str(answer) for answer in answers.values() if isinstance(answer, HttpError)}
    assert sum(len(body) for _, body in read) <= 1000
    assert len(read) >= 1
    assert refused and refused <= {
        "body of 600 bytes would take this scrape's answers over the cap of 1000 bytes",
        "this scrape's answers together exceed the cap of 1000 bytes",
    }, refused


def _chunk(data: bytes) -> bytes:
    return f"{len(data):x}\r\n".encode() + data + b"\r\n0\r\n\r\n"


def test_a_trickling_body_is_cut_off_at_the_deadline() -> None:
    body = b"[" + b" " * 200 + b"]"
    with CannedServer(lambda path: Reply(body=body)) as server:
        server.answer = lambda path: Reply(body=body, trickle=0.05)
        pool = client(server.url)
        started = time.monotonic()
        with pytest.raises(HttpError, match="timed out while reading the body"):
            pool.get("/list", time.monotonic() + 0.5)
        elapsed = time.monotonic() - started
        server.release.set()
        pool.close()
    assert 0.4 < elapsed < 1.5


@contextmanager
def head_trickler(pace: float = 0.05) -> Iterator[str]:
    """A server on 127.0.0.1 that answers every request with the start of a head, one byte every ``pace`` seconds
    (longer than the tests' budget in all), and then nothing more."""
    stop = threading.Event()

    def handle(connection: socket.socket) -> None:
        with connection:
            connection.recv(65536)
            head = b"HTTP/1.1 200 OK\r\n" + b"X-Slow: " + b"a" * 60  # then silence
            for index in range(len(head)):
                if stop.wait(pace):
                    return
                try:
                    connection.sendall(head[index : index + 1])
                except OSError:
                    return

    with tcp_server(handle, stop) as (port, _):
        yield f"http://127.0.0.1:{port}"


HEAD_TRICKLED = "timed out while reading the response head (the server sent its headers too slowly)"


@pytest.mark.parametrize("many", [False, True], ids=["get", "get_many"])
def test_a_trickling_head_is_cut_off_at_the_deadline(many: bool) -> None:
    with head_trickler() as url:
        pool = client(url)
        started = time.monotonic()
        if many:
            answers = _answers(pool, ["/a", "/b"], budget=0.5)
            assert {str(answer) for answer in answers.values()} == {HEAD_TRICKLED}
        else:
            with pytest.raises(HttpError) as raised:
                pool.get("/a", time.monotonic() + 0.5)
            assert str(raised.value) == HEAD_TRICKLED
        elapsed = time.monotonic() - started
        pool.close()
    assert 0.4 < elapsed < 1.5


def test_a_stall_mid_body_on_a_closing_connection_says_the_body_was_being_read() -> None:
    head = b"HTTP/1.1 200 OK\r\nConnection: close\r\nContent-Type: application/json\r\n\r\n"
    stop = threading.Event()

    def handle(connection: socket.socket) -> None:
        with connection:
            connection.recv(65536)
            connection.sendall(head + b'[{"objectName": ')
            stop.wait(30)

    with tcp_server(handle, stop) as (port, _):
        pool = client(f"http://127.0.0.1:{port}")
        with pytest.raises(HttpError) as raised:
            pool.get("/list", time.monotonic() + 0.5)
        pool.close()
    assert str(raised.value) == "timed out while reading the body"


def test_a_head_with_too_many_headers_says_so() -> None:
    many = b"".join(b"X-Header-%d: v\r\n" % index for index in range(120))
    with raw_server(lambda line: b"HTTP/1.1 200 OK\r\n" + many + b"Content-Length: 2\r\n\r\n{}") as (url, _):
        pool = client(url)
        with pytest.raises(HttpError) as raised:
            pool.get("/a", time.monotonic() + 5)
        pool.close()
    assert str(raised.value) == "bad HTTP answer: got more than 100 headers"


@pytest.mark.parametrize("encoding", ["gzip", "deflate"])
def test_a_compressed_answer_sent_although_identity_was_asked_is_read(encoding: str) -> None:
    body = orjson.dumps([{"objectName": "a:type=B", "attributes": []}] * 50)
    packed = gzip.compress(body) if encoding == "gzip" else zlib.compress(body)
    with CannedServer(lambda path: Reply(body=packed, headers={"Content-Encoding": encoding})) as server:
        pool = client(server.url)
        answer = pool.get("/list", time.monotonic() + 5)
        pool.close()
    assert server.seen[0].headers["accept-encoding"] == "identity"
    assert answer == Answer(200, body)


@pytest.mark.parametrize(("encoding", "body", "message"), [
    ("br", b"\x1b\x03\x00", "the answer is encoded as 'br' (Content-Encoding), which the exporter cannot read; it "
                              "asks for identity: is a proxy in between compressing it?"),
    ("gzip", b"not gzip at all", "the answer's gzip encoding (Content-Encoding) is corrupt"),
])  # fmt: skip
def test_an_answer_in_an_encoding_that_cannot_be_read_names_it(encoding: str, body: bytes, message: str) -> None:
    with CannedServer(lambda path: Reply(body=body, headers={"Content-Encoding": encoding})) as server:
        pool = client(server.url)
        with pytest.raises(HttpError) as raised:
            pool.get("/list", time.monotonic() + 5)
        pool.close()
    assert str(raised.value) == message


def test_proxies_from_the_environment_are_used(monkeypatch: pytest.MonkeyPatch) -> None:
    """A real forwarding proxy on 127.0.0.1: HTTP_PROXY sends the GET through it, NO_PROXY bypasses it."""
    with CannedServer(lambda path: Reply(body=b"{}")) as origin, ForwardingProxy() as proxy:
        monkeypatch.setenv("HTTP_PROXY", proxy.url)
        monkeypatch.delenv("NO_PROXY", raising=False)
        monkeypatch.delenv("no_proxy", raising=False)
        pool = client(origin.url)
        assert pool.get("/through", time.monotonic() + 5) == Answer(200, b"{}")
        pool.close()
        monkeypatch.setenv("NO_PROXY", "127.0.0.1")
        pool = client(origin.url)
        assert pool.get("/direct", time.monotonic() + 5) == Answer(200, b"{}")
        pool.close()
    assert proxy.forwarded == [f"{origin.url}/through"]
    assert [seen.path for seen in origin.seen] == ["/through", "/direct"]


def test_https_goes_through_the_proxy_in_a_tunnel_and_is_still_verified(
    monkeypatch: pytest.MonkeyPatch, tls_pair: tuple[ssl.SSLContext, str]
) -> None:
    server_tls, bundle = tls_pair
    with CannedServer(lambda path: Reply(body=b"{}"), tls=server_tls) as origin, ForwardingProxy() as proxy:
        monkeypatch.setenv("HTTPS_PROXY", proxy.url)
        monkeypatch.delenv("NO_PROXY", raising=False)
        monkeypatch.delenv("no_proxy", raising=False)
        pool = client(origin.url, verify=bundle)
        assert pool.get("/tunnelled", time.monotonic() + 5) == Answer(200, b"{}")
        pool.close()
        untrusted = client(origin.url)
        with pytest.raises(HttpError, match="TLS error"):
            untrusted.get("/refused", time.monotonic() + 5)
        untrusted.close()
    assert proxy.forwarded[0] == origin.url.removeprefix("https://")
    assert [seen.path for seen in origin.seen] == ["/tunnelled"]


def _ok(line: bytes) -> bytes | None:
    if b"/gone" in line:
        return None
    if b"/cut" in line:
        return b"HTTP/1.1 200 OK\r\nContent-Length: 100\r\nConnection: close\r\n\r\n0123456789"
    return b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\n{}"


@pytest.fixture(scope="module")
def tls_pair(tmp_path_factory: pytest.TempPathFactory) -> tuple[ssl.SSLContext, str]:
    """A server context and the CA bundle that trusts it."""
    cert, key = self_signed(tmp_path_factory.mktemp("pool-tls"), "server")
    server = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    server.load_cert_chain(cert, key)
    return server, str(cert)


@pytest.mark.parametrize("close", ["fin", "reset", "tls"])
@pytest.mark.parametrize("many", [False, True], ids=["get", "get_many"])
def test_a_kept_alive_connection_closed_as_it_is_reused_is_sent_again_on_a_new_one(
    many: bool, close: str, request: pytest.FixtureRequest
) -> None:
    """Each connection answers one request and drops the next one unanswered, so every reused connection looked
    alive when taken and was not. The GETs go again, once each, on new connections."""
    paths = ["/a", "/b"]
    server_tls, bundle = request.getfixturevalue("tls_pair") if close == "tls" else (None, True)
    with raw_server(_ok, answers_per_connection=1, reset=close == "reset", tls=server_tls) as (url, accepted):
        pool = client(url, width=1, verify=bundle)
        for _ in range(2):
            if many:
                assert set(_answers(pool, paths).values()) == {(200, b"{}")}
            else:
                for path in paths:
                    assert pool.get(path, time.monotonic() + 5) == Answer(200, b"{}")
        pool.close()
    # four answers, one per connection: every reuse met a dropped connection and went again on a new one
    assert accepted[0] == 4


def test_a_request_is_sent_at_most_twice_and_never_once_its_answer_began() -> None:
    def fetch(pool: HttpClient, path: str) -> object:
        try:
            return pool.get(path, time.monotonic() + 5)
        except HttpError as exc:
            return exc

    with raw_server(_ok, answers_per_connection=1) as (url, accepted):
        pool = client(url)
        assert fetch(pool, "/a") == Answer(200, b"{}")
        # reused and dropped, then the new connection closes without an answer too: no third attempt
        assert str(fetch(pool, "/gone")) == "the server closed the connection"
        assert accepted[0] == 2
        pool.close()
    with raw_server(_ok) as (url, accepted):
        pool = client(url)
        assert fetch(pool, "/a") == Answer(200, b"{}")
        # the reused connection began to answer, then closed: that answer is cut off, not sent again
        assert str(fetch(pool, "/cut")) == "the response was cut off"
        assert accepted[0] == 1
        pool.close()
