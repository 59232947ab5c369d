#!/usr/bin/env python3
"""One run of ../shared/bench-tools/compare.py with the planner and the peers side by side.

Usage: run_compare.py [--time-limit S] [--objective hierarchical|distance] [--seed N]
                      [--peers pyvrp,vroom,ortools,vrp-cli] [--planner PATH]
                      [--record NAME] [INSTANCES...]          (default @solomon)

The planner is one more peer of compare.py (`--peer planner=...`), so every solver runs in
the same invocation, on the same instances, with the same budget, seed and objective, and
every result is scored by the same independent checker (compare.py imports check.py).
vrp-cli is left out of distance runs (its Solomon reader only has the hierarchical
objective) and out of every run when its binary is not installed; the record says which
peers ran.

Writes benches/records/NAME.md (context header, compare.py's own table and summary, then
totals per solver) and NAME.jsonl (first line {"context": ...}, then compare.py's lines
unchanged, so `compare.py --render benches/records/NAME.jsonl` re-renders the table), NAME
defaulting to compare-<T>s-<objective>. Exits non-zero when compare.py is missing or fails.
"""
import argparse
import csv
import json
import os
import shlex
import statistics
import subprocess
import sys
import tempfile

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import context as ctx  # noqa: E402

COMPARE = os.path.join(ctx.BENCH_TOOLS, "compare.py")
VRP_CLI = os.environ.get("VRP_CLI", os.path.join(ctx.BENCH_TOOLS, "tools", "bin", "vrp-cli"))
BKS = os.path.join(ctx.SHARED, "bench-data", "solomon", "bks.csv")

ap = argparse.ArgumentParser()
ap.add_argument("instances", nargs="*", default=["@solomon"])
ap.add_argument("--time-limit", type=float, default=1.0)
ap.add_argument("--objective", default="hierarchical", choices=["hierarchical", "distance"])
ap.add_argument("--seed", type=int, default=1)
ap.add_argument("--peers", default="pyvrp,vroom,ortools,vrp-cli")
ap.add_argument("--planner", default=ctx.default_planner())
ap.add_argument("--record", default="")
a = ap.parse_args()

ctx.need_planner(a.planner)
scorer = ctx.need_scorer()
if not os.path.isfile(COMPARE):
    print(f"error: {COMPARE} does not exist: the peer comparison needs ../shared/bench-tools",
          file=sys.stderr)
    sys.exit(2)
venv_py = os.path.join(ctx.BENCH_TOOLS, ".venv", "bin", "python")
if not os.path.exists(venv_py):
    print(f"error: {venv_py} missing: set up the peers first (see ../shared/bench-tools/README.md)",
          file=sys.stderr)
    sys.exit(2)

peers, left_out = [], []
for p in [x for x in a.peers.split(",") if x]:
    if p == "vrp-cli" and a.objective != "hierarchical":
        left_out.append("vrp-cli (hierarchical objective only)")
    elif p == "vrp-cli" and not os.path.exists(VRP_CLI):
        left_out.append(f"vrp-cli (not installed at {VRP_CLI})")
    else:
        peers.append(p)

tl_s = str(int(a.time_limit)) if a.time_limit == int(a.time_limit) else str(a.time_limit)
name = a.record or f"compare-{tl_s}s-{a.objective}"
planner_tmpl = (f"{a.planner} solve {{instance}} --format solomon --time-limit {{time_limit}} "
                f"--seed {{seed}} --objective {{objective}}")
tmp = tempfile.mkdtemp(prefix="compare-")
jsonl, out = os.path.join(tmp, "run.jsonl"), os.path.join(tmp, "run.md")
cmd = [sys.executable, COMPARE, "-t", tl_s, *a.instances, "--seed", str(a.seed),
       "--objective", a.objective, "--peers", ",".join(peers),
       "--peer", f"planner={planner_tmpl}", "--jsonl", jsonl, "--out", out,
       "--title", f"compare.py, {tl_s} s per instance, {a.objective}"]
argv = " ".join(shlex.quote(x) for x in sys.argv[1:])
c = ctx.context(seed=a.seed, threads=0, time_limit=a.time_limit, objective=a.objective,
                scorer_ran=True, scorer=scorer, planner=a.planner,
                command=f"python3 benches/scripts/run_compare.py {argv}".strip(),
                extra={"solvers": ["planner", *peers], "left_out": left_out,
                       "compare_py": " ".join(shlex.quote(x) for x in cmd[1:])})
print("running: " + " ".join(shlex.quote(x) for x in cmd), file=sys.stderr, flush=True)
# compare.py resolves its data relative to itself; run it from its directory.
r = subprocess.run(cmd, cwd=ctx.BENCH_TOOLS)
if r.returncode != 0 or not os.path.exists(out):
    sys.exit(f"error: compare.py failed (exit {r.returncode})")
