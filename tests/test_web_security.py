"""The exporter's own endpoint: HTTPS, client certificates and Basic auth from a users file of salted hashes."""

from __future__ import annotations

import io
import logging
import socket
import ssl
import statistics
import struct
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
import requests

from exporter.cli import main
from exporter.commands.exitcodes import ExitCode
from exporter.errors import UsageError
from exporter.scrape.scraper import Scraper
from exporter.scrape.watcher import ConfigWatcher
from exporter.sources.dump import DumpSource
from exporter.web.auth import Users, hash_password, verify_password
from exporter.web.server import MAX_CONNECTIONS, MAX_DISCARDED_BODY, ExporterServer, tls_context
from tests.helpers.certs import self_signed
from tests.helpers.pool_target import BODY, RULES
from tests.helpers.raw_http import exchange
from tests.helpers.waiting import run_in_threads, wait_until


def make_cert(directory: Path, name: str) -> tuple[str, str]:
    cert, key = self_signed(directory, name)
    return str(cert), str(key)


@pytest.fixture(scope="module")
def certs(tmp_path_factory: pytest.TempPathFactory) -> dict[str, tuple[str, str]]:
    directory = tmp_path_factory.mktemp("web-tls")
    return {"server": make_cert(directory, "server"), "client": make_cert(directory, "client")}


def serve(tmp_path: Path, users: Users | None = None, tls: ssl.SSLContext | None = None) -> ExporterServer:
    (tmp_path / "rules.yml").write_text(RULES)
    (tmp_path / "dump.json").write_bytes(BODY)
    scraper = Scraper(ConfigWatcher(tmp_path / "rules.yml"), DumpSource(tmp_path / "dump.json"))
    server = ExporterServer(("127.0.0.1", 0), scraper, users=users, tls=tls)
    server.serve_in_thread()
    return server


@pytest.fixture
def stop() -> Iterator[list[ExporterServer]]:
    servers: list[ExporterServer] = []
    yield servers
    for server in servers:
        server.shutdown()
        server.server_close()


def test_password_hashes_are_salted_and_verify() -> None:
    first, second = hash_password("pw", iterations=1000), hash_password("pw", iterations=1000)
    assert first != second
    assert first.startswith("pbkdf2_sha256$1000$")
    assert verify_password("pw", first) and not verify_password("other", first)


def test_basic_auth_guards_everything_but_healthz(tmp_path: Path, stop: list[ExporterServer]) -> None:
    users_file = tmp_path / "users"
    users_file.write_text(f"# scrapers\nprometheus:{hash_password('s3cret', iterations=1000)}\n")
    server = serve(tmp_path, users=Users.load(users_file))
    stop.append(server)
    assert requests.get(server.url + "/healthz", timeout=10).status_code == 200
    for path in ("/metrics", "/", "/ready"):
        denied = requests.get(server.url + path, timeout=10)
        assert denied.status_code == 401
        assert denied.headers["WWW-Authenticate"].startswith("Basic realm=")
    assert requests.get(server.url + "/metrics", auth=("prometheus", "wrong"), timeout=10).status_code == 401
    assert requests.get(server.url + "/metrics", auth=("nobody", "s3cret"), timeout=10).status_code == 401
    ok = requests.get(server.url + "/metrics", auth=("prometheus", "s3cret"), timeout=10)
    assert ok.status_code == 200
    assert "trino_clustermemorypool_general_FreeDistributedBytes 1024.0" in ok.text


@pytest.mark.parametrize(
    ("content", "message"),
    [
        ("prometheus:plaintext\n", "users:1: the password of 'prometheus' is not a pbkdf2_sha256 hash"),
        ("\n# only a comment\nno-colon\n", "users:3: expected 'user:hash'"),
        ("# nobody\n", "users: no users"),
    ],
)
def test_bad_users_files_are_refused_with_the_line(tmp_path: Path, content: str, message: str) -> None:
    path = tmp_path / "users"
    path.write_text(content)
    with pytest.raises(UsageError, match=message):
        Users.load(path)


