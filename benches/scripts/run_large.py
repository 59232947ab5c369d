#!/usr/bin/env python3
"""The planner and its peers on 1,000-customer Solomon-style instances, per class.

Usage: run_large.py [--customers 1000] [--classes C1,C2,R1,R2,RC1,RC2] [--seeds 1,2,3]
                    [--time-limit 30] [--objective hierarchical|distance]
                    [--peers pyvrp,vroom,ortools,vrp-cli] [--planner PATH] [--record NAME]
       run_large.py --render benches/records/NAME.jsonl

There are no Gehring & Homberger files in the shared data, so the instances are generated:
`planner generate --solomon-like CLASS --customers N --seed S` (Solomon's text format, the
grid and horizon grown with the square root of the size; see planner/README.md), written to
target/solomon-like/. One compare.py invocation runs every solver on every instance with
the same budget, seed and objective, and its checker scores every result. With no
best-known for these instances, each solver is measured against PyVRP on the same instance:
the distance gap 100·(d - d_pyvrp)/d_pyvrp, per instance and as a mean per class, with the
vehicles beside it (hierarchical: fewest vehicles first, so a solver with fewer vehicles
than PyVRP pays for them in distance).

Hierarchical with PyVRP: where the planner ends with fewer vehicles than PyVRP, PyVRP runs
once more on a copy of the instance whose fleet is the planner's (same budget, seed and
objective; target/solomon-like/same-fleet/), so that the distances at the smallest fleet are
compared at one fleet size ("at the planner's fleet"); `--no-same-fleet` leaves it out.

Writes benches/records/NAME.md and NAME.jsonl (first line {"context": ...}, then
compare.py's lines, then one {"same_fleet": ...} line per re-run), NAME defaulting to
large-<N>-<T>s-<objective>.
"""
import argparse
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
REFERENCE = "pyvrp"

ap = argparse.ArgumentParser()
ap.add_argument("--customers", type=int, default=1000)
ap.add_argument("--classes", default="C1,C2,R1,R2,RC1,RC2")
ap.add_argument("--seeds", default="1,2,3", help="instance seeds (the solvers' seed is --seed)")
ap.add_argument("--time-limit", type=float, default=30.0)
ap.add_argument("--objective", default="hierarchical", choices=["hierarchical", "distance"])
ap.add_argument("--seed", type=int, default=1)
ap.add_argument("--peers", default="pyvrp,vroom,ortools,vrp-cli")
ap.add_argument("--planner", default=ctx.default_planner())
ap.add_argument("--record", default="")
ap.add_argument("--render", metavar="JSONL")
ap.add_argument("--no-same-fleet", action="store_true",
                help="hierarchical: do not re-run PyVRP at the planner's fleet")
a = ap.parse_args()


def class_of(instance):
    return instance.split("-like-")[0]


def summarise(recs, solvers):
    """Per class and solver: feasible runs, mean vehicles and distance, the distance gap to
    PyVRP on the same instance (mean and worst), and how many instances use fewer, as many or
    more vehicles than PyVRP."""
    by = {(x["peer"], x["instance"]): x for x in recs}
    instances = list(dict.fromkeys(x["instance"] for x in recs))
    classes = list(dict.fromkeys(class_of(i) for i in instances))
    out = ["", f"## Per class against {REFERENCE} (this run)", "",
           "| class | solver | feasible | mean vehicles | mean distance | mean gap% to pyvrp | "
           "worst gap% | vehicles fewer / same / more |", "|---|---|---|---|---|---|---|---|"]
    totals = {}
    for k in classes:
        names = [i for i in instances if class_of(i) == k]
        for s in solvers:
            rs = [by[(s, i)] for i in names if (s, i) in by]
            feas = [x for x in rs if x["feasible"]]
            gaps, fewer, same, more = [], 0, 0, 0
            for x in feas:
                ref = by.get((REFERENCE, x["instance"]))
                if not ref or not ref["feasible"]:
                    continue
                gaps.append(100 * (x["distance"] - ref["distance"]) / ref["distance"])
                fewer += x["vehicles"] < ref["vehicles"]
                same += x["vehicles"] == ref["vehicles"]
                more += x["vehicles"] > ref["vehicles"]
            mean = lambda v: statistics.mean(v) if v else None  # noqa: E731
            f2 = lambda v: "–" if v is None else f"{v:.2f}"  # noqa: E731
            row = {"feasible": len(feas), "runs": len(rs),
                   "mean_vehicles": mean([x["vehicles"] for x in feas]),
                   "mean_distance": mean([x["distance"] for x in feas]),
                   "mean_gap_to_pyvrp": mean(gaps), "worst_gap_to_pyvrp": max(gaps) if gaps else None,
                   "fewer_same_more_vehicles": [fewer, same, more]}
            totals.setdefault(k, {})[s] = row
            mv = "–" if row["mean_vehicles"] is None else f"{row['mean_vehicles']:.1f}"
            md = "–" if row["mean_distance"] is None else f"{row['mean_distance']:,.1f}"
            out.append(f"| {k} | {s} | {len(feas)}/{len(rs)} | {mv} | {md} | "
                       f"{f2(row['mean_gap_to_pyvrp'])} | {f2(row['worst_gap_to_pyvrp'])} | "
                       f"{fewer} / {same} / {more} |")
    out += ["", "Gap = 100·(distance − PyVRP's distance)/PyVRP's distance on the same instance, "
            "over the instances both solved feasibly; distances re-evaluated by check.py."]
    return out, totals


