"""One HTTP/1.1 request written byte for byte on a socket.

aiohttp's client refuses header values that are not plain text, but anyone on the internet can
send any bytes; this is how a test sends them and reads the status line back.
"""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from urllib.parse import urlsplit


async def raw_request(
    url: str,
    *,
    method: str = "POST",
    headers: Sequence[tuple[bytes, bytes]] = (),
    body: bytes = b"",
) -> tuple[int, bytes]:
    """Send one request with exactly these header bytes; returns (status, body as sent)."""
    parts = urlsplit(url)
    host, port = parts.hostname or "127.0.0.1", parts.port or 80
    reader, writer = await asyncio.open_connection(host, port)
    try:
        lines = [f"{method} {parts.path or '/'} HTTP/1.1".encode(), f"Host: {host}:{port}".encode()]
        lines += [name + b": " + value for name, value in headers]
        lines += [f"Content-Length: {len(body)}".encode(), b"Connection: close"]
        writer.write(b"\r\n".join(lines) + b"\r\n\r\n" + body)
        await writer.drain()
        answer = await reader.read()  # the server closes: Connection: close
    finally:
        writer.close()
        await writer.wait_closed()
    head, _, content = answer.partition(b"\r\n\r\n")
    status = int(head.split(b" ", 2)[1])
    return status, content
