#!/usr/bin/env python3
"""The planner's VROOM door against VROOM itself (pyvroom) on generated city days, at equal time.

Usage: run_vroom_door.py [--planner PATH] [--days 100x6,300x15,1000x40] [--seeds 1,2,3]
                         [--time-limit S] [--threads N] [--record NAME | --no-record]

Each day comes from `planner generate --jobs N --couriers M --seed S` (the city days of
run_generated.py: windows, a second window for 10 %, deliveries and pickups in two
dimensions, skills, breaks) and is written in VROOM's input format with integer duration
and distance matrices (the planner's own estimate: great circle x 1.3 at 8 m/s, rounded to
whole seconds and metres) and VROOM's default costs (3,600 per hour of travel: cost =
travel seconds). The same file goes to `planner solve --format vroom --time-limit T` and
to pyvroom (`Input.from_json`, exploration level 5, the same thread count, timeout T).
Both answers are in VROOM's format; each is turned into routes of task ids per vehicle and
scored by one checker, `planner check --format vroom` (feasibility re-computed from the
problem, the break placed where the route returns earliest, distance and travel time).

Writes benches/records/NAME.md and .jsonl (first line {"context": ...}); NAME defaults to
vroom-door-<T>s. Needs ../shared/bench-tools/.venv with pyvroom (see its README).
"""
import argparse
import json
import math
import os
import re
import shlex
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import context as ctx  # noqa: E402

ap = argparse.ArgumentParser()
ap.add_argument("--planner", default=ctx.default_planner())
ap.add_argument("--days", default="100x6,300x15,1000x40")
ap.add_argument("--seeds", default="1,2,3")
ap.add_argument("--time-limit", type=float, default=5.0)
ap.add_argument("--threads", type=int, default=2)
ap.add_argument("--record", default="")
ap.add_argument("--no-record", action="store_true")
a = ap.parse_args()

ctx.need_planner(a.planner)
VENV_PY = os.path.join(ctx.BENCH_TOOLS, ".venv", "bin", "python")
if not os.path.exists(VENV_PY):
    sys.exit(f"error: {VENV_PY} missing: set up the peers first (../shared/bench-tools/README.md)")

R = 6371008.8  # the planner's (geo's) mean Earth radius, metres


def metres(p, q):
    la1, la2 = math.radians(p["lat"]), math.radians(q["lat"])
    dla, dlo = la2 - la1, math.radians(q["lon"] - p["lon"])
    h = math.sin(dla / 2) ** 2 + math.cos(la1) * math.cos(la2) * math.sin(dlo / 2) ** 2
    return 2 * R * math.asin(math.sqrt(h)) * 1.3


def to_vroom(day):
    """A generated day in VROOM's format: jobs numbered 1.., vehicles 1.., skills as numbers."""
    skill_no = {}
    sk = lambda names: [skill_no.setdefault(s, len(skill_no) + 1) for s in names]  # noqa: E731
    pts = [j["location"] for j in day["jobs"]]
    for v in day["vehicles"]:
        pts += [v["start"], v["end"]]
    dist = [[round(metres(p, q)) for q in pts] for p in pts]
    dur = [[round(d / 8.0) for d in row] for row in dist]
    n = len(day["jobs"])
    jobs = []
    for i, j in enumerate(day["jobs"]):
        o = {"id": i + 1, "location_index": i, "location": [j["location"]["lon"], j["location"]["lat"]],
             "service": round(j.get("service", 0)), "delivery": j.get("delivery", []),
             "pickup": j.get("pickup", []), "skills": sk(j.get("skills", [])),
             "priority": j.get("priority", 0)}
        if j.get("time_windows"):
            o["time_windows"] = [[round(w["start"]), round(w["end"])] for w in j["time_windows"]]
        jobs.append(o)
    vehicles = []
    for k, v in enumerate(day["vehicles"]):
        o = {"id": k + 1, "start_index": n + 2 * k, "end_index": n + 2 * k + 1,
             "capacity": v.get("capacity", []), "skills": sk(v.get("skills", [])),
             "time_window": [round(v["shift"]["start"]), round(v["shift"]["end"])]}
        b = v.get("break")
        if b:
            o["breaks"] = [{"id": k + 1, "service": round(b["duration"]),
                            "time_windows": [[round(b["window"]["start"]), round(b["window"]["end"])]]}]
        vehicles.append(o)
    return {"jobs": jobs, "vehicles": vehicles,
            "matrices": {"car": {"durations": dur, "distances": dist}}}


def run_pyvroom(path, t):
    code = (
        "import json, sys, datetime, vroom\n"
        "path, t, threads = sys.argv[1], float(sys.argv[2]), int(sys.argv[3])\n"
        "prob = vroom.Input.from_json(path)\n"
        "sol = prob.solve(exploration_level=5, nb_threads=threads, timeout=datetime.timedelta(seconds=t))\n"
        "print(json.dumps(sol.to_dict()))\n"
    )
    t0 = time.perf_counter()
    p = subprocess.run([VENV_PY, "-c", code, path, str(t), str(a.threads)],
                       capture_output=True, text=True)
    wall = time.perf_counter() - t0
    if p.returncode != 0:
        return None, wall, p.stderr[-400:]
    return json.loads(p.stdout), wall, ""


