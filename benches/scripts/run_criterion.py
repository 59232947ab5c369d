#!/usr/bin/env python3
"""Runs the criterion benches (`cargo bench -p benches --bench planner`) and records a summary.

Usage: run_criterion.py [--warm-up S] [--measurement S] [--record NAME]

Runs `cargo bench -p benches --bench planner -- --warm-up-time W --measurement-time M`
(CARGO_TARGET_DIR and CARGO_BUILD_JOBS from the environment; build first so that the run
measures and does not compile), then reads criterion's `estimates.json` of each benchmark
measured by this run and writes benches/records/NAME.md and .jsonl (default `criterion`):
benchmark name, mean with its 95 % confidence interval, median, and the context header.
"""
import argparse
import json
import os
import shlex
import subprocess
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import context as ctx  # noqa: E402

ap = argparse.ArgumentParser()
ap.add_argument("--warm-up", type=float, default=2.0)
ap.add_argument("--measurement", type=float, default=5.0)
ap.add_argument("--record", default="criterion")
a = ap.parse_args()

target = os.environ.get("CARGO_TARGET_DIR", os.path.join(ctx.ROOT, "target"))
cmd = ["cargo", "bench", "-p", "benches", "--bench", "planner", "--",
       "--warm-up-time", f"{a.warm_up:g}", "--measurement-time", f"{a.measurement:g}"]
argv = " ".join(shlex.quote(x) for x in sys.argv[1:])
c = ctx.context(seed="fixed in benches/benches/planner.rs (Rng::new(1), city_day seed 1)",
                threads=1, time_limit=f"warm-up {a.warm_up:g} s, measurement {a.measurement:g} s per benchmark",
                objective="n/a (hot paths)", scorer_ran=False,
                command=f"python3 benches/scripts/run_criterion.py {argv}".strip(),
                extra={"cargo": " ".join(cmd),
                       "rustc": subprocess.run(["rustc", "--version"], capture_output=True,
                                               text=True).stdout.strip()})
t0 = time.time()
print("running: " + " ".join(cmd), file=sys.stderr, flush=True)
r = subprocess.run(cmd, cwd=ctx.ROOT)
if r.returncode != 0:
    sys.exit(f"error: cargo bench failed (exit {r.returncode})")
ctx.finish(c)

crit = os.path.join(target, "criterion")
rows = []
for d, _, files in os.walk(crit):
    if os.path.basename(d) != "new" or "estimates.json" not in files:
        continue
    est_path = os.path.join(d, "estimates.json")
    if os.path.getmtime(est_path) < t0:
        continue  # from an earlier run
    est = json.load(open(est_path))
    bench = json.load(open(os.path.join(d, "benchmark.json")))
    m, md = est["mean"], est["median"]
    rows.append({"benchmark": bench.get("full_id") or bench.get("title"),
                 "mean_ns": m["point_estimate"],
                 "mean_ci95_ns": [m["confidence_interval"]["lower_bound"],
                                  m["confidence_interval"]["upper_bound"]],
                 "median_ns": md["point_estimate"],
                 "std_dev_ns": est["std_dev"]["point_estimate"]})
if not rows:
    sys.exit(f"error: no estimates written by this run under {crit}")
rows.sort(key=lambda x: x["mean_ns"])


def t(ns):
    for unit, k in (("s", 1e9), ("ms", 1e6), ("µs", 1e3)):
        if ns >= k:
            return f"{ns / k:.3g} {unit}"
    return f"{ns:.3g} ns"


md = ["| benchmark | mean | 95 % CI of the mean | median |", "|---|---|---|---|"]
for x in rows:
    md.append(f"| {x['benchmark']} | {t(x['mean_ns'])} | {t(x['mean_ci95_ns'][0])} – "
              f"{t(x['mean_ci95_ns'][1])} | {t(x['median_ns'])} |")
md.append("")
md.append("From criterion's `estimates.json` (bootstrap over the samples of this run). The two "
          "ruin-and-recreate benches include copying the whole solution before each step.")
os.makedirs(ctx.RECORDS, exist_ok=True)
with open(os.path.join(ctx.RECORDS, a.record + ".md"), "w") as f:
    f.write(ctx.header_md("Criterion: the planner's hot paths (benches/benches/planner.rs)", c)
            + "\n" + "\n".join(md) + "\n")
with open(os.path.join(ctx.RECORDS, a.record + ".jsonl"), "w") as f:
    f.write(ctx.context_line(c))
    for x in rows:
        f.write(json.dumps(x) + "\n")
print("\n".join(md))
