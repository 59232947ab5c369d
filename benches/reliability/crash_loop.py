#!/usr/bin/env python3
"""Crash loop: `kill -9` the server under concurrent claim filings and decisions, restart
it on the same data, and check that every acknowledged write is there and whole.

    CLAIMROUTE_BIN=target/release/claimroute python3 benches/reliability/crash_loop.py --backend sqlite
    PG_URL=postgres://postgres@127.0.0.1:5432 python3 benches/reliability/crash_loop.py --backend postgres

Writers (threads): the eight demo customers and the dealer file claims (`POST /claims` with
an `Idempotency-Key`); both managers walk the claims assigned to them through review
(`new` -> `info_check` -> `diagnostics` -> `decision`, `POST /claims/{id}/transition`) and
decide them (`POST /claims/{id}/decision`: replacement, refund, repair or reject; an
override where the warranty does not cover the claim). Every 2xx answer is recorded.
After 0.5-3 s the server is killed with SIGKILL; it is restarted with `--demo` on the same
data dir (and database), which is idempotent, and then:

* every acknowledged filing exists with the content that was sent (serial, description,
  remedy, filer);
* every acknowledged transition left the claim at that stage or later;
* every acknowledged decision is there (decision, reason code, refund amount, the status
  it answered), with the jobs it answered;
* no claim in the whole database is half-written: an approval by courier or on site
  without jobs, jobs on a claim without an approving decision;
* no filing is there twice: every description is unique, and each filing whose answer was
  lost at the kill is sent again with its key after the restart (it must come back as the
  first claim or file it once);
* the demo city was not seeded again (users and demo claims counted).

The summary goes to target/reliability/crash-<backend>.json; the exit code is 1 on any
lost, half-written or duplicated write.
"""

from __future__ import annotations

import argparse
import json
import random
import shutil
import sys
import threading
import time
import uuid
from datetime import datetime, timedelta, timezone
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from common import OUT_DIR, Server, binary, call, free_port, login, psql  # noqa: E402

REVIEW = ["new", "info_check", "diagnostics", "decision"]
RANK = {s: i for i, s in enumerate(REVIEW)}
APPROVALS = {"replacement", "refund", "repair"}
REJECT_CODES = ["misuse", "mechanical_damage", "not_covered", "other"]


class Ledger:
    """What the server acknowledged, and what it answered otherwise."""

    def __init__(self):
        self.lock = threading.Lock()
        self.filings: dict[int, dict] = {}       # claim id -> what was sent
        self.unacked_filings: list[dict] = []    # sent, no answer (kill): retried after restart
        self.transitions: dict[int, str] = {}    # claim id -> furthest stage acknowledged
        self.decisions: dict[int, dict] = {}     # claim id -> decision acknowledged
        self.counts = {"filings_sent": 0, "decisions_sent": 0, "transitions_sent": 0, "transitions_acked": 0,
                       "conn_errors": 0, "http_5xx": 0, "http_4xx": 0,
                       "filings_retried": 0, "filings_retry_acked": 0,
                       "filings_retry_same_claim": 0}
        self.errors_5xx: list[dict] = []
        self.errors_4xx: list[dict] = []

    def bad(self, what: str, answer, request: dict, killing: bool):
        with self.lock:
            if answer.status is None:
                self.counts["conn_errors"] += 1
            elif answer.status >= 500:
                self.counts["http_5xx"] += 1
                if len(self.errors_5xx) < 50:
                    self.errors_5xx.append({"what": what, "status": answer.status,
                                            "body": answer.body, "request": request,
                                            "during_kill": killing})
            else:
                self.counts["http_4xx"] += 1
                if len(self.errors_4xx) < 20:
                    self.errors_4xx.append({"what": what, "status": answer.status,
                                            "body": answer.body, "request": request})