def test_https_and_client_certificates(tmp_path: Path, certs: dict[str, tuple[str, str]],
                                       stop: list[ExporterServer]) -> None:
    server = serve(tmp_path, tls=tls_context(*certs["server"], client_ca=certs["client"][0]))
    stop.append(server)
    assert server.url.startswith("https://")
    with pytest.raises(requests.exceptions.SSLError):
        requests.get(server.url + "/metrics", verify=certs["server"][0], timeout=10)
    with_cert = requests.get(server.url + "/metrics", verify=certs["server"][0], cert=certs["client"], timeout=10)
    assert with_cert.status_code == 200
    assert "jmx_scrape_error 0.0" in with_cert.text


def test_a_client_that_never_handshakes_does_not_block_others(tmp_path: Path, certs: dict[str, tuple[str, str]],
                                                              stop: list[ExporterServer]) -> None:
    import socket

    server = serve(tmp_path, tls=tls_context(*certs["server"]))
    stop.append(server)
    host, port = server.server_address[:2]
    with socket.create_connection((host, port)):  # connects, sends nothing
        response = requests.get(server.url + "/healthz", verify=certs["server"][0], timeout=10)
    assert response.status_code == 200


def test_hash_password_command(monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.setattr("sys.stdin", io.StringIO("hunter2\n"))
    assert main(["hash-password", "prometheus"]) == ExitCode.OK
    user, _, encoded = capsys.readouterr().out.strip().partition(":")
    assert user == "prometheus"
    assert verify_password("hunter2", encoded)


def test_serve_rejects_half_a_tls_setup(tmp_path: Path, capsys: pytest.CaptureFixture[str],
                                        certs: dict[str, tuple[str, str]]) -> None:
    (tmp_path / "rules.yml").write_text(RULES)
    code = main(["serve", "--config", str(tmp_path / "rules.yml"), "--target", "x", "--web-tls-cert",
                 certs["server"][0]])
    assert code == ExitCode.USAGE
    assert "--web-tls-cert and --web-tls-key go together" in capsys.readouterr().err


def test_a_wrong_user_costs_what_a_wrong_password_costs() -> None:
    """Both are checked against a hash of the same strength, so the answer's timing does not tell names apart."""
    users = Users({"alice": hash_password("right", iterations=100_000)})

    def cost(user: str) -> float:
        times = []
        for _ in range(3):
            started = time.process_time()
            assert not users.check(user, "wrong")
            times.append(time.process_time() - started)
        return statistics.median(times)

    assert 0.5 < cost("nobody") / cost("alice") < 2.0


def test_clients_that_go_away_mid_answer_cost_one_debug_line_each(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], caplog: pytest.LogCaptureFixture,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    root = logging.getLogger()  # an earlier in-process main() may have left a handler on a stream now closed
    monkeypatch.setattr(root, "handlers", [h for h in root.handlers if type(h) is not logging.StreamHandler])
    server = serve(tmp_path)
    host, port = server.server_address[:2]
    with caplog.at_level(logging.DEBUG, logger="exporter.web.server"):
        for _ in range(30):
            sock = socket.create_connection((host, port))
            sock.sendall(b"GET /metrics HTTP/1.1\r\nHost: x\r\n\r\n")
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))  # a reset, not a FIN
            sock.close()
        assert requests.get(server.url + "/healthz", timeout=10).status_code == 200
        server.shutdown()
        server.server_close()  # joins every handler thread
    assert "Traceback" not in capsys.readouterr().err
    records = [record for record in caplog.records if record.name == "exporter.web.server"]
    assert all(record.levelno == logging.DEBUG for record in records)
    assert any("went away" in record.getMessage() for record in records)


