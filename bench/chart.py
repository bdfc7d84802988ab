#!/usr/bin/env python3
"""chart.py RAW OUT.svg: draws the run's ratios to the baseline (bench/.build/results.jsonl, written by run.sh) as a
grouped bar chart in plain SVG, one group per scenario, one bar per server. Throughput scenarios: higher is better;
S5 (memory per idle connection) is drawn as baseline / server, so higher is better there too. No dependencies."""
import json
import sys
from html import escape

sys.path.insert(0, __import__("os").path.dirname(__file__))
from report import MEMORY, SCENARIOS, headline, pick_median  # noqa: E402  (one definition of the headline numbers)

raw, out = sys.argv[1], sys.argv[2]
rows = [json.loads(line) for line in open(raw) if line.strip()]
runs = {}
for r in rows:
    runs.setdefault((r["server"], r["scenario"]), []).append(r)
last = {k: pick_median(v, k[1]) for k, v in runs.items()}
scenarios = [s for s in SCENARIOS if any(k[1] == s for k in last)]
servers = []
for r in rows:
    if r["server"] not in servers:
        servers.append(r["server"])
baseline = {s: ("udp-c" if s.startswith("U") else "epoll-c") for s in scenarios}

def value(server, scen):
    v = headline(last.get((server, scen)), scen)
    b = headline(last.get((baseline[scen], scen)), scen)
    if v is None or b is None or v == 0 or b == 0:
        return None
    return b / v if scen in MEMORY else v / b

colors = ["#1f77b4", "#7f7f7f", "#2ca02c", "#d62728", "#9467bd", "#8c564b", "#e377c2", "#17becf"]
W, H, left, top, bottom = 960, 420, 60, 40, 70
group = (W - left - 20) / max(1, len(scenarios))
vals = [value(s, c) for s in servers for c in scenarios]
ymax = max([v for v in vals if v is not None] + [1.2])
ymax = min(ymax, 3.0)
y = lambda v: top + (H - top - bottom) * (1 - min(v, ymax) / ymax)
svg = [f'<svg xmlns="http://www.w3.org/2000/svg" width="{W}" height="{H}" font-family="sans-serif" font-size="12">',
       f'<rect width="{W}" height="{H}" fill="white"/>',
       f'<text x="{left}" y="20" font-size="14" font-weight="bold">Ratio to the baseline from the same run (higher is better; S5 is baseline / server memory)</text>']
for t in [0, 0.5, 1.0, 1.5, 2.0, 2.5, 3.0]:
    if t <= ymax:
        svg.append(f'<line x1="{left}" x2="{W - 20}" y1="{y(t):.1f}" y2="{y(t):.1f}" stroke="{"#000" if t == 1.0 else "#ddd"}"/>')
        svg.append(f'<text x="{left - 8}" y="{y(t) + 4:.1f}" text-anchor="end">{t:.1f}x</text>')
bw = group * 0.8 / max(1, len(servers))
for gi, scen in enumerate(scenarios):
    x0 = left + gi * group + group * 0.1
    svg.append(f'<text x="{x0 + group * 0.4:.1f}" y="{H - bottom + 18}" text-anchor="middle">{scen}</text>')
    for si, server in enumerate(servers):
        v = value(server, scen)
        if v is None:
            continue
        x = x0 + si * bw
        svg.append(f'<rect x="{x:.1f}" y="{y(v):.1f}" width="{bw - 2:.1f}" height="{y(0) - y(v):.1f}" fill="{colors[si % len(colors)]}">'
                   f'<title>{escape(server)} {scen}: {v:.2f}x</title></rect>')
for si, server in enumerate(servers):
    lx = left + si * 110
    svg.append(f'<rect x="{lx}" y="{H - 30}" width="12" height="12" fill="{colors[si % len(colors)]}"/>')
    svg.append(f'<text x="{lx + 16}" y="{H - 20}">{escape(server)}</text>')
svg.append("</svg>")
open(out, "w").write("\n".join(svg) + "\n")