def with_fleet(path, fleet, out_dir):
    """A copy of Solomon file `path` in `out_dir` (same name) whose fleet is `fleet`."""
    lines = open(path).read().split("\n")
    i = next(k for k, ln in enumerate(lines) if "NUMBER" in ln and "CAPACITY" in ln)
    j = next(k for k in range(i + 1, len(lines)) if lines[k].strip())
    lines[j] = f"  {fleet}  {lines[j].split()[1]}"
    os.makedirs(out_dir, exist_ok=True)
    out = os.path.join(out_dir, os.path.basename(path))
    with open(out, "w") as f:
        f.write("\n".join(lines))
    return out


def fewer_than_reference(recs):
    """Instances where the planner served everything with fewer vehicles than PyVRP."""
    by = {(x["peer"], x["instance"]): x for x in recs}
    return {i: x["vehicles"] for (s, i), x in by.items()
            if s == "planner" and x["feasible"] and by.get((REFERENCE, i), {}).get("feasible")
            and x["vehicles"] < by[(REFERENCE, i)]["vehicles"]}


def summarise_same_fleet(recs, same):
    """The planner's distance against PyVRP's at the planner's fleet: the re-run where the
    planner used fewer vehicles, else the main run (PyVRP with as many vehicles or more)."""
    by = {(x["peer"], x["instance"]): x for x in recs}
    rerun = {x["same_fleet"]["instance"]: x["same_fleet"] for x in same}
    out = ["", f"## At the planner's fleet: {REFERENCE} re-run with the planner's vehicle count",
           "", "Where the planner used fewer vehicles than PyVRP, PyVRP ran again on the same "
           "instance with its fleet cut to the planner's (same budget, seed and objective).", "",
           "| instance | planner vehicles | planner distance | pyvrp vehicles (main run) | "
           "pyvrp at the planner's fleet | gap% at the planner's fleet |",
           "|---|---|---|---|---|---|"]
    gaps = {}
    for (s, i), x in by.items():
        ref = by.get((REFERENCE, i))
        if s != "planner" or not x["feasible"] or not ref or not ref["feasible"]:
            continue
        if i in rerun:
            r = rerun[i]
            at = f"{r['distance']:,.1f}" if r["feasible"] else "infeasible"
            gap = 100 * (x["distance"] - r["distance"]) / r["distance"] if r["feasible"] else None
        else:
            at = f"(main run) {ref['distance']:,.1f}"
            gap = 100 * (x["distance"] - ref["distance"]) / ref["distance"]
        if gap is not None:
            gaps.setdefault(class_of(i), []).append(gap)
        g = "–" if gap is None else f"{gap:+.2f}"
        out.append(f"| {i} | {x['vehicles']} | {x['distance']:,.1f} | {ref['vehicles']} | {at} "
                   f"| {g} |")
    out += ["", "| class | mean gap% at the planner's fleet | worst gap% |", "|---|---|---|"]
    totals = {}
    for k, g in gaps.items():
        totals[k] = {"mean_gap": statistics.mean(g), "worst_gap": max(g), "instances": len(g)}
        out.append(f"| {k} | {statistics.mean(g):+.2f} | {max(g):+.2f} |")
    allg = [v for g in gaps.values() for v in g]
    if allg:
        out.append(f"| all | {statistics.mean(allg):+.2f} | {max(allg):+.2f} |")
    return out, totals


def write(name, c, body, tot, lines):
    tl = c["time_limit_s"]
    tl = str(int(tl)) if tl == int(tl) else str(tl)
    ctx.write_record(name, f"Planner and peers on {c['customers']}-customer Solomon-style "
                     f"instances: compare.py, {tl} s per instance, {c['objective']}", c, body, tot,
                     lines)


def compare_body(jsonl_path):
    r = subprocess.run([sys.executable, COMPARE, "--render", os.path.abspath(jsonl_path),
                        "--title", "x"], capture_output=True, text=True, cwd=ctx.BENCH_TOOLS,
                       check=True)
    return r.stdout.split("\n", 1)[1]


if a.render:
    lines = [json.loads(l) for l in open(a.render) if l.strip()]
    c = lines[0]["context"]
    recs = [x for x in lines if "peer" in x]
    tot, totals = summarise(recs, c["solvers"])
    same = [x for x in lines if "same_fleet" in x]
    if same:
        more, totals["same_fleet"] = summarise_same_fleet(recs, same)
        tot += more
    keep = [x for x in lines[1:] if "totals" not in x] + [{"totals": totals}]
    write(os.path.basename(a.render)[: -len(".jsonl")], c, compare_body(a.render), tot, keep)
    print("\n".join(tot))
    sys.exit(0)