def test_idle_connections_are_capped_and_a_scrape_still_gets_through(
    tmp_path: Path, stop: list[ExporterServer]
) -> None:
    server = serve(tmp_path)
    stop.append(server)
    host, port = server.server_address[:2]
    before = threading.active_count()
    idle = [socket.create_connection((host, port)) for _ in range(4 * MAX_CONNECTIONS)]  # connect, say nothing
    try:
        response = requests.get(server.url + "/metrics", headers={"Connection": "close"}, timeout=10)
        assert response.status_code == 200 and "jmx_scrape_error 0.0" in response.text
        assert threading.active_count() <= before + MAX_CONNECTIONS + 2  # the scrape's fetch and its own thread
    finally:
        for sock in idle:
            sock.close()
    wait_until(lambda: server.connections == 0, timeout=10, what="the handler threads to end")


SMUGGLED = b"GET / HTTP/1.1\r\nHost: x\r\n\r\n"  # the landing page (200), should a body be read as a request
LAST = b"GET /nope HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n"


def test_a_small_body_is_read_and_dropped_not_answered_as_the_next_request(
    tmp_path: Path, stop: list[ExporterServer]
) -> None:
    server = serve(tmp_path)
    stop.append(server)
    head = f"GET /healthz HTTP/1.1\r\nHost: x\r\nContent-Length: {len(SMUGGLED)}\r\n\r\n".encode()
    responses = exchange(server.server_address[:2], head + SMUGGLED + LAST)
    assert [(r.status, r.body) for r in responses] == [(200, b"ok\n"), (404, b"Not found. Try /metrics.\n")]


@pytest.mark.parametrize(
    "head",
    [f"Content-Length: {MAX_DISCARDED_BODY + 1}", "Content-Length: 1" + "0" * 5000],
    ids=["over the bound", "thousands of digits"],
)
def test_a_body_over_the_bound_is_refused_and_the_connection_closed(
    tmp_path: Path, stop: list[ExporterServer], head: str
) -> None:
    server = serve(tmp_path)
    stop.append(server)
    request = f"GET /healthz HTTP/1.1\r\nHost: x\r\n{head}\r\n\r\n".encode()
    responses = exchange(server.server_address[:2], request + SMUGGLED + LAST)
    assert [r.status for r in responses] == [413]
    assert responses[0].headers["Connection"] == "close"


def test_a_body_it_will_not_read_is_refused_before_100_continue(tmp_path: Path, stop: list[ExporterServer]) -> None:
    server = serve(tmp_path)
    stop.append(server)
    request = (f"GET /healthz HTTP/1.1\r\nHost: x\r\nExpect: 100-continue\r\n"
               f"Content-Length: {MAX_DISCARDED_BODY + 1}\r\n\r\n").encode()
    assert [r.status for r in exchange(server.server_address[:2], request)] == [413]


@pytest.mark.parametrize(
    ("headers", "problem"),
    [
        ("Transfer-Encoding: chunked", "Transfer-Encoding is not supported"),
        ("Content-Length: 27\r\nTransfer-Encoding: chunked", "Content-Length with Transfer-Encoding"),
        ("Transfer-Encoding: chunked\r\nContent-Length: 27", "Content-Length with Transfer-Encoding"),
        ("Content-Length: 27\r\nContent-Length: 0", "more than one Content-Length"),
        ("Content-Length: 27\r\nContent-Length: 27", "more than one Content-Length"),
        ("Content-Length: 27, 27", "Content-Length is not a number"),
        ("Content-Length: abc", "Content-Length is not a number"),
        ("Content-Length: -1", "Content-Length is not a number"),
        ("Content-Length: +27", "Content-Length is not a number"),
        ("Content-Length: \uff12\uff17", "Content-Length is not a number"),  # full-width digits int() would take
        ("Content-Length : 27", "malformed or folded header line"),
        ("X-Note: a\r\n Content-Length: 27", "malformed or folded header line"),
    ],
)
def test_ambiguous_framing_is_refused_and_the_connection_closed(
    tmp_path: Path, stop: list[ExporterServer], headers: str, problem: str
) -> None:
    server = serve(tmp_path)
    stop.append(server)
    request = f"GET /healthz HTTP/1.1\r\nHost: x\r\n{headers}\r\n\r\n".encode()
    responses = exchange(server.server_address[:2], request + SMUGGLED + LAST)
    assert [r.status for r in responses] == [400]
    assert responses[0].headers["Connection"] == "close"
    assert responses[0].body == f"Bad request: {problem}.\n".encode()


