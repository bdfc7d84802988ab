#!/usr/bin/env python3
"""Probe latency of `echokit serve --metrics` while N slow clients hold connections to it.

    python3 bench/reliability/metrics_slow_clients.py [--echokit PATH] [--clients 1000] [--probes 50]

Starts `echokit serve --tcp 127.0.0.1:0 --metrics 127.0.0.1:0 --quiet`, reads the metrics port from its
"listening http://" line, measures the server's RSS, opens N connections that each send one byte of a request
and then nothing (slowloris), and times /healthz and /readyz probes while they are held (each probe: connect,
send, read the whole answer). Prints the probe latency percentiles, how many probes were answered 200, and RSS
per held connection. The server is always stopped. Exit 1 if any probe is not answered 200.
"""
import argparse, os, re, socket, subprocess, sys, time
from procstat import rss_kib

ap = argparse.ArgumentParser()
ap.add_argument("--echokit", default=os.path.join(os.path.dirname(__file__), "..", ".build", "echokit", "echokit"))
ap.add_argument("--clients", type=int, default=1000)
ap.add_argument("--probes", type=int, default=50)
a = ap.parse_args()

def probe(port, path):
    t0 = time.perf_counter()
    data = b""
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=5) as s:
            s.sendall(f"GET {path} HTTP/1.1\r\nHost: x\r\n\r\n".encode())
            while True:
                chunk = s.recv(4096)
                if not chunk:
                    break
                data += chunk
    except OSError:
        pass  # reset, refused or timed out: not answered
    return time.perf_counter() - t0, data.startswith(b"HTTP/1.1 200")

proc = subprocess.Popen([a.echokit, "serve", "--tcp", "127.0.0.1:0", "--metrics", "127.0.0.1:0", "--quiet"],
                        stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
held = []
try:
    port = None
    deadline = time.time() + 30
    while port is None and time.time() < deadline:
        line = proc.stdout.readline()
        m = re.search(r"listening http://127\.0\.0\.1:(\d+)", line or "")
        if m:
            port = int(m.group(1))
    if port is None:
        sys.exit("no metrics listening line within 30 s")
    for _ in range(5):
        probe(port, "/healthz")  # warm up (JIT)
    rss0 = rss_kib(proc.pid)
    for _ in range(a.clients):
        s = socket.create_connection(("127.0.0.1", port), timeout=5)
        s.sendall(b"G")
        held.append(s)
    time.sleep(1)  # let the server accept the last of them (a script, not a test: no event to wait on)
    rss1 = rss_kib(proc.pid)
    times, ok = [], 0
    for i in range(a.probes):
        t, good = probe(port, "/healthz" if i % 2 == 0 else "/readyz")
        times.append(t * 1000)
        ok += good
    times.sort()
    pct = lambda p: times[min(len(times) - 1, int(p * len(times)))]
    print(f"clients={a.clients} probes={a.probes} answered_200={ok} "
          f"p50_ms={pct(0.5):.2f} p99_ms={pct(0.99):.2f} max_ms={times[-1]:.2f} "
          f"rss_before_kib={rss0} rss_held_kib={rss1} rss_per_conn_b={(rss1 - rss0) * 1024 // max(1, a.clients)}")
    sys.exit(0 if ok == a.probes else 1)
finally:
    for s in held:
        s.close()
    proc.terminate()
    try:
        proc.wait(10)
    except subprocess.TimeoutExpired:
        proc.kill()