ctx.finish(c)

lines = [json.loads(l) for l in open(jsonl) if l.strip()]
recs = [x for x in lines if "peer" in x]
c["versions"] = dict((recs[0]["meta"].get("versions") if recs else None) or {})
c["versions"]["planner"] = subprocess.run([a.planner, "--version"], capture_output=True,
                                          text=True).stdout.strip()
bks = {row["instance"].lower(): row for row in csv.DictReader(open(BKS))}
solvers = ["planner", *peers]
ran = [bks[i.lower()] for i in dict.fromkeys(x["instance"] for x in recs)]
tot = ["", "## Totals per solver (this run)", "",
       f"{len(ran)} instances. Hierarchical best-known (SINTEF): "
       f"{sum(int(b['vehicles']) for b in ran)} vehicles, "
       f"{sum(float(b['distance']) for b in ran):,.1f}; distance-minimising best-known: "
       f"{sum(int(b['mindist_vehicles']) for b in ran)} vehicles, "
       f"{sum(float(b['mindist_distance']) for b in ran):,.1f}.", "",
       "| solver | feasible | vehicles | distance | mean gap% at matching vehicles (n) | "
       "mean gap% vs distance best-known | best-known distance beaten |",
       "|---|---|---|---|---|---|---|"]
totals = {}
for s in solvers:
    rs = [x for x in recs if x["peer"] == s]
    feas = [x for x in rs if x["feasible"]]
    eq, md_gaps, beaten = [], [], []
    for x in feas:
        b = bks[x["instance"].lower()]
        bd, bv, mdd = float(b["distance"]), int(b["vehicles"]), float(b["mindist_distance"])
        if x["vehicles"] == bv:
            eq.append(100 * (x["distance"] - bd) / bd)
        md_gaps.append(100 * (x["distance"] - mdd) / mdd)
        if a.objective == "distance":
            if x["distance"] < mdd - 0.005:
                beaten.append(f"{x['instance']} {x['distance']:.2f} < {mdd:.2f}")
        elif x["vehicles"] <= bv and x["distance"] < bd - 0.005:
            beaten.append(f"{x['instance']} {x['distance']:.2f} < {bd:.2f} ({x['vehicles']} veh)")
    all_ok = len(feas) == len(rs) and rs
    veh = sum(x["vehicles"] for x in feas)
    dist = sum(x["distance"] for x in feas)
    totals[s] = {"feasible": len(feas), "runs": len(rs), "vehicles": veh, "distance": dist,
                 "mean_gap_matching_vehicles": statistics.mean(eq) if eq else None,
                 "n_matching_vehicles": len(eq),
                 "mean_gap_vs_mindist": statistics.mean(md_gaps) if md_gaps else None,
                 "beaten": beaten}
    note = "" if all_ok else " (feasible runs only)"
    tot.append(f"| {s} | {len(feas)}/{len(rs)} | {veh}{note} | {dist:,.1f}{note} | "
               + (f"{statistics.mean(eq):.2f} ({len(eq)})" if eq else "–") + " | "
               + (f"{statistics.mean(md_gaps):.2f}" if md_gaps else "–") + " | "
               + ("; ".join(beaten) if beaten else "none") + " |")
tot.append("")
tot.append("Gap at matching vehicles: mean of 100·(distance − BKS distance)/BKS distance over "
           "the instances where the solver uses as many vehicles as the hierarchical best-known. "
           "Gap vs distance best-known: over every feasible instance, against `mindist_distance`. "
           "A best-known distance is beaten when below by more than 0.005 (its rounding)"
           + ("." if a.objective == "distance" else ", with no more vehicles than the best-known."))
if left_out:
    tot.append("Not run: " + "; ".join(left_out) + ".")

body = open(out).read().split("\n", 1)[1]  # compare.py's table without its title line
os.makedirs(ctx.RECORDS, exist_ok=True)
with open(os.path.join(ctx.RECORDS, name + ".md"), "w") as f:
    f.write(ctx.header_md(f"Planner and peers side by side: compare.py, {tl_s} s per instance, "
                          f"{a.objective}", c))
    f.write("\ncompare.py's own header and tables follow (its `loadavg` is the same run's).\n")
    f.write(body.rstrip("\n") + "\n" + "\n".join(tot) + "\n")
with open(os.path.join(ctx.RECORDS, name + ".jsonl"), "w") as f:
    f.write(ctx.context_line(c))
    for ln in open(jsonl):
        f.write(ln)
    f.write(json.dumps({"totals": totals}) + "\n")
print("\n".join(tot))
print(f"recorded benches/records/{name}.md and .jsonl", file=sys.stderr)
