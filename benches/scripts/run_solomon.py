#!/usr/bin/env python3
"""Runs `planner solve` on every Solomon instance and prints a table against bks.csv.

Usage: run_solomon.py [--planner PATH] [--time-limit S] [--objective hierarchical|distance]
                      [--seed N] [--threads N] [--data DIR] [--only PREFIX] [--check]
Feasibility and distance are recomputed here (Euclidean, double precision, same rules as
../shared/bench-tools/check.py); --check also runs that checker when it exists.
"""
import argparse, csv, json, math, os, subprocess, sys, time

here = os.path.dirname(os.path.abspath(__file__))
root = os.path.normpath(os.path.join(here, "..", ".."))
ap = argparse.ArgumentParser()
ap.add_argument("--planner", default=os.path.join(os.environ.get("CARGO_TARGET_DIR", os.path.join(root, "target")), "release", "planner"))
ap.add_argument("--time-limit", type=float, default=1.0)
ap.add_argument("--objective", default="hierarchical")
ap.add_argument("--seed", type=int, default=1)
ap.add_argument("--threads", type=int, default=0)
ap.add_argument("--data", default=os.path.join(root, "planner", "data", "solomon"))
ap.add_argument("--only", default="")
ap.add_argument("--check", action="store_true")
ap.add_argument("--jsonl", default="")
a = ap.parse_args()
if not os.path.exists(a.planner):
    sys.exit(f"no planner binary at {a.planner}: build it (cargo build --release -p planner) "
             "or pass --planner / set CARGO_TARGET_DIR")


def read(path):
    lines = [l.split() for l in open(path).read().splitlines() if l.strip()]
    vi = next(i for i, l in enumerate(lines) if l[0].upper() == "VEHICLE")
    cap = float(lines[vi + 2][1])
    rows = [list(map(float, l)) for l in lines if len(l) == 7 and l[0].replace(".", "").isdigit()]
    return cap, {int(r[0]): r for r in rows}


def score(path, routes):
    cap, n = read(path)
    depot = n[0]
    d = lambda p, q: math.hypot(p[1] - q[1], p[2] - q[2])
    seen, total, ok = set(), 0.0, True
    for r in routes:
        t, load, prev = depot[4], 0, depot
        for c in r:
            x = n[c]
            total += d(prev, x)
            t += d(prev, x)
            if t > x[5] + 1e-6:
                ok = False
            t = max(t, x[4]) + x[6]
            load += x[3]
            seen.add(c)
            prev = x
        total += d(prev, depot)
        t += d(prev, depot)
        ok = ok and t <= depot[5] + 1e-6 and load <= cap
    ok = ok and len(seen) == len(n) - 1 and sum(map(len, routes)) == len(seen)
    return ok, total


bks = {r["instance"]: r for r in csv.DictReader(open(os.path.join(a.data, "bks.csv")))}
names = sorted(k for k in bks if k.startswith(a.only))
print(f"| instance | BKS veh | BKS dist | veh | dist | gap% | feasible | wall_s |")
print("|---|---|---|---|---|---|---|---|")
tot = {"veh": 0, "dist": 0.0, "bveh": 0, "bdist": 0.0, "feas": 0}
cls = {}
out = open(a.jsonl, "w") if a.jsonl else None
for name in names:
    path = os.path.join(a.data, name + ".txt")
    cmd = [a.planner, "solve", path, "--format", "solomon", "--time-limit", str(a.time_limit),
           "--seed", str(a.seed), "--objective", a.objective, "--threads", str(a.threads)]
    t0 = time.time()
    p = subprocess.run(cmd, capture_output=True, text=True)
    wall = time.time() - t0
    try:
        res = json.loads(p.stdout.strip().splitlines()[-1])
        routes = [r for r in res["routes"] if r]
        ok, dist = score(path, routes)
    except Exception as e:  # noqa: BLE001
        print(f"{name}: failed: {e} {p.stderr[:200]}", file=sys.stderr)
        routes, ok, dist = [], False, float("nan")
    if a.check and ok:
        chk = os.path.join(root, "..", "shared", "bench-tools", "check.py")
        if os.path.exists(chk):
            c = subprocess.run([sys.executable, chk, path, "-"], input=p.stdout, capture_output=True, text=True)
            ok = ok and c.returncode == 0
    b = bks[name]
    if a.objective == "distance":
        bv, bd = int(b["mindist_vehicles"]), float(b["mindist_distance"])
    else:
        bv, bd = int(b["vehicles"]), float(b["distance"])
    gap = 100 * (dist - bd) / bd
    print(f"| {name} | {bv} | {bd:.2f} | {len(routes)} | {dist:.2f} | {gap:.2f} | {ok} | {wall:.2f} |", flush=True)
    if out:
        out.write(json.dumps({"instance": name, "vehicles": len(routes), "distance": dist, "feasible": ok, "wall_s": wall}) + "\n")
    k = name.rstrip("0123456789")
    c = cls.setdefault(k, {"n": 0, "veh": 0, "dist": 0.0, "bveh": 0, "bdist": 0.0, "gap": 0.0})
    for dct in (tot, c):
        dct["veh"] += len(routes); dct["dist"] += dist; dct["bveh"] += bv; dct["bdist"] += bd
    c["n"] += 1; c["gap"] += gap
    tot["feas"] += ok
    tot.setdefault("gap", 0.0); tot["gap"] += gap
print()
print("| class | n | veh | BKS veh | dist | BKS dist | mean gap% |")
print("|---|---|---|---|---|---|---|")
for k, c in cls.items():
    print(f"| {k} | {c['n']} | {c['veh']} | {c['bveh']} | {c['dist']:.1f} | {c['bdist']:.1f} | {c['gap']/c['n']:.2f} |")
print(f"| total | {len(names)} | {tot['veh']} | {tot['bveh']} | {tot['dist']:.1f} | {tot['bdist']:.1f} | {tot.get('gap',0)/max(1,len(names)):.2f} |")
print(f"\nfeasible {tot['feas']}/{len(names)}")
