"""The REST source's HTTP behaviour against a real server on 127.0.0.1: auth, TLS, deadlines, caps, missing beans."""

from __future__ import annotations

import base64
import logging
import os
import socket
import ssl
import time
from pathlib import Path

import orjson
import pytest

from exporter.sources.base import BeanRequest, SourceError
from exporter.sources.rest.settings import HttpSettings
from exporter.sources.rest.source import RestSource, base_url, redact
from tests.helpers.canned_server import CannedServer, Reply
from tests.helpers.certs import self_signed
from tests.helpers.waiting import run_in_threads

POOL = "trino.memory:type=ClusterMemoryPool,name=general"
POOL_BEAN = {
    "objectName": POOL,
    "attributes": [{"name": "FreeDistributedBytes", "type": "long", "value": 1024}],
}
LIST_BODY = orjson.dumps([POOL_BEAN])


def list_answer(path: str) -> Reply:
    return Reply(body=LIST_BODY, headers={"Content-Type": "application/json"})


def fetch_all(source: RestSource, budget: float = 5.0):
    return source.fetch(BeanRequest(), time.monotonic() + budget)


def test_full_list_is_fetched_with_the_user_header() -> None:
    with CannedServer(list_answer) as server:
        source = RestSource(server.url, HttpSettings(user="exporter"))
        snapshot = fetch_all(source)
        source.close()
    assert [b.object_name for b in snapshot.beans] == [POOL]
    assert snapshot.bytes_read == len(LIST_BODY)
    assert server.seen[0].path == "/v1/jmx/mbean"
    assert server.seen[0].headers["x-trino-user"] == "exporter"
    assert "authorization" not in server.seen[0].headers


