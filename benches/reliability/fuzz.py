#!/usr/bin/env python3
"""Schemathesis against the OpenAPI document, once per role.

    CLAIMROUTE_BIN=target/release/claimroute python3 benches/reliability/fuzz.py
    MAX_EXAMPLES=50 ROLE_TIMEOUT=600 python3 benches/reliability/fuzz.py      # the bigger run

For each of the seven roles (admin, head, manager, dispatcher, courier, customer, dealer) a
fresh server with the demo city on SQLite (its own data dir, so what one role changes does
not starve the next), a sign-in, and `schemathesis run` on /api-docs/openapi.json with
`Authorization: Bearer <token>` and the checks not_a_server_error, status_code_conformance,
content_type_conformance and response_schema_conformance, bounded by MAX_EXAMPLES per
operation and by `timeout` per role. The venv (target/reliability/venv, schemathesis pinned)
is created when missing.

Environment:
  CLAIMROUTE_BIN   the server binary (default: `cargo build --release`, target/release/claimroute)
  MAX_EXAMPLES     test cases per operation and phase (default 3)
  ROLE_TIMEOUT     seconds per role, via `timeout` (default 32: about 4 minutes for all seven)
  ROLES            comma-separated subset of the roles (default: all seven)
  WORKERS          schemathesis workers (default 1: threads gain nothing under the GIL, and
                   on Python 3.11 they hit CPython bug gh-106905, a SystemError in `ast`)
  SEED             schemathesis seed (default: random, printed)
  FAIL_ON          checks whose failures fail the run (default: all four)
  SUMMARY          the summary's file name under target/reliability (default fuzz-summary.json)
  EXCLUDE_PATH_REGEX  operations left out (default: ^/api/v1/auth/logout-all$, which revokes
                   the token the run uses)

Writes target/reliability/fuzz-summary.json (requests per role, statuses, 5xx, failures by
check with one request and response each) and exits 1 on any failure of the FAIL_ON checks,
any 5xx, or a role whose run could not start. Errors inside schemathesis itself (a
`NonFatalError` event, e.g. a Python `SystemError` while generating data) are listed under
`tool_errors` and do not fail the run: they are no answer of the server.
"""

from __future__ import annotations

import base64
import json
import os
import random
import shutil
import subprocess
import sys
import time
from collections import Counter
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from common import OUT_DIR, Server, binary, free_port, login  # noqa: E402

SCHEMATHESIS = "schemathesis==4.32.5"
ROLES = {
    "admin": "admin@demo.test",
    "head": "head@demo.test",
    "manager": "manager1@demo.test",
    "dispatcher": "dispatcher@demo.test",
    "courier": "courier1@demo.test",
    "customer": "customer1@demo.test",
    "dealer": "dealer1@demo.test",
}
CHECKS = ["not_a_server_error", "status_code_conformance", "content_type_conformance",
          "response_schema_conformance"]


def venv() -> Path:
    env_dir = OUT_DIR / "venv"
    st = env_dir / "bin" / "schemathesis"
    want = SCHEMATHESIS.split("==")[1]
    if st.exists():
        out = subprocess.run([str(st), "--version"], capture_output=True, text=True).stdout
        if want in out:
            return st
    print(f"creating {env_dir} with {SCHEMATHESIS}", flush=True)
    subprocess.run([sys.executable, "-m", "venv", str(env_dir)], check=True)
    subprocess.run([str(env_dir / "bin" / "pip"), "install", "-q", SCHEMATHESIS], check=True)
    return st


def decode(blob, limit=600):
    if blob is None:
        return None
    if isinstance(blob, dict) and "$base64" in blob:
        raw = base64.b64decode(blob["$base64"])
    elif isinstance(blob, dict) and "string" in blob:
        raw = blob["string"].encode()
    else:
        return blob
    text = raw.decode("utf-8", "replace")
    return text if len(text) <= limit else text[:limit] + f"... ({len(raw)} bytes)"


