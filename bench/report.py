#!/usr/bin/env python3
"""report.py: turns bench/.build/results.jsonl (written by run.sh) into Markdown.

One summary table (each server x scenario: the headline number and its ratio to
the baseline measured in the same run), then one table per scenario with the
detail: latency percentiles, CPU of both sides, errors.
"""
import argparse
import datetime
import json
import os
import platform
import sys

SCENARIOS = {
    "S1": ("1 connection, 1 in flight, 32 B", "msg_per_s", "msg/s", True),
    "S2": ("100 connections, 1 in flight, 32 B", "msg_per_s", "msg/s", True),
    "S3": ("100 connections, 16 in flight, 32 B", "msg_per_s", "msg/s", True),
    "S4": ("10 connections, 4 in flight, 64 KiB", "mib_per_s", "MiB/s", True),
    "S5": ("idle connections: server RSS per connection", "kib_per_conn", "KiB/conn", False),
    "S5b": ("connections that echoed once, then idle: server RSS per connection", "kib_per_conn", "KiB/conn", False),
    "U1": ("UDP 64 B datagrams, window 32", "dgram_per_s", "dgram/s", True),
    "U2": ("UDP 1472 B datagrams, window 32", "dgram_per_s", "dgram/s", True),
}


MEMORY = ("S5", "S5b")  # memory scenarios: lower is better