@pytest.mark.parametrize(
    ("settings", "sent"),
    [
        (HttpSettings(), "presto-jmx-exporter"),  # Trino over plain HTTP wants a user, and any name does
        (HttpSettings(user="ops"), "ops"),
        (HttpSettings(user="ops", password="pw"), "ops"),
        (HttpSettings(bearer_token_file=Path("token")), None),  # a token names the user itself
    ],
    ids=["default", "given", "basic", "bearer"],
)
def test_a_user_is_sent_unless_credentials_name_one(
    settings: HttpSettings, sent: str | None, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    (tmp_path / "token").write_text("tok\n")
    with CannedServer(list_answer) as server:
        source = RestSource(server.url, settings)
        fetch_all(source)
        source.close()
    assert server.seen[0].headers.get("x-trino-user") == sent


def test_a_server_without_the_jmx_route_says_which_target_works() -> None:
    with CannedServer(lambda path: Reply(404, b"Not Found")) as server:
        source = RestSource(server.url)
        with pytest.raises(SourceError) as whole:
            fetch_all(source)
        with pytest.raises(SourceError) as named:
            source.fetch(BeanRequest(("a:b=c", "a:b=d")), time.monotonic() + 5)
        source.close()
    works = ("read its /metrics instead (--source native; the default, --source auto, switches to it by itself when "
             "/metrics answers OpenMetrics), or its MBeans over JMX: --target jmx://HOST:9080, with "
             "jmx.rmiregistry.port=9080 in the server's config.properties")
    assert str(whole.value) == (f"{server.url}/v1/jmx/mbean: HTTP 404: this server does not serve /v1/jmx (Trino 480 "
                                f"and later removed it); {works}")
    assert str(named.value) == (f"{server.url}: none of the 2 requested MBeans exists on the target: each answered "
                                f"HTTP 404, as a server without /v1/jmx does (Trino 480 and later removed it); {works}")


def test_presto_user_header_and_basic_auth() -> None:
    with CannedServer(list_answer) as server:
        source = RestSource(server.url + "/v1/jmx/mbean/", HttpSettings(user="ops", user_header="X-Presto-User",
                                                                         password="s3cret"))
        fetch_all(source)
        source.close()
    headers = server.seen[0].headers
    assert headers["x-presto-user"] == "ops"
    assert headers["authorization"] == "Basic " + base64.b64encode(b"ops:s3cret").decode()


def test_bearer_token_is_reread_when_the_file_changes(tmp_path: Path) -> None:
    token = tmp_path / "token"
    token.write_text("first\n")
    with CannedServer(list_answer) as server:
        source = RestSource(server.url, HttpSettings(bearer_token_file=token))
        fetch_all(source)
        token.write_text("second-token\n")
        os.utime(token, ns=(time.time_ns() + 10**9, time.time_ns() + 10**9))
        fetch_all(source)
        source.close()
    assert [s.headers["authorization"] for s in server.seen] == ["Bearer first", "Bearer second-token"]


def test_unreadable_token_file_is_a_scrape_error_that_names_it(tmp_path: Path) -> None:
    source = RestSource("http://127.0.0.1:9", HttpSettings(bearer_token_file=tmp_path / "missing"))
    with pytest.raises(SourceError, match=r"cannot read the bearer token file .*missing"):
        fetch_all(source)


@pytest.mark.parametrize("content", ["one\ntwo\n", "one two", "caf\u00e9", "a\x00b"])
def test_a_token_file_with_more_than_one_token_is_a_scrape_error_that_names_it(tmp_path: Path, content: str) -> None:
    token = tmp_path / "token"
    token.write_text(content)
    with CannedServer(lambda path: Reply(body=orjson.dumps(POOL_BEAN))) as server:
        source = RestSource(server.url, HttpSettings(bearer_token_file=token))
        with pytest.raises(SourceError, match=f"the bearer token file {token} holds more than one token"):
            source.fetch(BeanRequest((POOL,)), time.monotonic() + 5)
        with pytest.raises(SourceError, match="put the token alone on one line"):
            source.fetch(BeanRequest((POOL,)), time.monotonic() + 5)  # the file as read stays refused
        assert server.seen == []
        token.write_text("mended\n")
        os.utime(token, ns=(time.time_ns() + 10**9, time.time_ns() + 10**9))
        assert len(source.fetch(BeanRequest((POOL,)), time.monotonic() + 5).beans) == 1
        source.close()
    assert [seen.headers["authorization"] for seen in server.seen] == ["Bearer mended"]


def test_beans_asked_for_by_name_carry_the_same_headers(tmp_path: Path) -> None:
    def answer(path: str) -> Reply:
        return Reply(body=orjson.dumps(POOL_BEAN))

    token = tmp_path / "token"
    token.write_text("tok\n")
    with CannedServer(answer) as server:
        basic = RestSource(server.url, HttpSettings(user="ops", user_header="X-Presto-User", password="s3cret"))
        basic.fetch(BeanRequest((POOL,)), time.monotonic() + 5)
        basic.close()
        bearer = RestSource(server.url, HttpSettings(user="exporter", bearer_token_file=token))
        bearer.fetch(BeanRequest((POOL,)), time.monotonic() + 5)
        bearer.close()
    first, second = (seen.headers for seen in server.seen)
    assert first["x-presto-user"] == "ops"
    assert first["authorization"] == "Basic " + base64.b64encode(b"ops:s3cret").decode()
    assert second["x-trino-user"] == "exporter" and second["authorization"] == "Bearer tok"
    for headers in (first, second):
        assert headers["host"] == server.url.removeprefix("http://")
        assert headers["accept"] == "application/json" and headers["user-agent"] == "presto-jmx-exporter"
        assert headers["accept-encoding"] == "identity"


def test_named_beans_are_fetched_one_by_one_and_missing_ones_are_skipped() -> None:
    def answer(path: str) -> Reply:
        if path.endswith("ClusterMemoryPool%2Cname%3Dgeneral"):
            return Reply(body=orjson.dumps(POOL_BEAN))
        return Reply(500, b"javax.management.InstanceNotFoundException: presto.memory:name=X\n\tat ...")

    with CannedServer(answer) as server:
        source = RestSource(server.url)
        snapshot = source.fetch(BeanRequest((POOL, "presto.memory:name=X")), time.monotonic() + 5)
        source.close()
    assert [b.object_name for b in snapshot.beans] == [POOL]
    assert sorted(s.path for s in server.seen) == [
        "/v1/jmx/mbean/presto.memory%3Aname%3DX",
        "/v1/jmx/mbean/trino.memory%3Atype%3DClusterMemoryPool%2Cname%3Dgeneral",
    ]


def test_all_named_beans_missing_is_an_error() -> None:
    with CannedServer(lambda path: Reply(500, b"javax.management.InstanceNotFoundException: a:b=c")) as server:
        source = RestSource(server.url)
        with pytest.raises(SourceError, match="none of the 2 requested MBeans exists"):
            source.fetch(BeanRequest(("a:b=c", "a:b=d")), time.monotonic() + 5)
        source.close()


@pytest.mark.parametrize(
    ("status", "message"),
    [
        (401, r"HTTP 401 \(the server wants credentials: --user with --password-file, or --bearer-token-file; "
              r"PrestoSQL reads the user from X-Presto-User: --user-header X-Presto-User\): Basic authentication or "
              r"X-Trino-User must be sent"),
        (403, r"HTTP 403 \(the user lacks permission"),
        (503, r"HTTP 503: Basic authentication"),
    ],
)
def test_http_errors_are_explained(status: int, message: str) -> None:
    body = b"Basic authentication or X-Trino-User must be sent"
    with CannedServer(lambda path: Reply(status, body)) as server:
        source = RestSource(server.url)
        with pytest.raises(SourceError, match=message):
            fetch_all(source)
        source.close()


def test_a_slow_server_is_cut_off_at_the_deadline() -> None:
    with CannedServer(list_answer) as server:
        server.answer = lambda path: Reply(body=LIST_BODY, before_body=lambda: server.release.wait(30))
        source = RestSource(server.url)
        started = time.monotonic()
        with pytest.raises(SourceError, match="timed out"):
            fetch_all(source, budget=0.5)
        elapsed = time.monotonic() - started
        source.close()
    assert elapsed < 2.0


def test_body_cap_by_content_length_and_by_streamed_size() -> None:
    big = b"[" + b" " * 5000 + b"]"
    with CannedServer(lambda path: Reply(body=big)) as server:
        source = RestSource(server.url, HttpSettings(max_body_bytes=1000))
        with pytest.raises(SourceError, match="body of 5002 bytes exceeds the cap of 1000 bytes"):
            fetch_all(source)
        source.close()
    # a chunked answer without Content-Length is capped while streaming
    with CannedServer(lambda path: Reply(body=_chunked(big), headers={"Transfer-Encoding": "chunked"})) as server:
        source = RestSource(server.url, HttpSettings(max_body_bytes=1000))
        with pytest.raises(SourceError, match="body exceeds the cap of 1000 bytes"):
            fetch_all(source)
        source.close()


def _chunked(data: bytes) -> bytes:
    return f"{len(data):x}\r\n".encode() + data + b"\r\n0\r\n\r\n"


def test_a_server_error_on_every_bean_is_not_called_missing_beans() -> None:
    with CannedServer(lambda path: Reply(500, b"java.lang.NullPointerException: boom\n\tat io.airlift")) as server:
        source = RestSource(server.url)
        with pytest.raises(SourceError) as raised:
            source.fetch(BeanRequest(("a:b=one", "a:b=two", "a:b=three")), time.monotonic() + 5)
        source.close()
    assert str(raised.value) == (f"{server.url}: none of the 3 requested MBeans could be read: each answered with a "
                                 "server error (HTTP 500: java.lang.NullPointerException: boom)")


def test_connection_refused_is_one_short_line() -> None:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    source = RestSource(f"http://127.0.0.1:{port}")
    with pytest.raises(SourceError) as caught:
        fetch_all(source)
    source.close()
    assert str(caught.value) == f"http://127.0.0.1:{port}/v1/jmx/mbean: cannot connect: Connection refused"


def test_target_urls_are_normalised() -> None:
    assert base_url("http://coordinator:8080/") == "http://coordinator:8080"
    assert base_url("https://c:8443/v1/jmx/mbean") == "https://c:8443"
    with pytest.raises(ValueError, match="not an http"):
        base_url("ftp://c")


@pytest.fixture(scope="module")
def certificates(tmp_path_factory: pytest.TempPathFactory) -> dict[str, tuple[Path, Path]]:
    directory = tmp_path_factory.mktemp("tls")
    return {"server": self_signed(directory, "server"), "client": self_signed(directory, "client")}


def _server_context(certificates: dict[str, tuple[Path, Path]], client_ca: bool = False) -> ssl.SSLContext:
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(*certificates["server"])
    if client_ca:
        context.verify_mode = ssl.CERT_REQUIRED
        context.load_verify_locations(certificates["client"][0])
    return context


def test_tls_is_verified_against_the_ca_bundle(certificates: dict[str, tuple[Path, Path]]) -> None:
    with CannedServer(list_answer, tls=_server_context(certificates)) as server:
        trusted = RestSource(server.url, HttpSettings(ca_bundle=str(certificates["server"][0])))
        assert len(fetch_all(trusted).beans) == 1
        trusted.close()
        untrusted = RestSource(server.url)
        with pytest.raises(SourceError, match="TLS error"):
            fetch_all(untrusted)
        untrusted.close()
        insecure = RestSource(server.url, HttpSettings(verify_tls=False))
        assert len(fetch_all(insecure).beans) == 1
        insecure.close()


def test_client_certificate_for_mutual_tls(certificates: dict[str, tuple[Path, Path]]) -> None:
    cert, key = certificates["client"]
    with CannedServer(list_answer, tls=_server_context(certificates, client_ca=True)) as server:
        with_cert = RestSource(server.url, HttpSettings(ca_bundle=str(certificates["server"][0]),
                                                       client_cert=str(cert), client_key=str(key)))
        assert len(fetch_all(with_cert).beans) == 1
        with_cert.close()
        without = RestSource(server.url, HttpSettings(ca_bundle=str(certificates["server"][0])))
        with pytest.raises(SourceError):
            fetch_all(without)
        without.close()


def test_parallel_fetches_share_the_source_safely() -> None:
    with CannedServer(list_answer) as server:
        source = RestSource(server.url)
        errors: list[BaseException] = []

        def work() -> None:
            try:
                for _ in range(5):
                    assert len(fetch_all(source).beans) == 1
            except BaseException as exc:  # collected and asserted below
                errors.append(exc)

        run_in_threads(work, 8)
        source.close()
    assert errors == []
    assert len(server.seen) == 40


def test_named_beans_over_tls_many_at_once(certificates: dict[str, tuple[Path, Path]]) -> None:
    # A big bean spans many TLS records, each read on its own.
    big = {"objectName": "a:name=Big", "attributes": [
        {"name": f"A{i}", "type": "long", "value": i} for i in range(20_000)
    ]}  # fmt: skip
    names = [f"a:name=B{i}" for i in range(9)] + ["a:name=Big"]

    def answer(path: str) -> Reply:
        if path.endswith("Big"):
            return Reply(body=orjson.dumps(big))
        name = path.rsplit("%3D", 1)[1]
        return Reply(body=orjson.dumps({"objectName": f"a:name={name}", "attributes": [
            {"name": "Count", "type": "long", "value": 1}]}))

    with CannedServer(answer, tls=_server_context(certificates)) as server:
        trusted = RestSource(server.url, HttpSettings(ca_bundle=str(certificates["server"][0]), parallelism=4))
        snapshot = trusted.fetch(BeanRequest(tuple(names)), time.monotonic() + 10)
        trusted.close()
        untrusted = RestSource(server.url, HttpSettings(parallelism=4))
        with pytest.raises(SourceError, match="TLS error"):
            untrusted.fetch(BeanRequest(tuple(names)), time.monotonic() + 10)
        untrusted.close()
    assert [bean.object_name for bean in snapshot.beans] == names
    assert len(snapshot.beans[-1].attributes) == 20_000
    assert snapshot.requests == 10


def test_named_beans_chunked_capped_and_cut_off_name_the_bean() -> None:
    chunked = {"Transfer-Encoding": "chunked"}
    with CannedServer(lambda path: Reply(body=_chunked(orjson.dumps(POOL_BEAN)), headers=chunked)) as server:
        source = RestSource(server.url)
        assert [b.object_name for b in source.fetch(BeanRequest((POOL,)), time.monotonic() + 5).beans] == [POOL]
        source.close()
    big = orjson.dumps({**POOL_BEAN, "description": "x" * 5000})
    with CannedServer(lambda path: Reply(body=big)) as server:
        source = RestSource(server.url, HttpSettings(max_body_bytes=1000))
        with pytest.raises(SourceError, match=r"ClusterMemoryPool%2Cname%3Dgeneral: body of \d+ bytes exceeds"):
            source.fetch(BeanRequest((POOL, "a:b=c")), time.monotonic() + 5)
        source.close()


def test_a_bean_that_cannot_be_read_is_a_problem_and_the_others_are_kept() -> None:
    broken = {"objectName": "a:b=broken", "attributes": "not a list"}

    def answer(path: str) -> Reply:
        if path.endswith("broken"):
            return Reply(body=orjson.dumps(broken))
        if path.endswith("general"):
            return Reply(body=orjson.dumps(POOL_BEAN))
        return Reply(500, b"javax.management.InstanceNotFoundException")

    with CannedServer(answer) as server:
        source = RestSource(server.url)
        snapshot = source.fetch(BeanRequest(("a:b=missing", "a:b=broken", POOL)), time.monotonic() + 5)
        missing = r"\(each answered HTTP 500: javax.management.InstanceNotFoundException\)"
        with pytest.raises(SourceError, match="none of the 1 requested MBeans exists on the target " + missing):
            source.fetch(BeanRequest(("a:b=missing",)), time.monotonic() + 5)
        source.close()
    assert snapshot.requests == 3
    assert [bean.object_name for bean in snapshot.beans] == [POOL]
    assert len(snapshot.problems) == 1
    assert snapshot.problems[0].startswith(f"{server.url}/v1/jmx/mbean/a%3Ab%3Dbroken: ")


def test_redirects_are_not_followed() -> None:
    with CannedServer(lambda path: Reply(302, b"", headers={"Location": "http://127.0.0.2:1/elsewhere"})) as server:
        source = RestSource(server.url)
        with pytest.raises(SourceError, match="HTTP 302"):
            fetch_all(source)
        source.close()
    assert [seen.path for seen in server.seen] == ["/v1/jmx/mbean"]


def _echo(status: int) -> object:
    """An upstream that answers ``status`` with the request's headers in the body's first line, as some error pages
    and proxies do."""

    class Echo:
        def __init__(self) -> None:
            self.server: CannedServer | None = None

        def __call__(self, path: str) -> Reply:
            assert self.server is not None
            seen = self.server.seen[-1].headers
            return Reply(status, "; ".join(f"{name}: {value}" for name, value in seen.items()).encode())

    return Echo()


@pytest.mark.parametrize("named", [False, True], ids=["list", "named"])
def test_credentials_an_upstream_echoes_are_not_repeated(tmp_path: Path, named: bool) -> None:
    token = tmp_path / "token"
    token.write_text("eyJhbGciOiJIUzI1NiJ9.payload.signature\n")
    echo = _echo(502)
    basic, bearer = HttpSettings(user="ops", password="s3cret-pass"), HttpSettings(user="ops", bearer_token_file=token)
    for settings in (basic, bearer):
        with CannedServer(echo) as server:  # type: ignore[arg-type]
            echo.server = server  # type: ignore[attr-defined]
            source = RestSource(server.url, settings)
            with pytest.raises(SourceError) as caught:
                source.fetch(BeanRequest((POOL,)) if named else BeanRequest(), time.monotonic() + 5)
            source.close()
        message = str(caught.value)
        assert "HTTP 502" in message and "x-trino-user: ops" in message  # the echo is there, the secrets are not
        for secret in ("s3cret-pass", base64.b64encode(b"ops:s3cret-pass").decode(), "eyJhbGciOiJIUzI1NiJ9"):
            assert secret not in message
        assert "authorization: <redacted>" in message


def test_redaction_of_credential_looking_text() -> None:
    assert redact("Authorization: Basic b3BzOnMzY3JldA==, next") == "Authorization: <redacted>, next"
    assert redact("got bearer abc.def.ghi here") == "got bearer <redacted> here"
    assert redact("Cookie=session=1; x") == "Cookie: <redacted>; x"
    assert redact("the password is hunter2", ["hunter2"]) == "the password is <redacted>"
    assert redact("nothing to hide") == "nothing to hide"
    trino = "Basic authentication or X-Trino-User must be sent"
    assert redact(trino) == trino


def test_a_password_over_plain_http_is_warned_about_and_never_logged(caplog: pytest.LogCaptureFixture) -> None:
    with caplog.at_level(logging.WARNING, logger="exporter.sources.rest.source"):
        RestSource("http://127.0.0.1:9", HttpSettings(user="ops", password="s3cret")).close()
        RestSource("https://127.0.0.1:9", HttpSettings(user="ops", password="s3cret")).close()
    assert [record.getMessage() for record in caplog.records] == [
        "the password for http://127.0.0.1:9 is sent over plain HTTP, readable on the network: use https"
    ]