def read_report(path: Path) -> dict:
    """Requests, statuses and failed checks from schemathesis' NDJSON event stream."""
    statuses: Counter = Counter()
    failures: dict[tuple, dict] = {}
    by_check: Counter = Counter()
    errors: list[str] = []
    requests = 0
    server_errors: list[dict] = []
    if not path.exists():
        return {"requests": 0, "statuses": {}, "failures_by_check": {}, "failures": [],
                "errors": ["no report written"], "server_errors": []}
    for line in path.open():
        try:
            event = json.loads(line)
        except ValueError:
            continue
        name, body = next(iter(event.items()))
        if "Error" in name:  # schemathesis' own trouble (NonFatalError, FatalError)
            value = body.get("value") if isinstance(body, dict) else None
            errors.append({"event": name, "operation": (body or {}).get("label"),
                           "phase": (body or {}).get("phase"),
                           "error": value if value else json.dumps(body)[:800]})
            continue
        if name != "ScenarioFinished":
            continue
        rec = body.get("recorder") or {}
        label = rec.get("label")
        interactions = rec.get("interactions") or {}
        for case_id, it in interactions.items():
            requests += 1
            resp = it.get("response") or {}
            code = resp.get("status_code")
            statuses[str(code)] += 1
            if code is not None and code >= 500 and len(server_errors) < 20:
                server_errors.append({"operation": label, "request": request_of(it),
                                      "response": response_of(it)})
        for case_id, checks in (rec.get("checks") or {}).items():
            for c in checks:
                if c.get("status") != "failure":
                    continue
                by_check[c["name"]] += 1
                it = interactions.get(case_id) or {}
                resp = it.get("response") or {}
                key = (label, c["name"], resp.get("status_code"))
                if key in failures:
                    failures[key]["count"] += 1
                    continue
                info = c.get("failure_info") or {}
                failure = info.get("failure") or {}
                failures[key] = {
                    "operation": label, "check": c["name"], "count": 1,
                    "title": failure.get("title"), "message": failure.get("message"),
                    "request": request_of(it), "response": response_of(it),
                    "curl": info.get("code_sample"),
                }
    return {"requests": requests, "statuses": dict(sorted(statuses.items())),
            "failures_by_check": dict(by_check), "failures": list(failures.values()),
            "errors": errors, "server_errors": server_errors}


def request_of(it: dict) -> dict:
    req = it.get("request") or {}
    headers = {k: v for k, v in (req.get("headers") or {}).items() if k.lower() != "authorization"}
    return {"method": req.get("method"), "uri": req.get("uri"), "headers": headers,
            "body": decode(req.get("body"))}


def response_of(it: dict) -> dict:
    resp = it.get("response") or {}
    return {"status": resp.get("status_code"),
            "content_type": (resp.get("headers") or {}).get("content-type"),
            "body": decode(resp.get("content"))}


