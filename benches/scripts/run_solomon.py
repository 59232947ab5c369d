#!/usr/bin/env python3
"""Runs `planner solve` on every Solomon (or Li & Lim) instance and records a table against
bks.csv.

Usage: run_solomon.py [--set solomon|lilim] [--planner PATH] [--time-limit S]
                      [--objective hierarchical|distance] [--seed N] [--threads N] [--data DIR]
                      [--only PREFIX] [--check] [--scorer PATH] [--record NAME | --no-record]

Solomon: feasibility and distance are recomputed here (Euclidean, double precision, same
rules as ../shared/bench-tools/check.py). Li & Lim (pickup and delivery pairs): by
`planner check` (the planner's independent checker, pairing and precedence included).
--check also runs ../shared/bench-tools/check.py on every result and refuses to start
(exit 2, message on stderr) when it is missing.

Writes benches/records/NAME.md (context header, per-instance, per-class and summary
tables) and benches/records/NAME.jsonl (first line {"context": ...}, one line per
instance, last line {"summary": ...}); NAME defaults to <set>-<T>s-<objective>.
Exit code 1 when some result is infeasible (the record is written all the same).

Gaps: hierarchical runs compare with the hierarchical best-known (fewest vehicles, then
distance; SINTEF table); the gap that measures distance is the one over the instances
where the planner uses as many vehicles as the best-known ("gap at matching vehicle
counts"). Distance runs compare with the distance-minimising best-known (mindist_*).
A best-known distance is "beaten" when the planner's distance is below it by more than the
0.005 of its rounding, with no more vehicles for the hierarchical objective.
"""
import argparse
import csv
import json
import math
import os
import shlex
import statistics
import subprocess
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import context as ctx  # noqa: E402

ap = argparse.ArgumentParser()
ap.add_argument("--set", default="solomon", choices=["solomon", "lilim"])
ap.add_argument("--planner", default=ctx.default_planner())
ap.add_argument("--time-limit", type=float, default=1.0)
ap.add_argument("--objective", default="hierarchical", choices=["hierarchical", "distance"])
ap.add_argument("--seed", type=int, default=1)
ap.add_argument("--threads", type=int, default=0)
ap.add_argument("--data", default="", help="default planner/data/<set>")
ap.add_argument("--only", default="")
ap.add_argument("--check", action="store_true", help="also score with ../shared/bench-tools/check.py")
ap.add_argument("--scorer", default=ctx.CHECK_PY, help="path of check.py (with --check)")
ap.add_argument("--record", default="", help="record name under benches/records/")
ap.add_argument("--no-record", action="store_true", help="print only")
a = ap.parse_args()
a.data = a.data or os.path.join(ctx.ROOT, "planner", "data", a.set)

ctx.need_planner(a.planner)
scorer = ctx.need_scorer(a.scorer) if a.check else None
tl_s = str(int(a.time_limit)) if a.time_limit == int(a.time_limit) else str(a.time_limit)
name_rec = a.record or f"{a.set}-{tl_s}s-{a.objective}" + (f"-{a.only}" if a.only else "")
argv = " ".join(shlex.quote(x) for x in sys.argv[1:])
c = ctx.context(seed=a.seed, threads=a.threads, time_limit=a.time_limit, objective=a.objective,
                scorer_ran=bool(a.check), scorer=scorer, planner=a.planner,
                command=f"python3 benches/scripts/run_solomon.py {argv}".strip())


def read(path):
    lines = [l.split() for l in open(path).read().splitlines() if l.strip()]
    vi = next(i for i, l in enumerate(lines) if l[0].upper() == "VEHICLE")
    cap = float(lines[vi + 2][1])
    rows = [list(map(float, l)) for l in lines if len(l) == 7 and l[0].replace(".", "").isdigit()]
    return cap, {int(r[0]): r for r in rows}


