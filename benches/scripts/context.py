"""The context header every benchmark record carries (standard library only).

`context(...)` returns a dict: when (UTC), what (git commit and whether the tree had
uncommitted changes, the planner binary), how (seed, threads, time limit, objective),
where (cores, `uname -m`, CPU model, kernel, memory, load average at start and the
compilers running at start) and whether the independent scorer ran. `header_md` renders
it as the markdown list that opens every record; the JSONL records start with
`{"context": {...}}` on their first line.
"""

import datetime as dt
import hashlib
import json
import os
import platform
import subprocess
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.normpath(os.path.join(HERE, "..", ".."))
RECORDS = os.path.join(ROOT, "benches", "records")
SHARED = os.path.normpath(os.path.join(ROOT, "..", "shared"))
BENCH_TOOLS = os.path.join(SHARED, "bench-tools")
CHECK_PY = os.path.join(BENCH_TOOLS, "check.py")


def default_planner():
    target = os.environ.get("CARGO_TARGET_DIR", os.path.join(ROOT, "target"))
    return os.path.join(target, "release", "planner")


def need_planner(path):
    if not os.path.exists(path):
        raise SystemExit(f"error: no planner binary at {path}: build it "
                         "(cargo build --release -p planner) or pass --planner / set CARGO_TARGET_DIR")


def need_scorer(path=CHECK_PY):
    """--check must never be skipped silently: a missing scorer stops the run."""
    if not os.path.isfile(path):
        print(f"error: --check asked for the independent scorer, but {path} does not exist "
              "(expected ../shared/bench-tools/check.py next to the project); "
              "nothing was measured", file=sys.stderr)
        sys.exit(2)
    return path


def _git(*args):
    try:
        return subprocess.run(["git", "-C", ROOT, *args], capture_output=True, text=True,
                              check=True).stdout.strip()
    except (OSError, subprocess.CalledProcessError):
        return None


def _sha256(path):
    try:
        with open(path, "rb") as f:
            return hashlib.sha256(f.read()).hexdigest()[:16]
    except OSError:
        return None


def loadavg():
    try:
        return " ".join(open("/proc/loadavg").read().split()[:3])
    except OSError:
        return " ".join(f"{x:.2f}" for x in os.getloadavg())


def _cpu_model():
    try:
        for ln in open("/proc/cpuinfo"):
            if ln.startswith("model name"):
                return ln.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or None


def _mem_total_mib():
    try:
        for ln in open("/proc/meminfo"):
            if ln.startswith("MemTotal:"):
                return int(ln.split()[1]) // 1024
    except OSError:
        pass
    return None


def _compilers_running():
    """Names of compiler processes (rustc, cc1, ld...) running when the run starts."""
    seen = {}
    for pid in os.listdir("/proc"):
        if not pid.isdigit():
            continue
        try:
            name = open(f"/proc/{pid}/comm").read().strip()
        except OSError:
            continue
        if name in ("rustc", "cc1", "cc1plus", "ld", "cargo", "clang", "gcc", "c++", "cc"):
            seen[name] = seen.get(name, 0) + 1
    return seen


