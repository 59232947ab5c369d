#!/usr/bin/env python3
"""Generated city days: plan each with `planner solve`, measure it, check it, record it.

Usage: run_generated.py [--planner PATH] [--seed N] [--threads N] [--only NAME,...]
                        [--workdir DIR] [--record NAME]

Each day comes from `planner generate --jobs N --couriers M --seed 1` (a 20 x 20 km box
around Lyon; 60 % of the jobs around six centres, 40 % scattered uniformly; 2-hour windows,
10 % with a second one; deliveries and pickups in two dimensions; fridge and heavy skills;
couriers from three hubs, two shift patterns, a 30-minute break). Two variants of the
10,000-job day are derived from it here, deterministically:

- `tight`: every courier's capacity lowered, per dimension, to
  floor(total demand / (0.9 x couriers)), so that what the jobs carry (deliveries plus
  pickups) is at least 90 % of the fleet's capacity in each dimension (the generator
  leaves 1.8 x, i.e. 56 %). The measured ratio is recorded.
- `tight-onboard`: tighter still: capacity floor(total deliveries / (0.9 x couriers)), so
  the deliveries alone, all on board when the couriers leave, fill at least 90 % of the
  fleet's capacity (deliveries plus pickups are then about 120 % of it: pickups only fit
  once deliveries are made).
- `mix`: the jobs re-placed, 50 % in 20 tight clusters (Gaussian, sigma 400 m, centres
  uniform in the box) and 50 % uniformly in the box (Python `random`, seed 2); everything
  else as generated.

Each day is solved with `/usr/bin/time -v planner solve DAY --time-limit T --seed S`
(peak RSS = "Maximum resident set size"; installed with apt-get when missing) and the
output is checked with `planner check DAY SOLUTION` (every stated figure, schedule
included). Writes benches/records/generated-days.md and .jsonl (first line {"context": ...}).
Exit code 1 when a solution is refused by the checker. Nothing is tuned to a target: the
figures are what the run gave.
"""
import argparse
import json
import math
import os
import random
import re
import shlex
import shutil
import subprocess
import sys
import tempfile

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import context as ctx  # noqa: E402

CASES = [
    # name, jobs, couriers, budget (s), variant
    ("city-1000", 1000, 30, 30, None),
    ("city-2000", 2000, 60, 30, None),
    ("city-5000", 5000, 150, 60, None),
    ("city-10000", 10000, 300, 60, None),
    ("city-10000-tight", 10000, 300, 60, "tight"),
    ("city-10000-tight-onboard", 10000, 300, 60, "tight-onboard"),
    ("city-10000-mix", 10000, 300, 60, "mix"),
]

ap = argparse.ArgumentParser()
ap.add_argument("--planner", default=ctx.default_planner())
ap.add_argument("--seed", type=int, default=1)
ap.add_argument("--threads", type=int, default=0)
ap.add_argument("--only", default="", help="comma list of case names")
ap.add_argument("--workdir", default="", help="keep problems and solutions here")
ap.add_argument("--record", default="generated-days")
a = ap.parse_args()
ctx.need_planner(a.planner)

TIME = "/usr/bin/time"
if not os.path.exists(TIME):
    print("/usr/bin/time missing: installing the `time` package with apt-get", file=sys.stderr)
    sudo = [] if os.geteuid() == 0 else ["sudo"]
    subprocess.run(sudo + ["apt-get", "install", "-y", "time"], check=False)
    if not os.path.exists(TIME):
        sys.exit("error: /usr/bin/time is still missing (apt-get install time failed): "
                 "peak memory cannot be measured")

work = a.workdir or tempfile.mkdtemp(prefix="generated-days-")
os.makedirs(work, exist_ok=True)
cases = [c for c in CASES if not a.only or c[0] in a.only.split(",")]


def dims_total(p, what=("delivery", "pickup")):
    t = [0, 0]
    for j in p["jobs"]:
        for d in range(2):
            t[d] += sum((j.get(k) or [0, 0])[d] for k in what)
    return t


def tighten(p, target=0.9, what=("delivery", "pickup")):
    m = len(p["vehicles"])
    t = dims_total(p, what)
    cap = [math.floor(t[d] / (target * m)) for d in range(2)]
    for v in p["vehicles"]:
        v["capacity"] = list(cap)
    return p


def mix(p, seed=2, share=0.5, clusters=20, sigma_m=400.0):
    rnd = random.Random(seed)
    lat0, lon0, dlat, dlon = 45.76, 4.84, 0.09, 0.13  # the generator's box
    m_lat = 111_320.0
    m_lon = 111_320.0 * math.cos(math.radians(lat0))
    cs = [(lat0 + (rnd.random() - 0.5) * dlat, lon0 + (rnd.random() - 0.5) * dlon)
          for _ in range(clusters)]
    for j in p["jobs"]:
        if rnd.random() < share:
            la, lo = cs[rnd.randrange(clusters)]
            la = min(max(la + rnd.gauss(0, sigma_m) / m_lat, lat0 - dlat / 2), lat0 + dlat / 2)
            lo = min(max(lo + rnd.gauss(0, sigma_m) / m_lon, lon0 - dlon / 2), lon0 + dlon / 2)
        else:
            la, lo = lat0 + (rnd.random() - 0.5) * dlat, lon0 + (rnd.random() - 0.5) * dlon
        j["location"] = {"lat": la, "lon": lo}
    return p


