"""Bytes written to a server as they are, and the responses read back off the same connection."""

from __future__ import annotations

import http.client
import socket
from dataclasses import dataclass
from typing import BinaryIO


@dataclass
class RawResponse:
    status: int
    headers: http.client.HTTPMessage
    body: bytes


def _read_response(reader: BinaryIO) -> RawResponse | None:
    line = reader.readline()
    if not line:
        return None
    status = int(line.split()[1])
    headers = http.client.parse_headers(reader)  # type: ignore[arg-type]
    body = reader.read(int(headers.get("Content-Length") or 0))
    return RawResponse(status, headers, body)


def exchange(address: tuple[str, int], data: bytes, timeout: float = 10.0) -> list[RawResponse]:
    """Send ``data`` on one connection, then read every response until the server closes it.

    A server that keeps the connection open makes this fail after ``timeout`` seconds: end the last request with
    ``Connection: close``.
    """
    responses = []
    with socket.create_connection(address, timeout=timeout) as sock:
        sock.sendall(data)
        with sock.makefile("rb") as reader:
            try:
                while (response := _read_response(reader)) is not None:
                    responses.append(response)
            except ConnectionResetError:
                pass  # a server that closes with our unread bytes in its buffer resets; what came before counts
    return responses