def context(*, seed, threads, time_limit, objective, scorer_ran, scorer=None, planner=None,
            command=None, extra=None):
    status = _git("status", "--porcelain", "--untracked-files=no")
    cores = os.cpu_count()
    c = {
        "date_utc": dt.datetime.now(dt.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ"),
        "commit": _git("rev-parse", "HEAD"),
        "dirty": bool(status) if status is not None else None,
        "seed": seed,
        "threads": threads,
        "threads_effective": cores if threads == 0 else threads,
        "time_limit_s": time_limit,
        "objective": objective,
        "machine": {
            "cores": cores,
            "arch": platform.machine(),
            "cpu": _cpu_model(),
            "kernel": platform.release(),
            "mem_mib": _mem_total_mib(),
        },
        "loadavg_start": loadavg(),
        "compilers_running_at_start": _compilers_running(),
        "scorer": {"name": "check.py (../shared/bench-tools)", "path": scorer,
                   "sha256_16": _sha256(scorer) if scorer else None, "ran": scorer_ran},
    }
    if planner:
        c["planner"] = {"path": planner, "sha256_16": _sha256(planner),
                        "mtime_utc": dt.datetime.fromtimestamp(os.path.getmtime(planner), dt.timezone.utc)
                        .strftime("%Y-%m-%dT%H:%M:%SZ") if os.path.exists(planner) else None}
    if command:
        c["command"] = command
    if extra:
        c.update(extra)
    return c


def finish(c):
    c["loadavg_end"] = loadavg()
    c["date_end_utc"] = dt.datetime.now(dt.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")
    return c


def header_md(title, c):
    m = c["machine"]
    la = float(c["loadavg_start"].split()[0])
    lines = [f"# {title}", ""]
    lines.append(f"- **command**: `{c.get('command', '')}`")
    lines.append(f"- **date (UTC)**: {c['date_utc']} to {c.get('date_end_utc', '?')}")
    dirty = " (uncommitted changes in tracked files)" if c["dirty"] else " (clean)"
    lines.append(f"- **commit**: {c['commit']}{dirty}")
    if "planner" in c:
        lines.append(f"- **planner binary**: `{c['planner']['path']}` sha256 {c['planner']['sha256_16']}…, "
                     f"built {c['planner']['mtime_utc']}")
    tl = c["time_limit_s"]
    tl = f"{tl} s" if isinstance(tl, (int, float)) else tl
    lines.append(f"- **seed**: {c['seed']}; **threads**: {c['threads']} "
                 f"({c['threads_effective']} workers); **time limit**: {tl}; "
                 f"**objective**: {c['objective']}")
    lines.append(f"- **machine**: {m['cores']} cores, {m['arch']}, {m['cpu']}, Linux {m['kernel']}, "
                 f"{m['mem_mib']} MiB")
    busy = c.get("compilers_running_at_start") or {}
    note = ""
    if la > 1.5:
        note = " — **busy machine**: load above 1.5 at start"
        if busy:
            note += " (" + ", ".join(f"{v} {k}" for k, v in sorted(busy.items())) + " running)"
    lines.append(f"- **load average** (1/5/15 min): start {c['loadavg_start']}, "
                 f"end {c.get('loadavg_end', '?')}{note}")
    s = c["scorer"]
    lines.append(f"- **independent scorer** ({s['name']}): "
                 + ("ran on every result" if s["ran"] else "not run"))
    if c.get("versions"):
        lines.append("- **versions**: " + ", ".join(f"{k} {v}" for k, v in c["versions"].items()))
    for k in ("note",):
        if c.get(k):
            lines.append(f"- **{k}**: {c[k]}")
    lines.append("")
    return "\n".join(lines)


def context_line(c):
    return json.dumps({"context": c}) + "\n"


def choose_peers(peers_arg, objective, vrp_cli):
    """The peers a compare.py run can take and why the others are left out: vrp-cli only for
    the hierarchical objective (its Solomon reader has no other) and only when installed."""
    peers, left_out = [], []
    for p in [x for x in peers_arg.split(",") if x]:
        if p == "vrp-cli" and objective != "hierarchical":
            left_out.append("vrp-cli (hierarchical objective only)")
        elif p == "vrp-cli" and not os.path.exists(vrp_cli):
            left_out.append(f"vrp-cli (not installed at {vrp_cli})")
        else:
            peers.append(p)
    return peers, left_out


def write_record(name, title, c, body, tot, lines):
    """benches/records/NAME.md (context header, compare.py's tables, our totals) and NAME.jsonl
    (the context line, then the given lines)."""
    os.makedirs(RECORDS, exist_ok=True)
    with open(os.path.join(RECORDS, name + ".md"), "w") as f:
        f.write(header_md(title, c))
        f.write("\ncompare.py's own header and tables follow (its `loadavg` is the same run's).\n")
        f.write(body.rstrip("\n") + "\n" + "\n".join(tot) + "\n")
    with open(os.path.join(RECORDS, name + ".jsonl"), "w") as f:
        f.write(context_line(c))
        for ln in lines:
            f.write(json.dumps(ln) + "\n")