def pick_median(runs, scen):
    """Of the repeats of one server in one scenario (REPEAT alternating rounds), the run with the median headline."""
    scored = sorted((r for r in runs if headline(r, scen) is not None), key=lambda r: headline(r, scen))
    return scored[(len(scored) - 1) // 2] if scored else runs[-1]


def fmt(v, digits=None):
    if v is None:
        return "n/a"
    if digits is None:
        a = abs(v)
        digits = 0 if a >= 100 else 1 if a >= 10 else 2
    return f"{v:,.{digits}f}"


def headline(row, scen):
    """The scenario's main number for this row, or None."""
    if row is None or row["status"] not in ("ok", "errors") or not row.get("load"):
        return None
    if scen in MEMORY:
        before, with_ = row.get("rss_before_kib"), row.get("rss_with_kib")
        n = row["load"].get("connected") or 0
        if before is None or with_ is None or n == 0:
            return None
        return (with_ - before) / n
    return row["load"].get(SCENARIOS[scen][1])


def ratio(v, base):
    if v is None or base is None or base == 0:
        return "n/a"
    return f"{v / base:.2f}x"


def per_cpu_second(msg_per_s, cpu_pct):
    """Messages the server echoed per second of its own CPU time (None without both figures)."""
    if msg_per_s is None or not cpu_pct:
        return None
    return msg_per_s / (cpu_pct / 100.0)


def cpu_model():
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown"


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("raw")
    ap.add_argument("--command", default="bash bench/run.sh")
    ap.add_argument("--elapsed", type=int, default=0)
    ap.add_argument("--duration", default="5")
    ap.add_argument("--warmup", default="1")
    ap.add_argument("--server-core", default="1")
    ap.add_argument("--load-core", default="0")
    ap.add_argument("--servers", default="echokit epoll-c node python")
    ap.add_argument("--udp-servers", default="echokit udp-c")
    ap.add_argument("--scenarios", default="S1 S2 S3 S4 S5 U1 U2")
    ap.add_argument("--tcp-baseline", default="epoll-c")
    ap.add_argument("--udp-baseline", default="udp-c")
    ap.add_argument("--echokit-build", default="Release")
    a = ap.parse_args()

    runs = {}
    with open(a.raw) as f:
        for line in f:
            line = line.strip()
            if line:
                r = json.loads(line)
                runs.setdefault((r["server"], r["scenario"]), []).append(r)
    rows = {k: pick_median(v, k[1]) for k, v in runs.items()}

    scens = [s for s in a.scenarios.split() if s in SCENARIOS]
    tcp_servers, udp_servers = a.servers.split(), a.udp_servers.split()
    out = []
    w = out.append

    w("# EchoKit benchmark: latest run")
    w("")
    w(f"- Date: {datetime.datetime.now().astimezone().strftime('%Y-%m-%d %H:%M %Z')}")
    w(f"- Machine: `nproc` = {os.cpu_count()}, {cpu_model()}, Linux {platform.release()}; loopback only")
    w(f"- Server pinned to core {a.server_core}, load generator to core {a.load_core} (`taskset`)")
    w(f"- Each scenario: {a.warmup} s warm-up, then {a.duration} s measured; a fresh server per scenario")
    w(f"- EchoKit build: {a.echokit_build}")
    w(f"- Command: `{a.command}` (took {a.elapsed // 60} min {a.elapsed % 60} s)")
    w("")

    # Summary
    w("## Summary")
    w("")
    w(f"Headline number per scenario, and its ratio to the baseline from the same run "
      f"(`{a.tcp_baseline}` for TCP, `{a.udp_baseline}` for UDP). S5 is memory: lower is better; "
      f"everything else: higher is better.")
    w("")
    head = ["Server"] + [f"{s} {SCENARIOS[s][2]}" for s in scens]
    w("| " + " | ".join(head) + " |")
    w("|" + "---|" * len(head))
    shown = [srv for srv in dict.fromkeys(tcp_servers + udp_servers)
             if any((srv, s) in rows for s in scens)]
    for srv in shown:
        cells = [srv]
        for s in scens:
            udp = s.startswith("U")
            if srv not in (udp_servers if udp else tcp_servers):
                cells.append("")
                continue
            base = headline(rows.get((a.udp_baseline if udp else a.tcp_baseline, s)), s)
            r = rows.get((srv, s))
            v = headline(r, s)
            if v is None:
                cells.append("n/a")
            else:
                flag = "" if r["status"] == "ok" else f" ({r['status']})"
                cells.append(f"{fmt(v)} ({ratio(v, base)}){flag}")
        w("| " + " | ".join(cells) + " |")
    w("")

    # Details
    for s in scens:
        title, _, unit, _ = SCENARIOS[s]
        udp = s.startswith("U")
        servers = udp_servers if udp else tcp_servers
        baseline = a.udp_baseline if udp else a.tcp_baseline
        base = headline(rows.get((baseline, s)), s)
        w(f"## {s}: {title}")
        w("")
        notes = []
        if s in MEMORY:
            w(f"| Server | connected | accepted | RSS before MiB | RSS with MiB | KiB/conn | vs {baseline} | RSS after close MiB | threads |")
            w("|---|---|---|---|---|---|---|---|---|")
            for srv in servers:
                r = rows.get((srv, s))
                if r is None:
                    continue
                L = r.get("load") or {}
                v = headline(r, s)
                kib = lambda k: None if r.get(k) is None else r[k] / 1024
                w(f"| {srv} | {L.get('connected', 'n/a')} | {r.get('accepted', 'n/a')} | {fmt(kib('rss_before_kib'), 1)} | "
                  f"{fmt(kib('rss_with_kib'), 1)} | {fmt(v, 2)} | {ratio(v, base)} | {fmt(kib('rss_after_kib'), 1)} | {r.get('server_threads', 'n/a')} |")
                if r["status"] != "ok":
                    notes.append(f"{srv}: {r['status']}: {r.get('note', '')}")
        elif udp:
            w(f"| Server | dgram/s | vs {baseline} | MiB/s | sent | lost | dup | reordered | late | p50 µs | p99 µs | p99.9 µs | server CPU % | load CPU % |")
            w("|---|---|---|---|---|---|---|---|---|---|---|---|---|---|")
            for srv in servers:
                r = rows.get((srv, s))
                if r is None:
                    continue
                L = r.get("load")
                if not L:
                    w(f"| {srv} | n/a |" + " |" * 12)
                else:
                    v = headline(r, s)
                    w(f"| {srv} | {fmt(v, 0)} | {ratio(v, base)} | {fmt(L['mib_per_s'], 1)} | {L['sent']:,} | {L['lost']:,} | "
                      f"{L['duplicates']:,} | {L['reordered']:,} | {L['late']:,} | {fmt(L['p50_us'], 1)} | {fmt(L['p99_us'], 1)} | "
                      f"{fmt(L['p999_us'], 1)} | {fmt(r.get('server_cpu_pct'), 0)} | {fmt(L['client_cpu_pct'], 0)} |")
                if r["status"] != "ok":
                    notes.append(f"{srv}: {r['status']}: {r.get('note', '')}")
        else:
            w(f"| Server | msg/s | vs {baseline} | MiB/s | p50 µs | p99 µs | p99.9 µs | max µs | server CPU % | msg per server CPU-s | vs {baseline} | load CPU % | server peak RSS MiB | errors | mismatched bytes |")
            w("|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|")
            for srv in servers:
                r = rows.get((srv, s))
                if r is None:
                    continue
                L = r.get("load")
                if not L:
                    w(f"| {srv} | n/a |" + " |" * 13)
                else:
                    v = L["msg_per_s"]
                    base_row = rows.get((baseline, s)) or {}
                    b = base_row.get("load") or {}
                    hwm = r.get("server_hwm_kib")
                    # Work per CPU second: what a machine's steal and noise disturb least (both rows from one round).
                    per_cpu = per_cpu_second(v, r.get("server_cpu_pct"))
                    base_per_cpu = per_cpu_second(b.get("msg_per_s"), base_row.get("server_cpu_pct"))
                    w(f"| {srv} | {fmt(v, 0)} | {ratio(v, b.get('msg_per_s'))} | {fmt(L['mib_per_s'], 1)} | {fmt(L['p50_us'], 1)} | "
                      f"{fmt(L['p99_us'], 1)} | {fmt(L['p999_us'], 1)} | {fmt(L['max_us'], 0)} | {fmt(r.get('server_cpu_pct'), 0)} | "
                      f"{fmt(per_cpu, 0)} | {ratio(per_cpu, base_per_cpu)} | {fmt(L['client_cpu_pct'], 0)} | {fmt(None if hwm is None else hwm / 1024, 1)} | {L['errors']} | "
                      f"{L['mismatches'] + L.get('excess_bytes', 0)} |")
                if r["status"] != "ok":
                    notes.append(f"{srv}: {r['status']}: {r.get('note', '')}")
        w("")
        for n in notes:
            w(f"- {n}")
        if notes:
            w("")

    w("CPU % is per core (100 = one core busy). A load CPU near 100 % means the generator was "
      "saturated too, so the server's number is a lower bound; see bench/README.md.")
    sys.stdout.write("\n".join(out) + "\n")


if __name__ == "__main__":
    main()