def score(path, routes):
    cap, n = read(path)
    depot = n[0]
    d = lambda p, q: math.hypot(p[1] - q[1], p[2] - q[2])  # noqa: E731
    seen, total, ok = set(), 0.0, True
    for r in routes:
        t, load, prev = depot[4], 0, depot
        for cid in r:
            x = n[cid]
            total += d(prev, x)
            t += d(prev, x)
            if t > x[5] + 1e-6:
                ok = False
            t = max(t, x[4]) + x[6]
            load += x[3]
            seen.add(cid)
            prev = x
        total += d(prev, depot)
        t += d(prev, depot)
        ok = ok and t <= depot[5] + 1e-6 and load <= cap
    ok = ok and len(seen) == len(n) - 1 and sum(map(len, routes)) == len(seen)
    return ok, total


def score_by_planner(path, stdout):
    """Li & Lim: the planner's own checker on the result (exit 0: feasible, figures right)."""
    import tempfile
    with tempfile.NamedTemporaryFile("w", suffix=".json", delete=False) as f:
        f.write(stdout)
    try:
        p = subprocess.run([a.planner, "check", path, f.name], capture_output=True, text=True)
    finally:
        os.unlink(f.name)
    res = json.loads(stdout.strip().splitlines()[-1])
    return p.returncode == 0, float(res["distance"])


bks = {r["instance"]: r for r in csv.DictReader(open(os.path.join(a.data, "bks.csv")))}
names = sorted(k for k in bks if k.startswith(a.only))
if not names:
    raise SystemExit(f"error: no instance in {a.data}/bks.csv starts with {a.only!r}")
rows, scorer_failures = [], []
md = ["| instance | BKS veh | BKS dist | veh | dist | gap% | feasible | check.py | wall_s |",
      "|---|---|---|---|---|---|---|---|---|"]
print("\n".join(md), flush=True)
for name in names:
    path = os.path.join(a.data, name + ".txt")
    cmd = [a.planner, "solve", path, "--format", a.set, "--time-limit", str(a.time_limit),
           "--seed", str(a.seed), "--objective", a.objective, "--threads", str(a.threads)]
    t0 = time.perf_counter()
    p = subprocess.run(cmd, capture_output=True, text=True)
    wall = time.perf_counter() - t0
    try:
        res = json.loads(p.stdout.strip().splitlines()[-1])
        routes = [r for r in res["routes"] if r]
        own_ok, dist = score(path, routes) if a.set == "solomon" else score_by_planner(path, p.stdout)
    except Exception as e:  # noqa: BLE001
        print(f"{name}: failed: {e} {p.stderr[:200]}", file=sys.stderr)
        res, routes, own_ok, dist = {}, [], False, float("nan")
    chk = None
    if a.check:
        cp = subprocess.run([sys.executable, scorer, path, "-"], input=p.stdout,
                            capture_output=True, text=True)
        try:
            chk = json.loads(cp.stdout.strip().splitlines()[-1])
        except (IndexError, json.JSONDecodeError):
            scorer_failures.append(name)
            print(f"{name}: check.py gave no verdict (exit {cp.returncode}): {cp.stderr[-300:]}",
                  file=sys.stderr)
            chk = {"feasible": False, "distance": None, "violations": ["check.py gave no verdict"]}
    ok = own_ok and (chk is None or bool(chk["feasible"]))
    b = bks[name]
    if a.objective == "distance":
        bv, bd = int(b["mindist_vehicles"]), float(b["mindist_distance"])
    else:
        bv, bd = int(b["vehicles"]), float(b["distance"])
    gap = 100 * (dist - bd) / bd
    row = {"instance": name, "bks_vehicles": bv, "bks_distance": bd, "vehicles": len(routes),
           "distance": dist, "gap_pct": gap, "feasible": ok, "own_score_feasible": own_ok,
           "check_py": None if chk is None else {"feasible": chk["feasible"], "distance": chk["distance"],
                                                 "violations": chk.get("violations", [])[:5]},
           "planner_iterations": res.get("iterations"), "planner_wall_s": res.get("wall_s"),
           "wall_s": wall}
    rows.append(row)
    cell = "–" if chk is None else ("ok" if chk["feasible"] else "INFEASIBLE")
    line = (f"| {name} | {bv} | {bd:.2f} | {len(routes)} | {dist:.2f} | {gap:.2f} | {ok} | {cell} "
            f"| {wall:.2f} |")
    md.append(line)
    print(line, flush=True)