def main() -> int:
    max_examples = int(os.environ.get("MAX_EXAMPLES", "3"))
    role_timeout = int(os.environ.get("ROLE_TIMEOUT", "32"))
    workers = os.environ.get("WORKERS", "1")
    seed = int(os.environ.get("SEED", str(random.randint(1, 2**31))))
    fail_on = set(filter(None, os.environ.get("FAIL_ON", ",".join(CHECKS)).split(",")))
    exclude = os.environ.get("EXCLUDE_PATH_REGEX", "^/api/v1/auth/logout-all$")
    roles = [r for r in os.environ.get("ROLES", ",".join(ROLES)).split(",") if r]
    OUT_DIR.mkdir(parents=True, exist_ok=True)
    st = venv()
    bin_path = binary()
    work = OUT_DIR / f"fuzz-{time.strftime('%Y%m%d-%H%M%S')}"
    work.mkdir(parents=True)
    print(f"fuzz: roles {','.join(roles)}, MAX_EXAMPLES {max_examples}, ROLE_TIMEOUT "
          f"{role_timeout}s, seed {seed}, {work}", flush=True)
    t0 = time.monotonic()
    per_role: dict[str, dict] = {}
    failed = False
    for role in roles:
        rdir = work / role
        rdir.mkdir()
        server = Server(bin_path, rdir / "data", None, free_port(), rdir / "server.log")
        started = time.monotonic()
        try:
            server.start()
            token = login(server.base, ROLES[role])
            cmd = ["timeout", "-s", "INT", "-k", "15", str(role_timeout), str(st), "run",
                   f"{server.base}/api-docs/openapi.json",
                   "-H", f"Authorization: Bearer {token}",
                   "--checks", ",".join(CHECKS),
                   "--max-examples", str(max_examples),
                   "--workers", workers,
                   "--seed", str(seed),
                   "--request-timeout", "30",
                   "--exclude-path-regex", exclude,
                   "--report", "ndjson,junit",
                   "--report-dir", str(rdir / "report"),
                   "--report-ndjson-path", str(rdir / "report" / "events.ndjson"),
                   "--no-color", "--output-truncate", "true"]
            with open(rdir / "schemathesis.log", "w") as log:
                rc = subprocess.run(cmd, stdout=log, stderr=subprocess.STDOUT).returncode
            alive = server.proc.poll() is None
            # The token still works (nothing in the run revoked it or deactivated the user)?
            from common import call
            token_ok = call(server.base, "GET", "/claims?limit=1", token).status != 401
        except Exception as e:  # noqa: BLE001
            rc, alive, token_ok = -1, False, False
            print(f"[{role}] could not run: {e}", flush=True)
        finally:
            server.stop()
        rep = read_report(rdir / "report" / "events.ndjson")
        fivexx = sum(n for s, n in rep["statuses"].items() if s not in ("None",) and int(s) >= 500)
        role_failed = (any(c in fail_on for c in rep["failures_by_check"]) or fivexx > 0
                       or not alive or rep["requests"] == 0 or rc not in (0, 1, 124, 130))
        failed |= role_failed
        per_role[role] = {
            "requests": rep["requests"],
            "seconds": round(time.monotonic() - started, 1),
            "timed_out": rc in (124, 130, 137),
            "schemathesis_exit": rc,
            "server_alive_after": alive,
            "token_valid_after": token_ok,
            "http_5xx": fivexx,
            "schema_violations": rep["failures_by_check"].get("response_schema_conformance", 0),
            "failures_by_check": rep["failures_by_check"],
            "statuses": rep["statuses"],
            "failures": rep["failures"],
            "server_errors": rep["server_errors"],
            "tool_errors": rep["errors"][:10],
            "failed": role_failed,
        }
        print(f"[{role}] {rep['requests']} requests in {per_role[role]['seconds']}s, "
              f"5xx {fivexx}, failures {rep['failures_by_check'] or 'none'}, "
              f"schemathesis exit {rc}{' (timeout)' if per_role[role]['timed_out'] else ''}, "
              f"tool errors {len(rep['errors'])}, "
              f"token valid after: {token_ok}", flush=True)
    total_by_check: Counter = Counter()
    for r in per_role.values():
        total_by_check.update(r["failures_by_check"])
    summary = {
        "schemathesis": SCHEMATHESIS, "max_examples": max_examples,
        "role_timeout_s": role_timeout, "seed": seed, "checks": CHECKS,
        "fail_on": sorted(fail_on), "excluded_paths": exclude,
        "wall_s": round(time.monotonic() - t0, 1),
        "requests": sum(r["requests"] for r in per_role.values()),
        "http_5xx": sum(r["http_5xx"] for r in per_role.values()),
        "schema_violations": total_by_check.get("response_schema_conformance", 0),
        "failures_by_check": dict(total_by_check),
        # Errors inside schemathesis itself (not answers of the server): reported, not failed on.
        "tool_errors": [{"role": k, **e} for k, v in per_role.items() for e in v["tool_errors"]],
        "requests_per_role": {k: v["requests"] for k, v in per_role.items()},
        "passed": not failed,
        "roles": per_role,
        "reports": str(work),
    }
    out = OUT_DIR / os.environ.get("SUMMARY", "fuzz-summary.json")
    out.write_text(json.dumps(summary, indent=2, default=str))
    brief = {k: v for k, v in summary.items() if k != "roles"}
    brief["roles"] = {k: {x: v[x] for x in ("requests", "seconds", "timed_out", "http_5xx",
                                            "schema_violations", "failures_by_check",
                                            "token_valid_after", "failed")}
                      | {"tool_errors": len(v["tool_errors"])}
                      for k, v in per_role.items()}
    print(json.dumps(brief, indent=2))
    for role, r in per_role.items():
        for f in r["failures"]:
            print(f"FAIL [{role}] {f['operation']} {f['check']} x{f['count']}: "
                  f"{f['request']['method']} {f['request']['uri']} -> {f['response']['status']} "
                  f"{f['response']['content_type']}: {(f['title'] or '')} {(f['message'] or '')[:300]}")
    print(f"written to {out}")
    if not os.environ.get("KEEP"):
        for role in roles:
            shutil.rmtree(work / role / "data", ignore_errors=True)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