ctx.need_planner(a.planner)
scorer = ctx.need_scorer()
venv_py = os.path.join(ctx.BENCH_TOOLS, ".venv", "bin", "python")
if not os.path.isfile(COMPARE) or not os.path.exists(venv_py):
    sys.exit("error: the peers need ../shared/bench-tools set up (see its README.md)")

peers, left_out = ctx.choose_peers(a.peers, a.objective, VRP_CLI)

out_dir = os.path.join(ctx.ROOT, "target", "solomon-like")
os.makedirs(out_dir, exist_ok=True)
instances = []
for k in a.classes.split(","):
    for s in a.seeds.split(","):
        text = subprocess.run([a.planner, "generate", "--solomon-like", k, "--customers",
                               str(a.customers), "--seed", s], capture_output=True, text=True,
                              check=True).stdout
        path = os.path.join(out_dir, f"{k.upper()}-like-{a.customers}-{s}.txt")
        with open(path, "w") as f:
            f.write(text)
        instances.append(path)

tl_s = str(int(a.time_limit)) if a.time_limit == int(a.time_limit) else str(a.time_limit)
name = a.record or f"large-{a.customers}-{tl_s}s-{a.objective}"
planner_tmpl = (f"{a.planner} solve {{instance}} --format solomon --time-limit {{time_limit}} "
                f"--seed {{seed}} --objective {{objective}}")
tmp = tempfile.mkdtemp(prefix="large-")
jsonl, out = os.path.join(tmp, "run.jsonl"), os.path.join(tmp, "run.md")
cmd = [sys.executable, COMPARE, "-t", tl_s, *instances, "--seed", str(a.seed),
       "--objective", a.objective, "--peers", ",".join(peers),
       "--peer", f"planner={planner_tmpl}", "--jsonl", jsonl, "--out", out,
       "--title", f"compare.py, {tl_s} s per instance, {a.objective}"]
argv = " ".join(shlex.quote(x) for x in sys.argv[1:])
c = ctx.context(seed=a.seed, threads=0, time_limit=a.time_limit, objective=a.objective,
                scorer_ran=True, scorer=scorer, planner=a.planner,
                command=f"python3 benches/scripts/run_large.py {argv}".strip(),
                extra={"solvers": ["planner", *peers], "left_out": left_out,
                       "customers": a.customers, "classes": a.classes, "instance_seeds": a.seeds,
                       "compare_py": " ".join(shlex.quote(x) for x in cmd[1:])})
print("running: " + " ".join(shlex.quote(x) for x in cmd), file=sys.stderr, flush=True)
r = subprocess.run(cmd, cwd=ctx.BENCH_TOOLS)
if r.returncode != 0 or not os.path.exists(out):
    sys.exit(f"error: compare.py failed (exit {r.returncode})")
ctx.finish(c)
lines = [json.loads(l) for l in open(jsonl) if l.strip()]
recs = [x for x in lines if "peer" in x]
c["versions"] = dict((recs[0]["meta"].get("versions") if recs else None) or {})
c["versions"]["planner"] = subprocess.run([a.planner, "--version"], capture_output=True,
                                          text=True).stdout.strip().removeprefix("planner ")
tot, totals = summarise(recs, ["planner", *peers])
same = []
if a.objective == "hierarchical" and REFERENCE in peers and not a.no_same_fleet:
    fleets = fewer_than_reference(recs)
    capped = [with_fleet(os.path.join(out_dir, f"{i}.txt"), n, os.path.join(out_dir, "same-fleet"))
              for i, n in fleets.items()]
    if capped:
        jsonl2, out2 = os.path.join(tmp, "same-fleet.jsonl"), os.path.join(tmp, "same-fleet.md")
        cmd2 = [sys.executable, COMPARE, "-t", tl_s, *capped, "--seed", str(a.seed),
                "--objective", a.objective, "--peers", REFERENCE, "--jsonl", jsonl2,
                "--out", out2, "--title", "same fleet"]
        print("running: " + " ".join(shlex.quote(x) for x in cmd2), file=sys.stderr, flush=True)
        if subprocess.run(cmd2, cwd=ctx.BENCH_TOOLS).returncode != 0:
            sys.exit("error: compare.py failed on the same-fleet re-runs")
        same = [{"same_fleet": x} for x in (json.loads(ln) for ln in open(jsonl2) if ln.strip())
                if "peer" in x]
        more, totals["same_fleet"] = summarise_same_fleet(recs, same)
        tot += more
        c["same_fleet_compare_py"] = " ".join(shlex.quote(x) for x in cmd2[1:])
    ctx.finish(c)
if left_out:
    tot.append("Not run: " + "; ".join(left_out) + ".")
write(name, c, open(out).read().split("\n", 1)[1], tot, [*lines, *same, {"totals": totals}])
print("\n".join(tot))
print(f"recorded benches/records/{name}.md and .jsonl", file=sys.stderr)