class Run:
    def __init__(self, args):
        self.args = args
        self.ledger = Ledger()
        self.go = threading.Event()       # writers run while set
        self.stop = threading.Event()     # writers end
        self.killing = False
        self.tokens: dict[str, str] = {}
        self.tok_lock = threading.Lock()
        self.idle = threading.Semaphore(0)
        self.server: Server | None = None
        self.rng = random.Random(args.seed)

    # -- tokens -----------------------------------------------------------------------
    def token(self, email: str) -> str:
        with self.tok_lock:
            if email not in self.tokens:
                self.tokens[email] = login(self.server.base, email)
            return self.tokens[email]

    def relogin(self, email: str) -> None:
        with self.tok_lock:
            self.tokens.pop(email, None)

    def api(self, email: str, method: str, path: str, body=None, headers=None):
        a = call(self.server.base, method, path, self.token(email), body, headers)
        if a.status == 401:  # an access token lives 15 minutes
            self.relogin(email)
            a = call(self.server.base, method, path, self.token(email), body, headers)
        return a

    # -- writers ----------------------------------------------------------------------
    def writer(self, fn, email: str, rng: random.Random):
        while not self.stop.is_set():
            if not self.go.is_set():
                self.idle.release()
                while not self.go.wait(0.05):
                    if self.stop.is_set():
                        return
                continue
            try:
                fn(email, rng)
            except Exception as e:  # a writer must not die: count and go on
                print(f"writer {email}: {type(e).__name__}: {e}", file=sys.stderr, flush=True)
                time.sleep(0.1)

    def claim_body(self, email: str, rng: random.Random) -> dict:
        tomorrow = (datetime.now(timezone.utc) + timedelta(days=1)).date()
        start = rng.choice([8, 10, 12, 14, 16])
        if email.startswith("customer"):
            serial = f"DEMO-000{email[len('customer'):email.index('@')]}"
        elif rng.random() < 0.7:
            serial = f"DEMO-000{rng.randint(1, 8)}"
        else:
            serial = f"CRASH-{uuid.uuid4().hex[:10]}"
        body = {
            "serial_no": serial,
            "defect_category": rng.choice(["does_not_start", "leak", "noise", "display"]),
            "description": f"crash-loop {uuid.uuid4()}",
            "requested_remedy": rng.choice(sorted(APPROVALS)),
            "address": f"Invalidenstrasse {rng.randint(1, 200)}, Berlin",
            "lat": round(52.45 + rng.random() * 0.1, 5),
            "lon": round(13.30 + rng.random() * 0.15, 5),
            "preferred_windows": [{
                "start": f"{tomorrow}T{start:02d}:00:00Z",
                "end": f"{tomorrow}T{start + 2:02d}:00:00Z",
            }],
        }
        if serial.startswith("CRASH-"):
            n = rng.randint(1, 10**9)
            body["customer"] = {"name": f"Walk-in {n}", "email": f"walkin{n}@crash.test"}
        return body

    def file_claim(self, email: str, rng: random.Random):
        body = self.claim_body(email, rng)
        key = str(uuid.uuid4())
        with self.ledger.lock:
            self.ledger.counts["filings_sent"] += 1
        a = self.api(email, "POST", "/claims", body, {"Idempotency-Key": key})
        if a.ok:
            self.ack_filing(a.body, body, email)
        else:
            self.ledger.bad("file", a, {"path": "POST /claims", "key": key, "body": body},
                            self.killing)
            if a.status is None or a.status >= 500:
                with self.ledger.lock:
                    self.ledger.unacked_filings.append({"email": email, "key": key, "body": body})
        time.sleep(rng.random() * self.args.pause)

    def ack_filing(self, claim: dict, body: dict, email: str):
        with self.ledger.lock:
            self.ledger.filings[claim["id"]] = {
                "email": email, "filed_by": claim["filed_by"], "serial_no": body["serial_no"],
                "description": body["description"],
                "requested_remedy": body["requested_remedy"]}

    def manage(self, email: str, rng: random.Random):
        a = self.api(email, "GET", "/claims?limit=100")
        if not a.ok:
            self.ledger.bad("list", a, {"path": "GET /claims?limit=100"}, self.killing)
            time.sleep(0.05)
            return
        todo = [c for c in a.body["items"] if c["status"] in RANK]
        if not todo:
            time.sleep(0.05)
            return
        claim = rng.choice(todo)
        cid, status = claim["id"], claim["status"]
        while status != "decision":
            nxt = REVIEW[RANK[status] + 1]
            with self.ledger.lock:
                self.ledger.counts["transitions_sent"] += 1
            req = {"to": nxt, "note": f"crash-loop {nxt}"}
            t = self.api(email, "POST", f"/claims/{cid}/transition", req)
            if not t.ok:
                self.ledger.bad("transition", t,
                                {"path": f"POST /claims/{cid}/transition", "body": req},
                                self.killing)
                return
            status = t.body["status"]
            with self.ledger.lock:
                self.ledger.counts["transitions_acked"] += 1
                prev = self.ledger.transitions.get(cid)
                if prev is None or RANK.get(status, 9) > RANK.get(prev, 9):
                    self.ledger.transitions[cid] = status
            if status not in RANK:
                return
        kind = rng.choice(["replacement", "refund", "repair", "reject"])
        req: dict = {"decision": kind}
        if kind == "reject":
            req["reason_code"] = rng.choice(REJECT_CODES)
            req["reason"] = "crash-loop rejection"
        else:
            if kind == "refund":
                req["refund_amount_cents"] = rng.randint(1000, 99999)
            if claim["warranty"]["status"] != "in_warranty":
                req["override"] = {"reason": "crash-loop goodwill"}
        with self.ledger.lock:
            self.ledger.counts["decisions_sent"] += 1
        d = self.api(email, "POST", f"/claims/{cid}/decision", req)
        if not d.ok:
            self.ledger.bad("decide", d, {"path": f"POST /claims/{cid}/decision", "body": req},
                            self.killing)
            return
        with self.ledger.lock:
            self.ledger.decisions[cid] = {
                "request": req, "status": d.body["claim"]["status"],
                "jobs": sorted(j["id"] for j in d.body["jobs"])}

    # -- checks -----------------------------------------------------------------------
    def scan(self, email: str, path: str) -> list[dict]:
        items, cursor = [], None
        while True:
            sep = "&" if "?" in path else "?"
            p = f"{path}{sep}limit=200" + (f"&cursor={cursor}" if cursor else "")
            a = self.api(email, "GET", p)
            if not a.ok:
                raise RuntimeError(f"GET {p}: {a.status} {a.body} {a.error}")
            items += a.body["items"]
            cursor = a.body.get("next_cursor")
            if not cursor:
                return items

    def retry_unacked(self):
        """Filings whose answer was lost at the kill: the same key again."""
        with self.ledger.lock:
            pending, self.ledger.unacked_filings = self.ledger.unacked_filings, []
        for f in pending:
            self.ledger.counts["filings_retried"] += 1
            a = self.api(f["email"], "POST", "/claims", f["body"], {"Idempotency-Key": f["key"]})
            if a.ok:
                self.ledger.counts["filings_retry_acked"] += 1
                self.ack_filing(a.body, f["body"], f["email"])
            else:
                self.ledger.bad("file-retry", a, {"path": "POST /claims", "key": f["key"],
                                                  "body": f["body"]}, False)

    def verify(self, baseline: dict | None) -> dict:
        claims = {c["id"]: c for c in self.scan("head@demo.test", "/claims")}
        jobs: dict[int, list[dict]] = {}
        for j in self.scan("head@demo.test", "/jobs"):
            jobs.setdefault(j["claim_id"], []).append(j)
        users = len(self.scan("admin@demo.test", "/users"))
        demo_claims = sum(1 for c in claims.values()
                          if not c["description"].startswith("crash-loop "))
        problems = {"lost_filings": [], "changed_filings": [], "lost_transitions": [],
                    "lost_decisions": [], "half_written": [], "duplicates": [],
                    "reseeded": []}
        with self.ledger.lock:
            filings = dict(self.ledger.filings)
            transitions = dict(self.ledger.transitions)
            decisions = dict(self.ledger.decisions)
        for cid, f in filings.items():
            c = claims.get(cid)
            if c is None:
                problems["lost_filings"].append({"id": cid, **f})
                continue
            got = {k: c[k] for k in ("serial_no", "description", "requested_remedy", "filed_by")}
            want = {k: f[k] for k in got}
            if got != want:
                problems["changed_filings"].append({"id": cid, "sent": want, "stored": got})
        for cid, stage in transitions.items():
            c = claims.get(cid)
            if c is None or RANK.get(c["status"], 9) < RANK.get(stage, 9):
                problems["lost_transitions"].append(
                    {"id": cid, "acked": stage, "stored": c and c["status"]})
        for cid, d in decisions.items():
            c = claims.get(cid)
            req = d["request"]
            dec = (c or {}).get("decision") or {}
            bad = (c is None or c["status"] != d["status"]
                   or dec.get("decision") != req["decision"]
                   or dec.get("reason_code") != req.get("reason_code")
                   or dec.get("refund_amount_cents") != req.get("refund_amount_cents"))
            have = sorted(j["id"] for j in jobs.get(cid, []))
            if not bad and not set(d["jobs"]) <= set(have):
                bad = True
            if bad:
                problems["lost_decisions"].append(
                    {"id": cid, "acked": d, "stored_status": c and c["status"],
                     "stored_decision": dec, "stored_jobs": have})
        for cid, c in claims.items():
            dec = c.get("decision") or {}
            approved = dec.get("decision") in APPROVALS
            needs_jobs = approved and dec.get("logistics") in ("courier", "onsite")
            has_jobs = bool(jobs.get(cid))
            if (needs_jobs and not has_jobs) or (has_jobs and not approved):
                problems["half_written"].append(
                    {"id": cid, "status": c["status"], "decision": dec,
                     "jobs": [j["id"] for j in jobs.get(cid, [])]})
        seen: dict[str, list[int]] = {}
        for cid, c in claims.items():
            if c["description"].startswith("crash-loop "):
                seen.setdefault(c["description"], []).append(cid)
        problems["duplicates"] = [ids for ids in seen.values() if len(ids) > 1]
        now = {"users": users, "demo_claims": demo_claims}
        if baseline and now != baseline:
            problems["reseeded"].append({"before": baseline, "after": now})
        return {"claims": len(claims), "jobs": sum(map(len, jobs.values())),
                "baseline": now, "problems": problems}

    # -- the loop ---------------------------------------------------------------------
    def main(self) -> int:
        args = self.args
        stamp = time.strftime("%Y%m%d-%H%M%S")
        work = OUT_DIR / f"crash-{args.backend}-{stamp}"
        if work.exists():
            shutil.rmtree(work)
        work.mkdir(parents=True)
        db_url, db_name = None, None
        if args.backend == "postgres":
            db_name = f"claimroute_crash_{stamp.replace('-', '_')}"
            admin_url = args.pg_url.rstrip("/") + "/postgres"
            psql(admin_url, f"CREATE DATABASE {db_name}")
            db_url = args.pg_url.rstrip("/") + "/" + db_name
        self.server = Server(binary(), work / "data", db_url, args.port or free_port(),
                             work / "server.log")
        summary: dict = {"backend": args.backend, "kills_planned": args.kills}
        rounds: list[dict] = []
        t_start = time.monotonic()
        threads = []
        try:
            up = self.server.start()
            print(f"[{args.backend}] server up in {up:.1f}s on {self.server.base}", flush=True)
            first = self.verify(None)
            baseline = first["baseline"]
            writers = [(self.file_claim, f"customer{i}@demo.test") for i in range(1, 9)]
            writers += [(self.file_claim, "dealer1@demo.test")] * args.dealers
            writers += [(self.manage, "manager1@demo.test"),
                        (self.manage, "manager2@demo.test")] * args.manager_threads
            for email in {e for _, e in writers} | {"head@demo.test", "admin@demo.test"}:
                self.token(email)
            self.go.set()
            for i, (fn, email) in enumerate(writers):
                th = threading.Thread(target=self.writer,
                                      args=(fn, email, random.Random(args.seed * 1000 + i)),
                                      daemon=True)
                th.start()
                threads.append(th)
            for k in range(1, args.kills + 1):
                self.killing = False
                self.go.set()
                wait = self.rng.uniform(0.5, 3.0)
                time.sleep(wait)
                self.killing = True
                self.server.kill9()
                self.go.clear()
                for _ in threads:  # every writer is back at the gate
                    self.idle.acquire()
                restart = self.server.start()
                self.retry_unacked()
                v = self.verify(baseline)
                p = v["problems"]
                r = {"kill": k, "after_s": round(wait, 2), "restart_s": round(restart, 2),
                     "claims": v["claims"], "jobs": v["jobs"],
                     "acked_filings": len(self.ledger.filings),
                     "acked_decisions": len(self.ledger.decisions),
                     **{name: len(items) for name, items in p.items()}}
                rounds.append(r)
                print(f"[{args.backend}] kill {k}/{args.kills} after {wait:.2f}s: "
                      f"restart {restart:.1f}s, {v['claims']} claims, {v['jobs']} jobs, "
                      f"acked filings {r['acked_filings']}, decisions {r['acked_decisions']}, "
                      + ", ".join(f"{n} {len(i)}" for n, i in p.items()), flush=True)
                last = v
            self.stop.set()
            for th in threads:
                th.join(timeout=5)
            p = last["problems"]
            c = self.ledger.counts
            summary.update({
                "kills": len(rounds),
                "acknowledged_filings": len(self.ledger.filings),
                "acknowledged_transitions": len(self.ledger.transitions),
                "acknowledged_decisions": len(self.ledger.decisions),
                "acknowledged_approvals": sum(1 for d in self.ledger.decisions.values()
                                              if d["request"]["decision"] in APPROVALS),
                "lost_writes": len(p["lost_filings"]) + len(p["changed_filings"])
                + len(p["lost_transitions"]) + len(p["lost_decisions"]),
                "half_written_decisions": len(p["half_written"]),
                "duplicate_filings": len(p["duplicates"]),
                "demo_reseeded": bool(p["reseeded"]),
                "unacknowledged": {"connection_errors": c["conn_errors"],
                                   "http_5xx": c["http_5xx"]},
                "http_4xx": c["http_4xx"],
                "requests": {k2: c[k2] for k2 in ("filings_sent", "transitions_sent", "transitions_acked",
                                                  "decisions_sent", "filings_retried",
                                                  "filings_retry_acked")},
                "claims_in_db": last["claims"], "jobs_in_db": last["jobs"],
                "wall_s": round(time.monotonic() - t_start, 1),
                "rounds": rounds,
                "problems": {k2: v2[:20] for k2, v2 in p.items() if v2},
                "errors_5xx": self.ledger.errors_5xx,
                "errors_4xx_sample": self.ledger.errors_4xx,
            })
        finally:
            self.stop.set()
            self.go.set()
            self.server.stop()
            if db_name and not args.keep:
                try:
                    psql(args.pg_url.rstrip("/") + "/postgres",
                         f"DROP DATABASE IF EXISTS {db_name} WITH (FORCE)")
                except Exception as e:  # noqa: BLE001
                    print(f"drop database {db_name}: {e}", file=sys.stderr)
            if not args.keep:
                shutil.rmtree(work / "data", ignore_errors=True)
        out = OUT_DIR / f"crash-{args.backend}.json"
        out.write_text(json.dumps(summary, indent=2, default=str))
        brief = {k: v for k, v in summary.items()
                 if k not in ("rounds", "errors_4xx_sample", "problems", "errors_5xx")}
        print(json.dumps(brief, indent=2))
        print(f"written to {out} (server log: {work / 'server.log'})")
        failed = (summary.get("lost_writes", 1) or summary.get("half_written_decisions", 1)
                  or summary.get("duplicate_filings", 1) or summary.get("demo_reseeded", True))
        return 1 if failed else 0


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--backend", choices=["sqlite", "postgres"], default="sqlite")
    ap.add_argument("--kills", type=int, help="default 10 on SQLite, 3 on PostgreSQL")
    ap.add_argument("--pg-url", default=__import__("os").environ.get(
        "PG_URL", "postgres://postgres@127.0.0.1:5432"),
        help="PostgreSQL server (a fresh database is created and dropped)")
    ap.add_argument("--port", type=int, default=0)
    ap.add_argument("--dealers", type=int, default=1, help="dealer writer threads")
    ap.add_argument("--manager-threads", type=int, default=3,
                    help="writer threads per manager (two managers decide)")
    ap.add_argument("--pause", type=float, default=0.05,
                    help="each filer sleeps up to this many seconds between filings")
    ap.add_argument("--seed", type=int, default=int(time.time()))
    ap.add_argument("--keep", action="store_true", help="keep the data dir and database")
    args = ap.parse_args()
    if args.kills is None:
        args.kills = 10 if args.backend == "sqlite" else 3
    OUT_DIR.mkdir(parents=True, exist_ok=True)
    print(f"crash loop: backend {args.backend}, {args.kills} kills, seed {args.seed}", flush=True)
    return Run(args).main()


if __name__ == "__main__":
    sys.exit(main())