def utilisation(p, sol):
    """Peak load on board per route / capacity (binding dimension), and the fleet's."""
    jobs = {j["id"]: j for j in p["jobs"]}
    veh = {v["id"]: v for v in p["vehicles"]}
    peaks, fleet_cap = [], [0, 0]
    for v in p["vehicles"]:
        for d in range(2):
            fleet_cap[d] += v["capacity"][d]
    peak_sum = [0, 0]
    for r in sol.get("schedule", []):
        cap = veh[r["vehicle"]]["capacity"]
        start = [sum((jobs[s["job"]].get("delivery") or [0, 0])[d] for s in r["stops"] if s["job"])
                 for d in range(2)]
        pk = list(start)
        for s in r["stops"]:
            for d in range(2):
                pk[d] = max(pk[d], s["load"][d])
        for d in range(2):
            peak_sum[d] += pk[d]
        peaks.append(max(pk[d] / cap[d] for d in range(2)))
    return {
        "routes_mean_peak_load_pct": 100 * sum(peaks) / len(peaks) if peaks else None,
        "routes_min_peak_load_pct": 100 * min(peaks) if peaks else None,
        "routes_at_or_above_90pct": sum(x >= 0.9 for x in peaks),
        "fleet_peak_load_pct": [100 * peak_sum[d] / fleet_cap[d] for d in range(2)],
    }


def parse_time_v(text):
    out = {}
    m = re.search(r"Maximum resident set size \(kbytes\): (\d+)", text)
    out["peak_rss_mib"] = int(m.group(1)) / 1024 if m else None
    m = re.search(r"Elapsed \(wall clock\) time \(h:mm:ss or m:ss\): (\S+)", text)
    if m:
        parts = [float(x) for x in m.group(1).split(":")]
        out["elapsed_s"] = sum(x * 60 ** i for i, x in enumerate(reversed(parts)))
    m = re.search(r"Percent of CPU this job got: (\d+)%", text)
    out["cpu_pct"] = int(m.group(1)) if m else None
    return out


argv = " ".join(shlex.quote(x) for x in sys.argv[1:])
c = ctx.context(seed=a.seed, threads=a.threads, time_limit="per case (see table)",
                objective="distance (cost), the default for JSON problems", scorer_ran=False,
                planner=a.planner,
                command=f"python3 benches/scripts/run_generated.py {argv}".strip(),
                extra={"checker": "planner check PROBLEM SOLUTION (the planner's own "
                                  "independent checker, check.rs) on every solution"})
rows, refused = [], []
for name, jobs, couriers, budget, variant in cases:
    la_start = ctx.loadavg()
    prob_path = os.path.join(work, name + ".json")
    g = subprocess.run([a.planner, "generate", "--jobs", str(jobs), "--couriers", str(couriers),
                        "--seed", "1"], capture_output=True, text=True, check=True)
    p = json.loads(g.stdout)
    if variant == "tight":
        p = tighten(p)
    elif variant == "tight-onboard":
        p = tighten(p, what=("delivery",))
    elif variant == "mix":
        p = mix(p)
    with open(prob_path, "w") as f:
        json.dump(p, f)
    tot = dims_total(p)
    fleet = [sum(v["capacity"][d] for v in p["vehicles"]) for d in range(2)]
    demand_pct = [100 * tot[d] / fleet[d] for d in range(2)]
    dl = dims_total(p, ("delivery",))
    delivery_pct = [100 * dl[d] / fleet[d] for d in range(2)]
    sol_path = os.path.join(work, name + ".solution.json")
    tv_path = os.path.join(work, name + ".time-v.txt")
    cmd = [TIME, "-v", "-o", tv_path, a.planner, "solve", prob_path, "--time-limit", str(budget),
           "--seed", str(a.seed), "--threads", str(a.threads)]
    print(f"{name}: {jobs} jobs, {couriers} couriers, {budget} s (load {la_start})",
          file=sys.stderr, flush=True)
    with open(sol_path, "w") as so:
        s = subprocess.run(cmd, stdout=so, stderr=subprocess.PIPE, text=True)
    tv = parse_time_v(open(tv_path).read())
    try:
        sol = json.loads(open(sol_path).read().strip().splitlines()[-1])
    except (IndexError, json.JSONDecodeError):
        sol = {}
        print(f"{name}: no solution (exit {s.returncode}): {s.stderr[-300:]}", file=sys.stderr)
    chk = subprocess.run([a.planner, "check", prob_path, sol_path], capture_output=True, text=True)
    verdict = chk.stdout.strip().splitlines()
    if chk.returncode != 0:
        refused.append(name)
    reasons = {}
    for u in sol.get("unassigned", []):
        reasons[u["reason"]] = reasons.get(u["reason"], 0) + 1
    row = {
        "case": name, "jobs": jobs, "couriers": couriers, "budget_s": budget, "variant": variant,
        "demand_pct_of_fleet_capacity": demand_pct,
        "deliveries_pct_of_fleet_capacity": delivery_pct, "capacity": p["vehicles"][0]["capacity"],
        "wall_s": tv.get("elapsed_s"), "planner_wall_s": sol.get("wall_s"),
        "cpu_pct": tv.get("cpu_pct"), "peak_rss_mib": tv.get("peak_rss_mib"),
        "routes": sol.get("vehicles"), "unassigned": len(sol.get("unassigned", [])),
        "unassigned_reasons": reasons, "cost": sol.get("cost"), "distance_m": sol.get("distance"),
        "iterations": sol.get("iterations"), "exit_code": s.returncode,
        "check_exit": chk.returncode, "check": verdict[:5], "loadavg_start": la_start,
    }
    if sol:
        row.update(utilisation(p, sol))
    rows.append(row)
    print(json.dumps({k: row[k] for k in ("case", "wall_s", "routes", "unassigned", "peak_rss_mib",
                                          "check_exit")}), file=sys.stderr, flush=True)