# Per class and in total.
classes = {}
for r in rows:
    classes.setdefault(r["instance"].rstrip("0123456789").upper(), []).append(r)
classes["total"] = rows


def agg(rs):
    eq = [r["gap_pct"] for r in rs if r["vehicles"] == r["bks_vehicles"]]
    return {"n": len(rs), "vehicles": sum(r["vehicles"] for r in rs),
            "bks_vehicles": sum(r["bks_vehicles"] for r in rs),
            "distance": sum(r["distance"] for r in rs),
            "bks_distance": sum(r["bks_distance"] for r in rs),
            "mean_gap_pct": statistics.mean(r["gap_pct"] for r in rs),
            "n_matching_vehicles": len(eq),
            "mean_gap_pct_matching_vehicles": statistics.mean(eq) if eq else None,
            "feasible": sum(r["feasible"] for r in rs)}


summ = {k: agg(v) for k, v in classes.items()}
bks_kind = "distance-minimising best-known (mindist)" if a.objective == "distance" else \
    "hierarchical best-known (SINTEF: vehicles, then distance)"
md += ["", f"Best-known: {bks_kind}.", "",
       "| class | n | veh | BKS veh | dist | BKS dist | mean gap% | veh = BKS | mean gap% where veh = BKS | feasible |",
       "|---|---|---|---|---|---|---|---|---|---|"]
for k, s in summ.items():
    eqg = "–" if s["mean_gap_pct_matching_vehicles"] is None else f"{s['mean_gap_pct_matching_vehicles']:.2f}"
    md.append(f"| {k} | {s['n']} | {s['vehicles']} | {s['bks_vehicles']} | {s['distance']:.1f} | "
              f"{s['bks_distance']:.1f} | {s['mean_gap_pct']:.2f} | {s['n_matching_vehicles']}/{s['n']} | "
              f"{eqg} | {s['feasible']}/{s['n']} |")
beaten = [r for r in rows if r["feasible"] and r["distance"] < r["bks_distance"] - 0.005
          and (a.objective == "distance" or r["vehicles"] <= r["bks_vehicles"])]
md.append("")
if beaten:
    md.append("Best-known distances beaten (below by more than the 0.005 of rounding"
              + ("" if a.objective == "distance" else ", with no more vehicles") + "): "
              + ", ".join(f"{r['instance']} ({r['distance']:.2f} < {r['bks_distance']:.2f}, "
                          f"{r['vehicles']} veh)" for r in beaten) + ".")
else:
    md.append("No best-known distance beaten.")
t = summ["total"]
md.append(f"\nFeasible {t['feasible']}/{t['n']}"
          + (" (own re-scoring and check.py)" if a.check else " (own re-scoring only; check.py not run)")
          + f"; wall per instance mean {statistics.mean(r['wall_s'] for r in rows):.2f} s, "
          f"max {max(r['wall_s'] for r in rows):.2f} s.")
print("\n".join(md[len(rows) + 2:]))
summary = {"classes": summ, "beaten": [r["instance"] for r in beaten],
           "scorer_failures": scorer_failures}
ctx.finish(c)

if not a.no_record:
    os.makedirs(ctx.RECORDS, exist_ok=True)
    title = f"{'Solomon' if a.set == 'solomon' else 'Li & Lim'}, planner only, {tl_s} s per instance, {a.objective}"
    with open(os.path.join(ctx.RECORDS, name_rec + ".md"), "w") as f:
        f.write(ctx.header_md(title, c) + "\n" + "\n".join(md) + "\n")
    with open(os.path.join(ctx.RECORDS, name_rec + ".jsonl"), "w") as f:
        f.write(ctx.context_line(c))
        for r in rows:
            f.write(json.dumps(r) + "\n")
        f.write(json.dumps({"summary": summary}) + "\n")
    print(f"\nrecorded benches/records/{name_rec}.md and .jsonl", file=sys.stderr)
if scorer_failures:
    sys.exit(f"error: check.py gave no verdict on {', '.join(scorer_failures)}")
if t["feasible"] < t["n"]:
    sys.exit(1)
