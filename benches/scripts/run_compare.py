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
defaulting to compare-<T>s-<objective>. Exits non-zero when compare.py is missing or fails. `--render benches/records/NAME.jsonl`
rewrites NAME.md from the JSONL alone (same data, no solving).
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
# Solomon's and Li & Lim's best-known (Li & Lim's has no distance-minimising columns).
BKS = [os.path.join(ctx.SHARED, "bench-data", d, "bks.csv") for d in ("solomon", "lilim")]

ap = argparse.ArgumentParser()
ap.add_argument("instances", nargs="*", default=["@solomon"])
ap.add_argument("--time-limit", type=float, default=1.0)
ap.add_argument("--objective", default="hierarchical", choices=["hierarchical", "distance"])
ap.add_argument("--seed", type=int, default=1)
ap.add_argument("--peers", default="pyvrp,vroom,ortools,vrp-cli")
ap.add_argument("--planner", default=ctx.default_planner())
ap.add_argument("--record", default="")
ap.add_argument("--render", metavar="JSONL",
                help="rewrite the markdown of a committed record from its JSONL (no solving)")
a = ap.parse_args()



def summarise(recs, solvers, objective, left_out):
    """Totals per solver, with the gap each objective is judged by."""
    bks = {row["instance"].lower(): row for f in BKS for row in csv.DictReader(open(f))}
    ran = [bks[i.lower()] for i in dict.fromkeys(x["instance"] for x in recs)]
    hier = objective == "hierarchical"
    has_mindist = all(b["mindist_distance"] for b in ran)
    tot = ["", "## Totals per solver (this run)", "",
           f"{len(ran)} instances. Hierarchical best-known (SINTEF): "
           f"{sum(int(b['vehicles']) for b in ran)} vehicles, "
           f"{sum(float(b['distance']) for b in ran):,.1f}"
           + (f"; distance-minimising best-known: "
              f"{sum(int(b['mindist_vehicles']) for b in ran)} vehicles, "
              f"{sum(float(b['mindist_distance']) for b in ran):,.1f}." if has_mindist else "."), ""]
    if hier:
        tot += ["| solver | feasible | vehicles | distance | veh = BKS | mean gap% at matching "
                "vehicles | mean gap% over all | best-known distance beaten |",
                "|---|---|---|---|---|---|---|---|"]
    else:
        tot += ["| solver | feasible | vehicles | distance | mean gap% vs distance best-known | "
                "veh = distance BKS veh | best-known distance beaten |",
                "|---|---|---|---|---|---|---|"]
    totals = {}
    for s in solvers:
        rs = [x for x in recs if x["peer"] == s]
        feas = [x for x in rs if x["feasible"]]
        eq, gaps, md_gaps, beaten, veq_md = [], [], [], [], 0
        for x in feas:
            b = bks[x["instance"].lower()]
            bd, bv = float(b["distance"]), int(b["vehicles"])
            g = 100 * (x["distance"] - bd) / bd
            gaps.append(g)
            if x["vehicles"] == bv:
                eq.append(g)
            if not b["mindist_distance"]:
                continue
            mdd, mdv = float(b["mindist_distance"]), int(b["mindist_vehicles"])
            md_gaps.append(100 * (x["distance"] - mdd) / mdd)
            veq_md += x["vehicles"] == mdv
            if not hier:
                if x["distance"] < mdd - 0.005:
                    beaten.append(f"{x['instance']} {x['distance']:.2f} < {mdd:.2f} ({x['vehicles']} veh)")
            elif x["vehicles"] <= bv and x["distance"] < bd - 0.005:
                beaten.append(f"{x['instance']} {x['distance']:.2f} < {bd:.2f} ({x['vehicles']} veh)")
        note = "" if rs and len(feas) == len(rs) else " (feasible runs only)"
        veh = sum(x["vehicles"] for x in feas)
        dist = sum(x["distance"] for x in feas)
        m = lambda v: f"{statistics.mean(v):.2f}" if v else "–"  # noqa: E731
        totals[s] = {"feasible": len(feas), "runs": len(rs), "vehicles": veh, "distance": dist,
                     "n_matching_vehicles": len(eq),
                     "mean_gap_matching_vehicles": statistics.mean(eq) if eq else None,
                     "mean_gap": statistics.mean(gaps) if gaps else None,
                     "mean_gap_vs_mindist": statistics.mean(md_gaps) if md_gaps else None,
                     "n_matching_mindist_vehicles": veq_md, "beaten": beaten}
        beat = "; ".join(beaten) if beaten else "none"
        if hier:
            tot.append(f"| {s} | {len(feas)}/{len(rs)} | {veh}{note} | {dist:,.1f}{note} | "
                       f"{len(eq)}/{len(feas)} | {m(eq)} | {m(gaps)} | {beat} |")
        else:
            tot.append(f"| {s} | {len(feas)}/{len(rs)} | {veh}{note} | {dist:,.1f}{note} | "
                       f"{m(md_gaps)} | {veq_md}/{len(feas)} | {beat} |")
    tot.append("")
    if hier:
        tot.append("Gap = 100·(distance − BKS distance)/BKS distance against the hierarchical "
                   "best-known (fewest vehicles, then distance). \"At matching vehicles\" averages it "
                   "over the instances where the solver uses exactly as many vehicles as the "
                   "best-known: only there do the distances measure the same thing (a solution with "
                   "one more vehicle is usually shorter, and below the best-known distance). A "
                   "best-known distance is beaten when a solution with no more vehicles is shorter by "
                   "more than 0.005 (the table's rounding).")
    else:
        tot.append("Gap = 100·(distance − distance BKS)/distance BKS against the "
                   "distance-minimising best-known (`mindist_distance`, any number of vehicles), over "
                   "every feasible instance. A best-known distance is beaten when shorter by more than "
                   "0.005 (the table's rounding).")
    if left_out:
        tot.append("Not run: " + "; ".join(left_out) + ".")
    return tot, totals


