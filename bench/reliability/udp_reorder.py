#!/usr/bin/env python3
"""Counts replies a UDP echo server reorders for one source keeping N datagrams in flight.

    python3 bench/reliability/udp_reorder.py PORT [--count 100000] [--window 8] [--size 64]

Each datagram carries a sequence number; a reply whose number is below one already received is reordered.
Loopback itself never reorders one socket's datagrams, so any count above 0 is the server's doing.
Prints one line: sent, answered, reordered, lost.
"""
import argparse, socket, struct, sys

ap = argparse.ArgumentParser()
ap.add_argument("port", type=int)
ap.add_argument("--host", default="127.0.0.1")
ap.add_argument("--count", type=int, default=100_000)
ap.add_argument("--window", type=int, default=8)
ap.add_argument("--size", type=int, default=64)
a = ap.parse_args()

s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.settimeout(0.5)
target = (a.host, a.port)
pad = b"x" * max(0, a.size - 8)
sent = answered = reordered = 0
highest = -1
out = 0
while sent < a.count or out > 0:
    while out < a.window and sent < a.count:
        s.sendto(struct.pack("<q", sent) + pad, target)
        sent += 1
        out += 1
    try:
        data = s.recv(65536)
    except socket.timeout:
        out = 0  # lost ones: refill the window
        continue
    seq = struct.unpack("<q", data[:8])[0]
    answered += 1
    out -= 1
    if seq < highest:
        reordered += 1
    highest = max(highest, seq)
print(f"sent={sent} answered={answered} reordered={reordered} lost={sent - answered}")
sys.exit(0)
