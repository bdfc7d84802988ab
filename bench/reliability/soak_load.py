#!/usr/bin/env python3
"""Churn load for bench/soak.sh: connects and closes, mixed sizes, resets, half-closes, TLS and plain.

    python3 soak_load.py --tcp PORT --tls PORT --seconds N [--workers 16] [--stats FILE]

Each worker loops until the time is up, picking one of:
  echo      connect (plain or TLS), send 1 B..256 KiB of random bytes in random pieces, read the echo, compare
  halfclose send, shut the write side (FIN), read until the server closes, compare
  reset     send part of a message, then close with SO_LINGER 0 (RST) before reading it all
  idle      connect and close at once
Writes a JSON line of totals to --stats every second (ops, bytes, mismatches, errors) and at the end.
A mismatch is an echo whose bytes differ from what was sent; an error is any failure not provoked (resets are).
"""
import argparse, asyncio, json, os, random, socket, ssl, struct, sys, time

ap = argparse.ArgumentParser()
ap.add_argument("--tcp", type=int, required=True)
ap.add_argument("--tls", type=int, required=True)
ap.add_argument("--seconds", type=float, required=True)
ap.add_argument("--workers", type=int, default=16)
ap.add_argument("--stats", default="/dev/stdout")
a = ap.parse_args()

ctx = ssl.create_default_context()
ctx.check_hostname = False
ctx.verify_mode = ssl.CERT_NONE
totals = {"ops": 0, "echo": 0, "halfclose": 0, "reset": 0, "idle": 0, "tls": 0, "bytes": 0, "mismatches": 0, "errors": 0, "last_error": ""}
SIZES = [1, 7, 64, 512, 1400, 4096, 16384, 65536, 262144]

async def open_conn(tls):
    if tls:
        return await asyncio.wait_for(asyncio.open_connection("127.0.0.1", a.tls, ssl=ctx, server_hostname="localhost"), 10)
    return await asyncio.wait_for(asyncio.open_connection("127.0.0.1", a.tcp), 10)

async def echo(tls, half_close):
    reader, writer = await open_conn(tls)
    try:
        size = random.choice(SIZES)
        data = os.urandom(size)
        async def send():
            i = 0
            while i < size:
                n = random.randint(1, max(1, size // 3))
                writer.write(data[i:i + n])
                await writer.drain()
                i += n
            if half_close:
                writer.write_eof()
        sender = asyncio.create_task(send())
        got = await asyncio.wait_for(reader.readexactly(size), 30)
        await sender
        if half_close:
            rest = await asyncio.wait_for(reader.read(), 30)  # the server closes after echoing everything
            if rest:
                totals["mismatches"] += 1
        if got != data:
            totals["mismatches"] += 1
        totals["bytes"] += size
    finally:
        writer.close()
        try:
            await writer.wait_closed()
        except (ConnectionError, ssl.SSLError, OSError):
            pass

async def reset():
    reader, writer = await open_conn(False)
    writer.write(os.urandom(random.choice(SIZES[3:])))
    await writer.drain()
    sock = writer.get_extra_info("socket")
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
    writer.transport.abort()  # RST with unread echo in flight

async def idle(tls):
    _, writer = await open_conn(tls)
    writer.close()
    try:
        await writer.wait_closed()
    except (ConnectionError, ssl.SSLError, OSError):
        pass

async def worker(deadline):
    while time.monotonic() < deadline:
        kind = random.choices(["echo", "halfclose", "reset", "idle"], [60, 15, 15, 10])[0]
        # asyncio cannot half-close a TLS stream (no write_eof over SSL): resets and half-closes are plain TCP.
        tls = kind in ("echo", "idle") and random.random() < 0.4
        try:
            if kind == "echo":
                await echo(tls, False)
            elif kind == "halfclose":
                await echo(tls, True)
            elif kind == "reset":
                await reset()
            else:
                await idle(tls)
            totals[kind] += 1
            totals["tls"] += tls
            totals["ops"] += 1
        except Exception as ex:  # anything not provoked is counted and shown
            totals["errors"] += 1
            totals["last_error"] = f"{kind}{' tls' if tls else ''}: {type(ex).__name__}: {ex}"[:200]

async def reporter(deadline):
    with open(a.stats, "a") as f:
        while time.monotonic() < deadline:
            await asyncio.sleep(1)
            f.write(json.dumps(totals) + "\n"); f.flush()

async def main():
    deadline = time.monotonic() + a.seconds
    await asyncio.gather(reporter(deadline), *(worker(deadline) for _ in range(a.workers)))
    with open(a.stats, "a") as f:
        f.write(json.dumps(totals) + "\n")

asyncio.run(main())
sys.exit(1 if totals["mismatches"] or totals["errors"] else 0)