def write(name, c, tl_s, objective, body, tot, lines):
    ctx.write_record(name, f"Planner and peers side by side: compare.py, {tl_s} s per instance, "
                     f"{objective}", c, body, tot, lines)


if a.render:
    lines = [json.loads(l) for l in open(a.render) if l.strip()]
    c = lines[0]["context"]
    if "planner" in c.get("versions", {}):
        c["versions"]["planner"] = c["versions"]["planner"].removeprefix("planner ")
    recs = [x for x in lines if "peer" in x]
    r = subprocess.run([sys.executable, COMPARE, "--render", os.path.abspath(a.render), "--title",
                        "x"], capture_output=True, text=True, cwd=ctx.BENCH_TOOLS, check=True)
    body = r.stdout.split("\n", 1)[1]
    tl = c["time_limit_s"]
    tot, totals = summarise(recs, c["solvers"], c["objective"], c.get("left_out", []))
    keep = [x for x in lines[1:] if "totals" not in x] + [{"totals": totals}]
    name = os.path.basename(a.render)[: -len(".jsonl")]
    write(name, c, str(int(tl)) if tl == int(tl) else str(tl), c["objective"], body, tot, keep)
    print("\n".join(tot))
    sys.exit(0)

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

peers, left_out = ctx.choose_peers(a.peers, a.objective, VRP_CLI)

tl_s = str(int(a.time_limit)) if a.time_limit == int(a.time_limit) else str(a.time_limit)
name = a.record or f"compare-{tl_s}s-{a.objective}"
# No --format: the planner tells Solomon and Li & Lim files apart.
planner_tmpl = (f"{a.planner} solve {{instance}} --time-limit {{time_limit}} "
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
solvers = ["planner", *peers]
recs = [x for x in lines if "peer" in x]
c["versions"] = dict((recs[0]["meta"].get("versions") if recs else None) or {})
c["versions"]["planner"] = subprocess.run([a.planner, "--version"], capture_output=True,
                                          text=True).stdout.strip().removeprefix("planner ")
tot, totals = summarise(recs, solvers, a.objective, left_out)
body = open(out).read().split("\n", 1)[1]  # compare.py's table without its title line
write(name, c, tl_s, a.objective, body, tot, [*lines, {"totals": totals}])
print("\n".join(tot))
print(f"recorded benches/records/{name}.md and .jsonl", file=sys.stderr)
