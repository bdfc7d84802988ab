#!/usr/bin/env python3
"""N clients that send and never read, at once: does the server's memory stay bounded, and is everyone else served?

    python3 bench/reliability/never_read.py [--echokit CMD] [--clients 1000] [--buffer-size 16384] [--seconds 10]

Starts `echokit serve --tcp 127.0.0.1:0 --buffer-size B --quiet` (CMD may be a path or "dotnet .../echokit.dll"),
measures its RSS, then opens N connections with a 4 KiB receive buffer that write as much as the kernel takes and
never read an echo. The server may hold at most 4 x B per connection beyond the kernel's socket buffers (serve
--help, docs/architecture.md: it stops reading a client whose echo cannot be sent). While they are stuck it samples
the server's RSS every 100 ms for --seconds and checks the peak against

    N x 4 x B + 64 MiB        (the issue's bound: connections x the documented bound + 64 MiB)

and that another client's 64 KiB echo comes back byte-exact. Prints the numbers; exit 0 when both hold, 3 when the
bound is breached or the other client is not served, 1 on any other failure. The server is always stopped.
"""
import argparse, os, re, shlex, socket, subprocess, sys, time
from procstat import rss_kib

ap = argparse.ArgumentParser()
ap.add_argument("--echokit", default=os.path.join(os.path.dirname(__file__), "..", ".build", "echokit", "echokit"))
ap.add_argument("--clients", type=int, default=1000)
ap.add_argument("--buffer-size", type=int, default=16384)
ap.add_argument("--seconds", type=float, default=10)
a = ap.parse_args()

server = subprocess.Popen(shlex.split(a.echokit) + ["serve", "--tcp", "127.0.0.1:0", "--buffer-size", str(a.buffer_size), "--quiet"],
                          stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
clients = []
code = 1
try:
    line = server.stdout.readline()
    m = re.search(r"listening tcp://127\.0\.0\.1:(\d+)", line)
    if not m:
        print(f"never_read: the server did not start: {line.strip()} {server.stderr.read().strip()}", file=sys.stderr)
        sys.exit(1)
    port = int(m.group(1))
    # Warm the server (JIT, pools) with one echo before the baseline.
    with socket.create_connection(("127.0.0.1", port), timeout=10) as s:
        s.sendall(b"warm"); s.recv(16)
    time.sleep(0.5)
    base_kib = rss_kib(server.pid)

    chunk = b"\x5a" * 65536
    for _ in range(a.clients):
        s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
        s.connect(("127.0.0.1", port))
        s.setblocking(False)
        clients.append(s)
    # Write until no client's kernel takes another byte: every connection is stuck with echo nobody reads.
    sent = 0
    rounds = 0
    while True:
        moved = 0
        for s in clients:
            try:
                while True:
                    n = s.send(chunk)
                    moved += n
            except BlockingIOError:
                pass
        sent += moved
        rounds += 1
        if moved == 0 or rounds >= 200:
            break
        time.sleep(0.05)

    peak_kib = base_kib
    deadline = time.monotonic() + a.seconds
    while time.monotonic() < deadline:
        peak_kib = max(peak_kib, rss_kib(server.pid))
        time.sleep(0.1)

    probe = os.urandom(65536)
    t0 = time.perf_counter()
    with socket.create_connection(("127.0.0.1", port), timeout=10) as s:
        s.sendall(probe)
        back = b""
        while len(back) < len(probe):
            data = s.recv(65536)
            if not data:
                break
            back += data
    probe_ms = (time.perf_counter() - t0) * 1000
    served = back == probe
    peak_kib = max(peak_kib, rss_kib(server.pid))

    bound_kib = a.clients * 4 * a.buffer_size // 1024 + 64 * 1024
    print(f"clients {a.clients}, --buffer-size {a.buffer_size} B, client bytes taken by the kernel {sent / 2**20:.1f} MiB in {rounds} rounds")
    print(f"server RSS idle {base_kib / 1024:.1f} MiB, peak {peak_kib / 1024:.1f} MiB "
          f"(+{(peak_kib - base_kib) / a.clients:.1f} KiB per connection); bound {a.clients} x 4 x {a.buffer_size // 1024} KiB + 64 MiB = {bound_kib / 1024:.1f} MiB")
    print(f"another client's 64 KiB echo: {'byte-exact' if served else 'NOT served'} in {probe_ms:.1f} ms")
    code = 0 if served and peak_kib <= bound_kib else 3
    if code:
        print("never_read: FAIL", file=sys.stderr)
finally:
    for s in clients:
        s.close()
    server.terminate()
    try:
        server.wait(timeout=40)
    except subprocess.TimeoutExpired:
        server.kill()
        server.wait()
sys.exit(code)