def run_planner(path, t):
    t0 = time.perf_counter()
    p = subprocess.run([a.planner, "solve", path, "--format", "vroom", "--time-limit", str(t),
                        "--threads", str(a.threads)], capture_output=True, text=True)
    wall = time.perf_counter() - t0
    if p.returncode != 0:
        return None, wall, p.stdout[-400:] + p.stderr[-400:]
    return json.loads(p.stdout), wall, ""


def routes_of(answer, vproblem):
    """VROOM answer -> the planner's solution JSON without schedule: route i on vehicle i."""
    by_vehicle = {r["vehicle"]: [f"job:{s['id']}" for s in r["steps"] if s["type"] == "job"]
                  for r in answer.get("routes", [])}
    routes = [by_vehicle.get(v["id"], []) for v in vproblem["vehicles"]]
    unassigned = [{"id": f"job:{u['id']}", "reason": "no_room"} for u in answer.get("unassigned", [])]
    return {"routes": routes, "unassigned": unassigned}


def score(problem_path, answer, vproblem, tmp):
    sol = os.path.join(tmp, "score.json")
    json.dump(routes_of(answer, vproblem), open(sol, "w"))
    p = subprocess.run([a.planner, "check", problem_path, sol, "--format", "vroom"],
                       capture_output=True, text=True)
    m = re.match(r"feasible: (\d+) vehicles, distance ([\d.]+), duration ([\d.]+), cost ([\d.]+), "
                 r"(\d+) unassigned", p.stdout)
    if p.returncode != 0 or not m:
        return {"feasible": False, "violations": p.stdout.splitlines()[:5]}
    return {"feasible": True, "vehicles": int(m[1]), "distance_m": float(m[2]),
            "travel_s": float(m[4]), "unassigned": int(m[5])}


argv = " ".join(shlex.quote(x) for x in sys.argv[1:])
c = ctx.context(seed=a.seeds, threads=a.threads, time_limit=a.time_limit, objective="vroom cost",
                scorer_ran=False, planner=a.planner,
                command=f"python3 benches/scripts/run_vroom_door.py {argv}".strip())
rows = []
tmp = tempfile.mkdtemp(prefix="vroom-door-")
md = ["| day | seed | solver | feasible | unassigned | vehicles | travel h | km | wall s |",
      "|---|---|---|---|---|---|---|---|---|"]
print("\n".join(md), flush=True)
for spec in a.days.split(","):
    jobs, couriers = map(int, spec.split("x"))
    for seed in map(int, a.seeds.split(",")):
        g = subprocess.run([a.planner, "generate", "--jobs", str(jobs), "--couriers", str(couriers),
                            "--seed", str(seed)], capture_output=True, text=True, check=True)
        vp = to_vroom(json.loads(g.stdout))
        path = os.path.join(tmp, f"day-{spec}-{seed}.json")
        json.dump(vp, open(path, "w"))
        for solver, run in [("planner", run_planner), ("pyvroom", run_pyvroom)]:
            answer, wall, err = run(path, a.time_limit)
            s = score(path, answer, vp, tmp) if answer else {"feasible": False, "violations": [err]}
            row = {"day": spec, "seed": seed, "solver": solver, "wall_s": wall, **s}
            rows.append(row)
            line = (f"| {spec} | {seed} | {solver} | {s['feasible']} | {s.get('unassigned', '–')} | "
                    f"{s.get('vehicles', '–')} | "
                    + (f"{s['travel_s'] / 3600:.2f} | {s['distance_m'] / 1000:.1f}" if s["feasible"] else "– | –")
                    + f" | {wall:.2f} |")
            md.append(line)
            print(line, flush=True)

# Per day size: totals over the seeds, only where both solvers were feasible.
summary = ["", "| day | solver | seeds | unassigned | vehicles | travel h | km |", "|---|---|---|---|---|---|---|"]
for spec in a.days.split(","):
    seeds = [s for s in map(int, a.seeds.split(","))
             if all(r["feasible"] for r in rows if r["day"] == spec and r["seed"] == s)]
    for solver in ["planner", "pyvroom"]:
        rs = [r for r in rows if r["day"] == spec and r["solver"] == solver and r["seed"] in seeds]
        if not rs:
            continue
        summary.append(f"| {spec} | {solver} | {len(rs)} | {sum(r['unassigned'] for r in rs)} | "
                       f"{sum(r['vehicles'] for r in rs)} | {sum(r['travel_s'] for r in rs) / 3600:.2f} | "
                       f"{sum(r['distance_m'] for r in rs) / 1000:.1f} |")
print("\n".join(summary))
ctx.finish(c)
if not a.no_record:
    name = a.record or f"vroom-door-{a.time_limit:g}s"
    os.makedirs(ctx.RECORDS, exist_ok=True)
    with open(os.path.join(ctx.RECORDS, name + ".md"), "w") as f:
        f.write(ctx.header_md(f"The VROOM door against pyvroom, {a.time_limit:g} s per day", c))
        f.write("\nScored by `planner check --format vroom` on the same VROOM file (feasibility, "
                "travel time = VROOM's cost, distance). Totals per size over the seeds where both "
                "solvers were feasible.\n\n")
        f.write("\n".join(md + summary) + "\n")
    with open(os.path.join(ctx.RECORDS, name + ".jsonl"), "w") as f:
        f.write(ctx.context_line(c))
        for r in rows:
            f.write(json.dumps(r) + "\n")
    print(f"recorded benches/records/{name}.md and .jsonl")