ctx.finish(c)


def f(x, nd=1):
    return "–" if x is None else f"{x:,.{nd}f}"


md = ["| day | jobs / couriers | budget | wall | routes | unassigned | peak RSS | iterations | cost "
      "| demand / fleet capacity (dim 0, dim 1) | `planner check` | load avg at start |",
      "|---|---|---|---|---|---|---|---|---|---|---|---|"]
for r in rows:
    ok = "feasible" if r["check_exit"] == 0 else f"REFUSED (exit {r['check_exit']})"
    un = str(r["unassigned"]) + (f" ({', '.join(f'{k} {v}' for k, v in r['unassigned_reasons'].items())})"
                                 if r["unassigned"] else "")
    md.append(f"| {r['case']} | {r['jobs']:,} / {r['couriers']} | {r['budget_s']} s | {f(r['wall_s'])} s "
              f"| {r['routes']} | {un} | {f(r['peak_rss_mib'])} MiB | {r['iterations']:,} | {f(r['cost'])} "
              f"| {r['demand_pct_of_fleet_capacity'][0]:.1f} %, {r['demand_pct_of_fleet_capacity'][1]:.1f} % "
              f"| {ok} | {r['loadavg_start']} |")
md += ["", "Load on board (from the solution's schedule: the peak load of each route over its "
       "capacity, in its binding dimension; the fleet's sum of route peaks over the fleet's capacity):", "",
       "| day | capacity | deliveries / fleet capacity | mean route peak | lowest route peak | routes ≥ 90 % "
       "| fleet peak (dim 0, dim 1) |",
       "|---|---|---|---|---|---|---|"]
for r in rows:
    if r.get("routes_mean_peak_load_pct") is None:
        continue
    dp = r["deliveries_pct_of_fleet_capacity"]
    md.append(f"| {r['case']} | {r['capacity']} | {dp[0]:.1f} %, {dp[1]:.1f} % | "
              f"{r['routes_mean_peak_load_pct']:.1f} % | "
              f"{r['routes_min_peak_load_pct']:.1f} % | {r['routes_at_or_above_90pct']}/{r['routes']} | "
              f"{r['fleet_peak_load_pct'][0]:.1f} %, {r['fleet_peak_load_pct'][1]:.1f} % |")
md += ["", "`planner check` verdicts:", ""]
for r in rows:
    md.append(f"- {r['case']}: " + " / ".join(r["check"][:3]))
md.append("")
md.append("wall = elapsed time of the `planner solve` process (reading, solving, writing) from "
          "`/usr/bin/time -v`; peak RSS its maximum resident set size. Demand = the sum of every "
          "job's deliveries and pickups; a route's peak load can be below what it carries in the "
          "day, since deliveries leave before pickups come on.")
os.makedirs(ctx.RECORDS, exist_ok=True)
with open(os.path.join(ctx.RECORDS, a.record + ".md"), "w") as fo:
    fo.write(ctx.header_md("Generated city days (planner generate, haversine, breaks, skills, "
                           "two dimensions)", c) + "\n" + "\n".join(md) + "\n")
with open(os.path.join(ctx.RECORDS, a.record + ".jsonl"), "w") as fo:
    fo.write(ctx.context_line(c))
    for r in rows:
        fo.write(json.dumps(r) + "\n")
print("\n".join(md))
if not a.workdir:
    shutil.rmtree(work, ignore_errors=True)
if refused:
    sys.exit(f"error: planner check refused {', '.join(refused)}")
