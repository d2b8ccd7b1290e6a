"""Interop peer for sock-websocket's tests: the Python `websockets` package.

    python peer_websockets.py server [CERT KEY]   # prints "PORT n", serves until stdin closes
    python peer_websockets.py client URI [CAFILE] # runs the script below, prints "OK" or fails
    python peer_websockets.py deflate-client URI  # compressed messages; prints "OK" or fails

Both ends have permessage-deflate on, as websockets has by default (its
server asks for windows of 2^12 bytes both ways).

The server echoes each message with its type, offers the subprotocol "chat",
pings every 50 ms (a client that does not answer is closed with 1011), and
answers the text "close-me" by closing with 4001 "as asked".
"""

import asyncio
import ssl
import sys

from websockets.asyncio.client import connect
from websockets.asyncio.server import serve
from websockets.exceptions import ConnectionClosed

MAX = 32 * 1024 * 1024


async def echo(ws):
    async for message in ws:
        if message == "close-me":
            await ws.close(4001, "as asked")
            return
        await ws.send(message)


async def run_server(cert, key):
    ctx = None
    if cert:
        ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        ctx.load_cert_chain(cert, key)
    async with serve(
        echo,
        "127.0.0.1",
        0,
        subprotocols=["chat"],
        max_size=MAX,
        ping_interval=0.05,
        ping_timeout=5,
        ssl=ctx,
    ) as server:
        port = server.sockets[0].getsockname()[1]
        print(f"PORT {port}", flush=True)
        # Serve until the test closes our stdin (or ends).
        await asyncio.get_running_loop().run_in_executor(None, sys.stdin.read)


def check(cond, what):
    if not cond:
        raise SystemExit(f"check failed: {what}")


async def run_client(uri, cafile):
    ctx = ssl.create_default_context(cafile=cafile) if uri.startswith("wss") else None
    async with connect(uri, subprotocols=["chat"], max_size=MAX, ssl=ctx) as ws:
        check(ws.subprotocol == "chat", f"subprotocol {ws.subprotocol!r}")
        for message in [
            "hello",
            "",
            "wörld €𝄞",
            b"",
            b"\x00\xff" * 35000,
            bytes(range(256)) * 65536,  # 16 MiB
        ]:
            await ws.send(message)
            echoed = await ws.recv()
            check(echoed == message, f"echo of a {type(message).__name__} of {len(message)}")
        await ws.send(["frag", "men", "ted"])
        check(await ws.recv() == "fragmented", "fragmented text")
        await ws.send([b"ab", b"", b"cd"])
        check(await ws.recv() == b"abcd", "fragmented binary")
        pong = await ws.ping(b"ping!")
        await asyncio.wait_for(pong, 5)
        await ws.close(1000, "bye")
        check(ws.close_code == 1000, f"close code {ws.close_code}")
    async with connect(uri, subprotocols=["chat"], ssl=ctx) as ws:
        await ws.send("close-me")
        try:
            await ws.recv()
            check(False, "a message after close-me")
        except ConnectionClosed as e:
            check(e.rcvd is not None, "no close frame received")
            check((e.rcvd.code, e.rcvd.reason) == (4001, "as asked"), f"close {e.rcvd}")
    print("OK", flush=True)


def json_lines(size):
    """About `size` bytes of JSON lines, as chat and telemetry send."""
    out, i = [], 0
    total = 0
    while total < size:
        line = f'{{"seq":{i},"sensor":"probe-{i % 10}","ok":true}}\n'
        out.append(line)
        total += len(line)
        i += 1
    return "".join(out)[:size]


async def run_deflate_client(uri):
    async with connect(uri, max_size=MAX) as ws:
        names = [extension.name for extension in ws.protocol.extensions]
        check(names == ["permessage-deflate"], f"extensions {names}")
        text = json_lines(1 << 20)
        for message in ["", "hello", text, text.encode(), bytes(range(256)) * 256]:
            await ws.send(message)
            echoed = await ws.recv()
            check(echoed == message, f"echo of a {type(message).__name__} of {len(message)}")
        await ws.send([text[:1000], text[1000:5000], text[5000:]])
        check(await ws.recv() == text, "fragmented compressed text")
        await ws.close(1000, "bye")
        check(ws.close_code == 1000, f"close code {ws.close_code}")
    print("OK", flush=True)


def main():
    role = sys.argv[1]
    if role == "deflate-client":
        asyncio.run(asyncio.wait_for(run_deflate_client(sys.argv[2]), 60))
    elif role == "server":
        cert, key = (sys.argv[2], sys.argv[3]) if len(sys.argv) > 3 else (None, None)
        asyncio.run(run_server(cert, key))
    else:
        cafile = sys.argv[3] if len(sys.argv) > 3 else None
        asyncio.run(asyncio.wait_for(run_client(sys.argv[2], cafile), 60))


main()