class CountingVerify:
    """A password check that counts how many run at once; with ``gate``, checks of other passwords than
    ``passes`` hold their turn until it is set."""

    def __init__(self, gate: threading.Event | None = None, passes: str = "") -> None:
        self.gate = gate
        self.passes = passes
        self.lock = threading.Lock()
        self.running = self.peak = self.calls = 0

    def __call__(self, password: str, encoded: str) -> bool:
        with self.lock:
            self.running += 1
            self.calls += 1
            self.peak = max(self.peak, self.running)
        try:
            if self.gate is not None and password != self.passes:
                assert self.gate.wait(30), "the test never opened the gate"
            return verify_password(password, encoded)
        finally:
            with self.lock:
                self.running -= 1


def test_concurrent_wrong_passwords_run_no_more_checks_at_once_than_the_bound(
    tmp_path: Path, stop: list[ExporterServer]
) -> None:
    verify = CountingVerify()
    users = Users({"prometheus": hash_password("s3cret", iterations=20_000)}, verify=verify, max_verifications=2,
                  verification_wait=30.0)  # fmt: skip
    server = serve(tmp_path, users=users)
    stop.append(server)
    statuses: list[int] = []
    start = threading.Barrier(12)
    names = iter(["prometheus", "nobody"] * 6)  # unknown names take the same turns

    def guess() -> None:
        user = next(names)
        with requests.Session() as session:
            start.wait(10)
            for attempt in range(4):
                statuses.append(session.get(server.url + "/metrics", auth=(user, f"guess{attempt}"), timeout=60)
                                .status_code)  # fmt: skip

    run_in_threads(guess, 12, timeout=120)
    assert statuses == [401] * 48  # the wait was long enough for every check to have its turn
    assert verify.calls == 48
    assert verify.peak <= 2


def test_guessers_holding_every_check_are_refused_unchecked_and_a_verified_scraper_still_gets_in(
    tmp_path: Path, stop: list[ExporterServer], caplog: pytest.LogCaptureFixture
) -> None:
    gate = threading.Event()
    verify = CountingVerify(gate, passes="s3cret")
    users = Users({"prometheus": hash_password("s3cret", iterations=1000)}, verify=verify, max_verifications=1,
                  verification_wait=0.2)  # fmt: skip
    server = serve(tmp_path, users=users)
    stop.append(server)
    url = server.url + "/metrics"
    scraper = requests.Session()
    holder: list[int] = []
    holding = threading.Thread(target=lambda: holder.append(
        requests.get(url, auth=("prometheus", "guess"), timeout=60).status_code))
    try:
        assert scraper.get(url, auth=("prometheus", "s3cret"), timeout=10).status_code == 200  # now verified
        holding.start()
        wait_until(lambda: verify.running == 1, what="a guess to hold the only check")
        with caplog.at_level(logging.WARNING, logger="exporter.web.server"):
            refused = [requests.get(url, auth=auth, timeout=10) for auth in
                       [("prometheus", "guess2"), ("nobody", "guess"), ("prometheus", "guess3")]]  # fmt: skip
        assert [r.status_code for r in refused] == [503] * 3
        assert all(r.headers["Retry-After"] == "1" for r in refused)
        assert verify.running == 1 and verify.calls == 2  # refused while the guess still held it, and unchecked
        scrape = scraper.get(url, auth=("prometheus", "s3cret"), timeout=10)
        assert scrape.status_code == 200 and "jmx_scrape_error 0.0" in scrape.text
        assert verify.running == 1 and verify.calls == 2
    finally:
        gate.set()
        if holding.ident is not None:
            holding.join(30)
        scraper.close()
    assert holder == [401]
    warnings = [r for r in caplog.records if r.name == "exporter.web.server" and r.levelno == logging.WARNING]
    assert len(warnings) == 1
    assert "answered 503 without checking the password: no password check came free within 0.2s" in (
        warnings[0].getMessage())
