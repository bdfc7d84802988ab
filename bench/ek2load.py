#!/usr/bin/env python3
"""Reads `echokit bench --json` output on stdin and prints it with echo_load's field names added, so report.py reads
either load generator's results the same way (docs/bench.md, "Replacing echo_load in scripts")."""
import json
import sys

for line in sys.stdin:
    line = line.strip()
    if not line.startswith("{"):
        continue
    d = json.loads(line)
    lat = d.get("latency_us", {})
    d.update({
        "msg_per_s": d.get("messages_per_sec"),
        "mib_per_s": d.get("mib_per_sec"),
        "p50_us": lat.get("p50"),
        "p99_us": lat.get("p99"),
        "p999_us": lat.get("p999"),
        "max_us": lat.get("max"),
        "excess_bytes": 0,
        "client_cpu_pct": d.get("generator_cpu_pct"),
        "connected": (d.get("connect_us") or {}).get("count"),
        "generator": "echokit bench",
    })
    print(json.dumps(d))
    break
