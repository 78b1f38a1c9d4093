"""The benchmark: Tally against its FastAPI peer, on SQLite and PostgreSQL.
Run it through scripts/bench, which installs what this needs first.

For each backend it starts both apps side by side (each with a fresh
database and its own SMTP sink), runs the shared scenario against both and
stops if they disagree, seeds 16 users through the real API, then drives the
CRUD mix (bench/mix.lua) with wrk at one app at a time, measuring req/s,
latency percentiles, errors, server CPU time per request and memory. With
--scale N it seeds one Tally account with N movements instead and times the
movement list and the overview. Raw results go to bench-results/.
"""

import argparse
import asyncio
import json
import os
import re
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
from datetime import datetime, timezone

import asyncpg
import httpx

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
sys.path.insert(0, HERE)
sys.path.insert(0, os.path.join(ROOT, "e2e"))
import scenario  # noqa: E402
from inbox import last_message, read_code  # noqa: E402

# uvicorn workers for FastAPI, measured on this project's 2-core machine:
# 2 beat 1 on both backends (see bench/README.md, "Worker count").
DEFAULT_WORKERS = {"sqlite": 2, "postgres": 2}
USERS = 16
CLK_TCK = os.sysconf("SC_CLK_TCK")
PAGE_KB = os.sysconf("SC_PAGE_SIZE") // 1024


def say(*parts):
    print("==", *parts, flush=True)


# --- processes we start, always cleaned up -------------------------------------------

_procs: list[subprocess.Popen] = []
_pg_databases: list[str] = []
_admin_url = ""


def start(cmd, *, log_path, env=None, cwd=ROOT) -> subprocess.Popen:
    log = open(log_path, "ab")
    p = subprocess.Popen(
        cmd,
        cwd=cwd,
        env={**os.environ, **(env or {})},
        stdout=log,
        stderr=subprocess.STDOUT,
        stdin=subprocess.DEVNULL,
        start_new_session=True,  # its own process group: stopping it stops its workers
    )
    log.close()
    _procs.append(p)
    return p


def stop(p: subprocess.Popen | None):
    if p is None or p.poll() is not None:
        if p in _procs:
            _procs.remove(p)
        return
    try:
        os.killpg(p.pid, signal.SIGTERM)
    except ProcessLookupError:
        pass
    try:
        p.wait(timeout=15)
    except subprocess.TimeoutExpired:
        try:
            os.killpg(p.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
        p.wait()
    if p in _procs:
        _procs.remove(p)


def cleanup():
    for p in list(_procs):
        stop(p)
    for name in list(_pg_databases):
        try:
            asyncio.run(pg_admin(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        except Exception as e:  # keep cleaning up
            print(f"could not drop database {name}: {e}", file=sys.stderr)
        _pg_databases.remove(name)


def _terminate(signum, _frame):
    raise SystemExit(128 + signum)


async def pg_admin(sql: str):
    conn = await asyncpg.connect(_admin_url)
    try:
        await conn.execute(sql)
    finally:
        await conn.close()


async def pg_admin_on(database_url: str, sql: str):
    """Runs `sql` as the admin user in the given database."""
    conn = await asyncpg.connect(_admin_url.rsplit("/", 1)[0] + "/" + db_name(database_url))
    try:
        await conn.execute(sql)
    finally:
        await conn.close()


# Both apps reach PostgreSQL over loopback, without TLS (a database on the
# same host needs none; with it, both would spend CPU on encryption that a
# same-host deployment does not). BENCH_PG_SSLMODE=prefer measures with it.
PG_SSLMODE = os.environ.get("BENCH_PG_SSLMODE", "disable")


def db_name(url: str) -> str:
    return url.split("?", 1)[0].rsplit("/", 1)[1]


def fresh_pg_database(label: str) -> str:
    name = f"bench_{label}_{secrets.token_hex(4)}"
    asyncio.run(pg_admin(f'CREATE DATABASE "{name}"'))
    _pg_databases.append(name)
    base = _admin_url.rsplit("/", 1)[0]
    return f"{base}/{name}?sslmode={PG_SSLMODE}"


def drop_pg_database(url: str):
    name = db_name(url)
    asyncio.run(pg_admin(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    if name in _pg_databases:
        _pg_databases.remove(name)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_until(check, what: str, timeout=60.0, proc: subprocess.Popen | None = None, log_path=None):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc is not None and proc.poll() is not None:
            tail = open(log_path, errors="replace").read()[-2000:] if log_path else ""
            raise SystemExit(f"{what}: the process exited ({proc.returncode}):\n{tail}")
        try:
            if check():
                return
        except Exception:
            pass
        time.sleep(0.2)
    raise SystemExit(f"{what}: not ready within {timeout:.0f} s")


# --- /proc: CPU time and memory of a process tree ---------------------------------------


def _stat(pid: int):
    """(ppid, utime + stime in ticks) of a live process, or None."""
    try:
        with open(f"/proc/{pid}/stat") as f:
            data = f.read()
    except OSError:
        return None
    fields = data[data.rindex(")") + 2 :].split()
    return int(fields[1]), int(fields[11]) + int(fields[12])


def tree(root: int) -> list[int]:
    """The process and all its descendants."""
    children: dict[int, list[int]] = {}
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            st = _stat(int(entry))
            if st:
                children.setdefault(st[0], []).append(int(entry))
    out, todo = [], [root]
    while todo:
        pid = todo.pop()
        out.append(pid)
        todo.extend(children.get(pid, ()))
    return out


def cpu_ticks(pids) -> dict[int, int]:
    out = {}
    for pid in pids:
        st = _stat(pid)
        if st:
            out[pid] = st[1]
    return out


def rss_kb(pids) -> int:
    total = 0
    for pid in pids:
        try:
            with open(f"/proc/{pid}/statm") as f:
                total += int(f.read().split()[1]) * PAGE_KB
        except OSError:
            pass
    return total


def pss_kb(pids) -> int:
    """Proportional set size: each shared page counted once over the processes
    that share it, so uvicorn's workers and supervisor are not each charged
    for the same library pages, as summed RSS charges them."""
    total = 0
    for pid in pids:
        try:
            with open(f"/proc/{pid}/smaps_rollup") as f:
                for line in f:
                    if line.startswith("Pss:"):
                        total += int(line.split()[1])
                        break
        except OSError:
            pass
    return total


class Sampler(threading.Thread):
    """Sums the resident memory of a process tree every 100 ms."""

    def __init__(self, root: int):
        super().__init__(daemon=True)
        self.root = root
        self.peak = 0
        self.samples = 0
        self._halt = threading.Event()

    def run(self):
        pids, rescan = tree(self.root), time.monotonic() + 1
        while not self._halt.is_set():
            if time.monotonic() > rescan:
                pids, rescan = tree(self.root), time.monotonic() + 1
            self.peak = max(self.peak, rss_kb(pids))
            self.samples += 1
            self._halt.wait(0.1)

    def finish(self) -> int:
        self._halt.set()
        self.join()
        return self.peak


# --- the apps -----------------------------------------------------------------------------


class App:
    def __init__(self, name, backend, out_dir, work_dir, token_key, tally_bin, workers, admin_url, before_start=None):
        self.name = name
        self.backend = backend
        self.out = out_dir
        self.port = free_port()
        self.base = f"http://127.0.0.1:{self.port}"
        self.inbox = os.path.join(work_dir, f"{name}-{backend}-inbox")
        self.log = os.path.join(out_dir, f"{name}.log")
        self.proc = None
        self.smtp = None
        self.workers = workers
        if backend == "sqlite":
            self.database_url = f"sqlite://{os.path.join(work_dir, f'{name}.db')}"
        else:
            self.database_url = fresh_pg_database(name)
        if before_start is not None:
            before_start(self.database_url)
        smtp_port = free_port()
        smtp_log = os.path.join(out_dir, f"{name}-smtp.log")
        self.smtp = start(
            [sys.executable, os.path.join(ROOT, "e2e", "smtp_sink.py"), str(smtp_port), self.inbox], log_path=smtp_log
        )
        wait_until(lambda: "listening" in open(smtp_log).read(), f"{name}: SMTP sink", proc=self.smtp, log_path=smtp_log)
        env = {
            "DATABASE_URL": self.database_url,
            "TALLY_TOKEN_KEY": token_key,
            "TALLY_SMTP_URL": f"smtp://127.0.0.1:{smtp_port}",
        }
        if name.startswith("tally"):
            env.update(
                ROCKET_ADDRESS="127.0.0.1",
                ROCKET_PORT=str(self.port),
                ROCKET_PROFILE="release",
                ROCKET_CLI_COLORS="false",
                RUST_LOG="warn",
                TALLY_SIGNIN_LIMIT_PER_IP="0",
            )
            cmd = [tally_bin, "serve"]
        else:
            prestart = subprocess.run(
                [sys.executable, "-m", "tally_fastapi.prestart"],
                cwd=os.path.join(HERE, "fastapi"),
                env={**os.environ, **env},
                capture_output=True,
                text=True,
            )
            if prestart.returncode != 0:
                raise SystemExit(f"{name} on {backend}: creating the schema failed:\n{prestart.stderr[-2000:]}")
            cmd = [
                sys.executable, "-m", "uvicorn", "tally_fastapi.main:app",
                "--app-dir", os.path.join(HERE, "fastapi"),
                "--host", "127.0.0.1", "--port", str(self.port),
                "--workers", str(workers),
                "--loop", "uvloop", "--http", "httptools",
                "--no-access-log", "--log-level", "warning",
            ]  # fmt: skip
        self.proc = start(cmd, log_path=self.log, env=env)
        wait_until(
            lambda: httpx.get(f"{self.base}/health", timeout=2).status_code == 200,
            f"{name} on {backend}",
            proc=self.proc,
            log_path=self.log,
        )

    def explain(self) -> str:
        """Whether the app still runs, and the end of its log: for a failure report."""
        state = "running" if self.proc.poll() is None else f"exited with {self.proc.returncode}"
        with open(self.log, errors="replace") as f:
            tail = f.read()[-1500:]
        return f"{self.name} on {self.backend} ({self.base}): {state}; its log ends:\n{tail}"

    @property
    def label(self):
        return {"tally": "Tally", "tally_before": "Tally (before)"}.get(self.name, "FastAPI")

    def close(self):
        stop(self.proc)
        stop(self.smtp)
        self.proc = self.smtp = None
        if self.backend == "postgres":
            drop_pg_database(self.database_url)


# --- seeding through the API ---------------------------------------------------------------


async def sign_in(client: httpx.AsyncClient, inbox: str, email: str) -> str:
    before = last_message(inbox)
    r = await client.post("/v1/auth/otp", json={"email": email})
    r.raise_for_status()
    code, _ = await asyncio.to_thread(read_code, inbox, email, before, 30.0)
    r = await client.post("/v1/auth/token", json={"email": email, "code": code})
    r.raise_for_status()
    return r.json()["access_token"]


ACCOUNTS = (
    ("Everyday", "checking", "EUR", 250_000),
    ("Savings", "savings", "EUR", 1_000_000),
    ("Travel", "cash", "USD", 0),
)
CATEGORIES = ("food", "rent", "fun", "travel", "salary", "health", None)


async def seed_user(client, inbox, i, movements_per_account) -> list[str]:
    token = await sign_in(client, inbox, f"user{i:02d}@bench.example.com")
    auth = {"Authorization": f"Bearer {token}"}
    ids = []
    for name, kind, currency, opening in ACCOUNTS:
        r = await client.post(
            "/v1/accounts",
            headers=auth,
            json={"name": name, "kind": kind, "currency": currency, "opening_balance": opening},
        )
        r.raise_for_status()
        ids.append(r.json()["id"])
    for n in range(movements_per_account * len(ids)):
        account = ids[n % len(ids)]
        body = {
            "amount": (n * 7919) % 20000 - 12000 or 1,
            "description": f"Seed movement {n}",
            "occurred_at": f"2026-{1 + n % 12:02d}-{1 + n % 28:02d}T{n % 24:02d}:{n % 60:02d}:00Z",
        }
        if CATEGORIES[n % len(CATEGORIES)]:
            body["category"] = CATEGORIES[n % len(CATEGORIES)]
        r = await client.post(f"/v1/accounts/{account}/movements", headers=auth, json=body)
        r.raise_for_status()
    return [token, *ids]


async def seed(app: App, data_file: str, movements_per_account: int):
    limits = httpx.Limits(max_connections=USERS)
    async with httpx.AsyncClient(base_url=app.base, timeout=30, limits=limits) as client:
        users = await asyncio.gather(
            *(seed_user(client, app.inbox, i, movements_per_account) for i in range(USERS))
        )
    with open(data_file, "w") as f:
        for line in users:
            f.write(" ".join(line) + "\n")


async def _account_sums(client: httpx.AsyncClient, token: str, account: str) -> tuple[int, int, int]:
    auth = {"Authorization": f"Bearer {token}"}
    r = await client.get(f"/v1/accounts/{account}", headers=auth)
    r.raise_for_status()
    balance, total, count, cursor = r.json()["balance"], 0, 0, None
    while True:
        params = {"limit": 200, **({"cursor": cursor} if cursor else {})}
        r = await client.get(f"/v1/accounts/{account}/movements", headers=auth, params=params)
        r.raise_for_status()
        page = r.json()
        total += sum(m["amount"] for m in page["items"])
        count += len(page["items"])
        cursor = page["next_cursor"]
        if cursor is None:
            return balance, total, count


async def check_balances(app: App, data_file: str) -> tuple[bool, str]:
    """After the load: every account's balance is the sum of its movements (read through the API)."""
    pairs = []
    for line in open(data_file):
        token, *accounts = line.split()
        pairs += [(token, a) for a in accounts]
    async with httpx.AsyncClient(base_url=app.base, timeout=60, limits=httpx.Limits(max_connections=8)) as client:
        sem = asyncio.Semaphore(8)

        async def one(token, account):
            async with sem:
                return account, await _account_sums(client, token, account)

        results = await asyncio.gather(*(one(t, a) for t, a in pairs))
    wrong = [(a, b, t) for a, (b, t, _) in results if b != t]
    movements = sum(c for _, (_, _, c) in results)
    if wrong:
        return False, f"{len(wrong)} of {len(results)} balances differ from their movements' sum: {wrong[:3]}"
    return True, f"all {len(results)} balances equal the sum of their movements ({movements:,} movements)"


# --- wrk ----------------------------------------------------------------------------------------


def wrk(url, script, script_args, *, duration, connections, threads, out_path, progress=None, stall=60,
        timeout=10) -> dict:
    """Runs wrk; with `progress`, feeds it wrk's stderr lines and interrupts wrk
    when no line came for `stall` seconds (a seeding that cannot finish)."""
    cmd = [
        "wrk", f"-t{threads}", f"-c{connections}", f"-d{duration}s", "--timeout", f"{timeout}s",
        "-s", script, url, "--", *script_args,
    ]  # fmt: skip
    p = subprocess.Popen(cmd, cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    _procs.append(p)
    stderr_lines = []
    if progress is not None:
        last = [time.monotonic()]

        def watchdog():
            while p.poll() is None:
                if time.monotonic() - last[0] > stall:
                    say(f"  no progress for {stall} s: stopping wrk")
                    p.send_signal(signal.SIGINT)
                    return
                time.sleep(1)

        threading.Thread(target=watchdog, daemon=True).start()
        for line in p.stderr:
            last[0] = time.monotonic()
            stderr_lines.append(line)
            progress(line.strip(), p)
    out, err = p.communicate()
    _procs.remove(p)
    err = "".join(stderr_lines) + err
    with open(out_path, "w") as f:
        f.write(f"$ {' '.join(cmd)}\n{out}\n{err}")
    m = re.search(r"^BENCH_JSON (.*)$", out, re.MULTILINE)
    if p.returncode not in (0, -signal.SIGINT) or not m:
        raise SystemExit(f"wrk failed ({p.returncode}); see {out_path}:\n{out[-1500:]}\n{err[-1500:]}")
    result = json.loads(m.group(1))
    socket_errors = sum(result["socket_errors"].values())
    result["errors"] = result["non2xx"] + socket_errors
    result["rps"] = result["requests"] / (result["duration_us"] / 1e6)
    return result


async def _pg_backends(database: str) -> list[int]:
    conn = await asyncpg.connect(_admin_url)
    try:
        return [r["pid"] for r in await conn.fetch("SELECT pid FROM pg_stat_activity WHERE datname = $1", database)]
    finally:
        await conn.close()


def pg_backends(app: App) -> list[int]:
    """The PostgreSQL server processes serving this app's database (none on SQLite)."""
    if app.backend != "postgres":
        return []
    return asyncio.run(_pg_backends(db_name(app.database_url)))


def measure(app: App, data_file: str, args, out_dir: str) -> dict:
    """Warm-up, then the measured run with CPU and memory sampling."""
    url, script = app.base, os.path.join(HERE, "mix.lua")
    time.sleep(1)
    idle = rss_kb(tree(app.proc.pid))
    warmup = 2 if args.smoke else min(5, max(2, args.duration // 5))
    say(f"{app.label}: warm-up {warmup} s")
    wrk(url, script, [data_file], duration=warmup, connections=args.connections, threads=args.threads,
        out_path=os.path.join(out_dir, f"wrk-{app.name}-warmup.txt"))  # fmt: skip
    pids = tree(app.proc.pid)
    sampler = Sampler(app.proc.pid)
    say(f"{app.label}: {args.duration} s of the mix, {args.connections} connections, {args.threads} wrk threads")
    db_before = cpu_ticks(pg_backends(app))
    before = cpu_ticks(pids)
    sampler.start()
    result = wrk(url, script, [data_file], duration=args.duration, connections=args.connections,
                 threads=args.threads, out_path=os.path.join(out_dir, f"wrk-{app.name}.txt"))  # fmt: skip
    peak = sampler.finish()
    pss = pss_kb(tree(app.proc.pid))
    after = cpu_ticks(tree(app.proc.pid))
    ticks = sum(after.get(pid, 0) - before.get(pid, 0) for pid in after)
    cpu_s = ticks / CLK_TCK
    # Backends that connected during the run count from 0.
    db_after = cpu_ticks(pg_backends(app))
    db_cpu_s = sum(db_after[pid] - db_before.get(pid, 0) for pid in db_after) / CLK_TCK
    result.update(
        app=app.name,
        processes=len(after),
        workers=app.workers if app.name == "fastapi" else None,
        cpu_seconds=cpu_s,
        cpu_us_per_request=cpu_s * 1e6 / max(result["requests"], 1),
        db_cpu_seconds=db_cpu_s if app.backend == "postgres" else None,
        db_cpu_us_per_request=db_cpu_s * 1e6 / max(result["requests"], 1) if app.backend == "postgres" else None,
        idle_rss_kb=idle,
        peak_rss_kb=peak,
        pss_after_kb=pss,
        rss_samples=sampler.samples,
    )
    return result


# --- reporting -------------------------------------------------------------------------------


def fmt_ms(us):
    return f"{us / 1000:.2f} ms" if us < 100_000 else f"{us / 1000:.0f} ms"


def fmt_mb(kb):
    return f"{kb / 1024:.1f} MiB"


def ratio(better, worse):
    if not worse or not better:
        return "—"
    return f"{better / worse:.1f}×"


def table(backend: str, t: dict, f: dict, args, binary_size, b: dict | None = None) -> str:
    rows = [
        ("req/s", f"{t['rps']:,.0f}", f"{f['rps']:,.0f}", ratio(t["rps"], f["rps"])),
        ("p50", fmt_ms(t["latency_us"]["p50"]), fmt_ms(f["latency_us"]["p50"]),
         ratio(f["latency_us"]["p50"], t["latency_us"]["p50"])),
        ("p99", fmt_ms(t["latency_us"]["p99"]), fmt_ms(f["latency_us"]["p99"]),
         ratio(f["latency_us"]["p99"], t["latency_us"]["p99"])),
        ("errors", f"{t['errors']}", f"{f['errors']}", "—"),
        ("CPU µs/request", f"{t['cpu_us_per_request']:,.0f}", f"{f['cpu_us_per_request']:,.0f}",
         ratio(f["cpu_us_per_request"], t["cpu_us_per_request"])),
        ("idle RSS", fmt_mb(t["idle_rss_kb"]), fmt_mb(f["idle_rss_kb"]), ratio(f["idle_rss_kb"], t["idle_rss_kb"])),
        ("peak RSS", fmt_mb(t["peak_rss_kb"]), fmt_mb(f["peak_rss_kb"]), ratio(f["peak_rss_kb"], t["peak_rss_kb"])),
        ("PSS after the mix", fmt_mb(t["pss_after_kb"]), fmt_mb(f["pss_after_kb"]),
         ratio(f["pss_after_kb"], t["pss_after_kb"])),
    ]  # fmt: skip
    if backend == "postgres":
        rows.append((
            "PostgreSQL CPU µs/request", f"{t['db_cpu_us_per_request']:,.0f}", f"{f['db_cpu_us_per_request']:,.0f}",
            ratio(f["db_cpu_us_per_request"], t["db_cpu_us_per_request"]),
        ))  # fmt: skip
    if b is not None:  # the same rows for an earlier build, measured in the same run
        cells = [f"{b['rps']:,.0f}", fmt_ms(b["latency_us"]["p50"]), fmt_ms(b["latency_us"]["p99"]), f"{b['errors']}",
                 f"{b['cpu_us_per_request']:,.0f}", fmt_mb(b["idle_rss_kb"]), fmt_mb(b["peak_rss_kb"]),
                 fmt_mb(b["pss_after_kb"])]  # fmt: skip
        if backend == "postgres":
            cells.append(f"{b['db_cpu_us_per_request']:,.0f}")
        rows = [(*row, cell) for row, cell in zip(rows, cells)]
    name = {"sqlite": "SQLite", "postgres": "PostgreSQL"}[backend]
    workers = f["workers"]
    lines = [
        f"### {name}: {args.duration} s of the mix, {args.connections} connections, {args.threads} wrk threads "
        f"(FastAPI: {workers} uvicorn worker{'s' if workers != 1 else ''})",
        "",
        "| | Tally | FastAPI | ratio |" + (" Tally (before) |" if b is not None else ""),
        "|---|---:|---:|---:|" + ("---:|" if b is not None else ""),
        *("| " + " | ".join(row) + " |" for row in rows),
        "",
        "ratio: how many times better Tally is (> 1: Tally is ahead). CPU µs/request and RSS count the "
        "app's own processes (all uvicorn processes for FastAPI; RSS sums them, so pages they share count "
        "once per process, and PSS counts each page once)"
        + ("; PostgreSQL CPU counts the server processes serving that app's database." if backend == "postgres"
           else "; SQLite runs inside the app's processes."),
    ]
    if binary_size:
        lines.append(f"Tally's binary: {binary_size / 2**20:.1f} MiB stripped.")
    for label, r in (("Tally", t), ("FastAPI", f), ("Tally (before)", b)):
        if r is not None and r["errors"]:
            lines.append(f"{label} errors by status: {r['statuses']}, sockets: {r['socket_errors']}")
    return "\n".join(lines)


def stripped_size(binary: str, work_dir: str) -> int | None:
    if not shutil.which("strip"):
        return None
    out = os.path.join(work_dir, "tally.stripped")
    if subprocess.run(["strip", "-o", out, binary], capture_output=True).returncode != 0:
        return None
    return os.path.getsize(out)


# --- the modes ----------------------------------------------------------------------------------


def run_mix(backend, args, token_key, work_dir, results_dir) -> tuple[str, dict, bool]:
    out_dir = os.path.join(results_dir, backend)
    os.makedirs(out_dir, exist_ok=True)
    workers = args.workers or DEFAULT_WORKERS[backend]
    say(f"{backend}: starting Tally and FastAPI ({workers} worker{'s' if workers != 1 else ''}), fresh databases")
    tally = fastapi = before = None
    try:
        tally = App("tally", backend, out_dir, work_dir, token_key, args.tally_bin, None, args.admin_url)
        if args.before_bin:
            before = App("tally_before", backend, out_dir, work_dir, token_key, args.before_bin, None, args.admin_url)
        fastapi = App("fastapi", backend, out_dir, work_dir, token_key, None, workers, args.admin_url)
        say(f"{backend}: the shared scenario against both")
        try:
            status = scenario.main(["compare", tally.base, tally.inbox, fastapi.base, fastapi.inbox])
        except httpx.TransportError as e:
            raise SystemExit(f"{backend}: the scenario could not reach an app ({e!r})\n{tally.explain()}\n{fastapi.explain()}")
        if status != 0:
            raise SystemExit(f"{backend}: the apps disagree on the shared scenario; no benchmark")
        say(f"{backend}: seeding {USERS} users through the API (sign-in by e-mail, 3 accounts, movements)")
        apps = [a for a in (tally, before, fastapi) if a is not None]
        data = {}
        for app in apps:
            data[app.name] = os.path.join(out_dir, f"{app.name}-users.txt")
            asyncio.run(seed(app, data[app.name], 5 if args.smoke else 20))
            if backend == "postgres":  # planner statistics, as autovacuum would keep them
                asyncio.run(pg_admin_on(app.database_url, "ANALYZE"))
        results = {}
        consistent = True
        for app in apps:
            results[app.name] = measure(app, data[app.name], args, out_dir)
            r = results[app.name]
            say(
                f"{app.label}: {r['rps']:,.0f} req/s, p50 {fmt_ms(r['latency_us']['p50'])}, "
                f"p99 {fmt_ms(r['latency_us']['p99'])}, errors {r['errors']}, "
                f"{r['cpu_us_per_request']:,.0f} µs CPU/request"
            )
            # wrk drops its connections at the deadline, but requests already
            # read still finish on the server: let them land before reading
            # a balance and then its movements (two requests, not a snapshot).
            time.sleep(2)
            good, text = asyncio.run(check_balances(app, data[app.name]))
            r["balances_consistent"] = good
            say(f"{app.label}: {text}" if good else f"{app.label}: FAILED: {text}")
            consistent = consistent and good
    finally:
        for app in (tally, before, fastapi):
            if app is not None:
                app.close()
    size = stripped_size(args.tally_bin, work_dir)
    md = table(backend, results["tally"], results["fastapi"], args, size, results.get("tally_before"))
    ok = consistent and all(r["errors"] == 0 for r in results.values())
    return md, {**results, "tally_binary_stripped_bytes": size}, ok


SCALE_PERIOD = "from=2025-06-01T00%3A00%3A00Z&to=2025-07-01T00%3A00%3A00Z"


def run_scale(backend, args, token_key, work_dir, results_dir) -> tuple[str, dict, bool]:
    n = args.scale
    out_dir = os.path.join(results_dir, f"{backend}-scale-{n}")
    os.makedirs(out_dir, exist_ok=True)
    say(f"{backend}: starting Tally, fresh database")
    tally = App("tally", backend, out_dir, work_dir, token_key, args.tally_bin, None, args.admin_url,
                before_start=_no_fsync_wait if backend == "postgres" else None)  # fmt: skip
    try:
        token = asyncio.run(_scale_user(tally))
        r = httpx.post(
            f"{tally.base}/v1/accounts",
            headers={"Authorization": f"Bearer {token}"},
            json={"name": "Scale", "kind": "checking", "currency": "EUR"},
        )
        r.raise_for_status()
        account = r.json()["id"]
        say(f"{backend}: seeding {n:,} movements through POST /v1/accounts/{{id}}/movements (wrk, 64 connections)")
        started = time.monotonic()
        state = {"done": 0, "threads_done": 0, "last": 0.0}
        threads = 2

        def progress(line, proc):
            if line.startswith("seeded "):
                state["done"] += int(line.split()[1])
            elif line.startswith("thread done"):
                state["done"] += int(line.split()[2])
                state["threads_done"] += 1
                if state["threads_done"] == threads:
                    proc.send_signal(signal.SIGINT)
            now = time.monotonic()
            if now - state["last"] > 5 or state["threads_done"] == threads:
                state["last"] = now
                rate = state["done"] / max(now - started, 1e-6)
                say(f"  {state['done']:,} / {n:,} movements ({rate:,.0f}/s)")

        seeded = wrk(tally.base, os.path.join(HERE, "scale.lua"), ["seed", token, account, str(n), str(threads)],
                     duration=24 * 3600, connections=64, threads=threads,
                     out_path=os.path.join(out_dir, "wrk-seed.txt"), progress=progress)  # fmt: skip
        created = int(seeded["statuses"].get("201", 0))
        posted = sum(int(v) for k, v in seeded["statuses"].items() if k != "200")
        if created != posted or created > n:
            raise SystemExit(f"seeding: {posted} POSTs, {created} answered 201 (statuses {seeded['statuses']})")
        for i in range(n - created):  # a request wrk lost on the way (none expected)
            r = httpx.post(
                f"{tally.base}{f'/v1/accounts/{account}/movements'}",
                headers={"Authorization": f"Bearer {token}"},
                json={"amount": 100 + i, "description": "Scale top-up", "occurred_at": "2025-03-15T12:00:00Z"},
            )
            r.raise_for_status()
        if n > created:
            say(f"  {n - created} movement(s) that wrk did not send were posted one by one")
        seconds = time.monotonic() - started
        say(f"{backend}: {n:,} movements in {seconds:.0f} s ({n / seconds:,.0f}/s)")
        if backend == "postgres":
            # What autovacuum does a little later anyway: without it the planner still
            # thinks the account has a handful of movements and sorts all of them.
            say("  ANALYZE (fresh planner statistics, as autovacuum would give them)")
            asyncio.run(pg_admin_on(tally.database_url, "ANALYZE"))
        base = f"/v1/accounts/{account}/movements"
        queries = [
            ("movements, first page (limit=50)", f"{base}?limit=50"),
            ("movements, period + category (limit=50)", f"{base}?limit=50&{SCALE_PERIOD}&category=food"),
        ]
        # Keyset pagination should make a page in the middle as cheap as the first.
        # (At most 50,000 rows deep: if each page cost grows with its depth, walking there is quadratic.)
        depth = min(n // 2, 50_000) // 200 * 200
        if depth:
            say(f"  following {depth // 200:,} pages of 200 to the middle of the list")
            cursor = _walk(tally.base, token, base, depth)
            queries.append((f"movements, page after {depth:,} rows (limit=50)", f"{base}?limit=50&cursor={cursor}"))
        queries += [
            ("overview", "/v1/overview"),
            ("overview, period", f"/v1/overview?{SCALE_PERIOD}"),
        ]
        rows = []
        for i, (label, path) in enumerate(queries):
            t0 = time.monotonic()
            check = httpx.get(f"{tally.base}{path}", headers={"Authorization": f"Bearer {token}"}, timeout=300)
            single = time.monotonic() - t0
            if check.status_code != 200:
                raise SystemExit(f"{label}: {check.status_code} {check.text[:300]}")
            # 10 s at 4 connections; a query slower than 0.5 s gets 1 connection and
            # time for about 5 answers (at most 2 minutes).
            connections = 4 if single < 0.5 else 1
            duration = min(args.duration, 10) if single < 0.5 else min(120, max(10, int(single * 5) + 1))
            say(f"  {label}: {duration} s, {connections} connection{'s' if connections > 1 else ''}")
            res = wrk(tally.base, os.path.join(HERE, "scale.lua"), ["get", token, path], duration=duration,
                      connections=connections, threads=1, out_path=os.path.join(out_dir, f"wrk-get-{i}.txt"),
                      timeout=300)  # fmt: skip
            res.update(label=label, path=path, connections=connections, seconds=duration)
            rows.append(res)
    finally:
        tally.close()
    name = {"sqlite": "SQLite", "postgres": "PostgreSQL"}[backend]
    lines = [
        f"### Tally on {name} with {n:,} movements in one account",
        "",
        "| query | connections × s | req/s | p50 | p99 | errors |",
        "|---|---:|---:|---:|---:|---:|",
        *(
            f"| `{r['label']}` | {r['connections']} × {r['seconds']} | {r['rps']:,.1f} | "
            f"{fmt_ms(r['latency_us']['p50'])} | {fmt_ms(r['latency_us']['p99'])} | {r['errors']} |"
            for r in rows
        ),
        "",
        f"Seeded {n:,} movements through the API in {seconds:.0f} s ({n / seconds:,.0f}/s)"
        + (" with `synchronous_commit=off` on this database (one hot account row would otherwise"
           " commit at fsync speed; the timed queries only read), then ANALYZE" if backend == "postgres" else "")
        + ". Period: June 2025 of movements spread over 2025; category `food` is 1 in 8.",
    ]
    ok = all(r["errors"] == 0 for r in rows)
    return "\n".join(lines), {"seed": seeded, "seed_seconds": seconds, "queries": rows}, ok


def _no_fsync_wait(database_url: str):
    """Scale seeding writes one account row from every request, so each commit
    waits for the previous one's fsync; the benchmark's throwaway database does
    not need that durability (set before Tally connects)."""
    name = db_name(database_url)
    asyncio.run(pg_admin(f'ALTER DATABASE "{name}" SET synchronous_commit = off'))


def _walk(base_url: str, token: str, path: str, rows: int) -> str:
    """The cursor after the first `rows` items of a list, by following its pages of 200."""
    cursor, seen = None, 0
    with httpx.Client(base_url=base_url, headers={"Authorization": f"Bearer {token}"}, timeout=120) as client:
        while seen < rows:
            params = {"limit": 200, **({"cursor": cursor} if cursor else {})}
            r = client.get(path, params=params)
            r.raise_for_status()
            page = r.json()
            seen += len(page["items"])
            cursor = page["next_cursor"]
            if cursor is None:
                raise SystemExit(f"the list ended after {seen} items")
    return cursor


async def _scale_user(app: App) -> str:
    async with httpx.AsyncClient(base_url=app.base, timeout=30) as client:
        return await sign_in(client, app.inbox, "scale@bench.example.com")


def run_validation(backend, args, token_key, work_dir, results_dir) -> tuple[str, dict, bool]:
    """Bodies of unknown fields, 1 to 64 KiB, to POST /v1/auth/otp: one 422
    each, in time that grows with the body's size, not its square."""
    out_dir = os.path.join(results_dir, f"{backend}-validation")
    os.makedirs(out_dir, exist_ok=True)
    say(f"{backend}: starting Tally, fresh database")
    tally = App("tally", backend, out_dir, work_dir, token_key, args.tally_bin, None, args.admin_url)
    rows, data, ok = [], {}, True
    try:
        for kib in (1, 4, 16, 64):
            fields, size, i = {"email": "ana@example.com"}, 30, 0
            while size < kib * 1024 - 24:
                name = f"f{i}"
                fields[name] = 0
                size += len(name) + 5
                i += 1
            body_file = os.path.join(work_dir, f"body-{kib}k.json")
            with open(body_file, "w") as f:
                json.dump(fields, f, separators=(",", ":"))
            probe = httpx.post(f"{tally.base}/v1/auth/otp", content=open(body_file, "rb").read(),
                               headers={"Content-Type": "application/json"})  # fmt: skip
            listed = len(probe.json().get("errors", []))
            if probe.status_code != 422 or listed != min(i, 100):
                ok = False
            result = wrk(tally.base, os.path.join(HERE, "body.lua"), ["/v1/auth/otp", body_file],
                         duration=min(args.duration, 5), connections=4, threads=1,
                         out_path=os.path.join(out_dir, f"wrk-{kib}k.txt"))  # fmt: skip
            statuses = result["statuses"]
            if set(statuses) != {"422"}:
                ok = False
            p50 = result["latency_us"]["p50"]
            data[f"{kib}k"] = {"fields": i, "p50_us": p50, "rps": result["rps"], "statuses": statuses}
            rows.append(f"| {kib} KiB | {i:,} | {probe.status_code}, {listed} listed | {fmt_ms(p50)} | "
                        f"{p50 / kib:,.0f} µs | {result['rps']:,.0f} |")  # fmt: skip
    finally:
        tally.close()
    md = "\n".join([
        f"### Validation cost on {backend}: bodies of unknown fields to POST /v1/auth/otp (wrk -t1 -c4)",
        "",
        "| body | unknown fields | answer | p50 | p50 per KiB | req/s |",
        "|---|---:|---|---:|---:|---:|",
        *rows,
    ])  # fmt: skip
    return md, data, ok


def main():
    global _admin_url
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--tally-bin", required=True)
    p.add_argument("--before-bin", default=None,
                   help="an earlier Tally binary, measured in the same run as a third column (the mix only)")
    p.add_argument("--backend", choices=("sqlite", "postgres", "both"), default="both")
    p.add_argument("--duration", type=int, default=30, help="seconds of measured load per app (default 30)")
    p.add_argument("--connections", type=int, default=64)
    p.add_argument("--threads", type=int, default=2, help="wrk threads (default 2)")
    p.add_argument("--workers", type=int, default=None, help="uvicorn workers for FastAPI (default: per backend)")
    p.add_argument("--smoke", action="store_true", help="10 s per app; fails on any error or disagreement")
    p.add_argument("--scale", type=int, default=None, help="seed one Tally account with N movements and time queries")
    p.add_argument("--validation", action="store_true",
                   help="Tally only: time 422s for 1 to 64 KiB bodies of unknown fields")  # fmt: skip
    p.add_argument("--results", default=os.path.join(ROOT, "bench-results"))
    args = p.parse_args()
    if args.smoke:
        args.duration = 10
    if args.duration < 1 or args.connections < args.threads:
        p.error("need --duration >= 1 and --connections >= --threads")
    args.admin_url = os.environ.get("BENCH_PG_ADMIN_URL", "postgres://postgres@127.0.0.1:5432/postgres")
    _admin_url = args.admin_url
    signal.signal(signal.SIGTERM, _terminate)

    backends = ["sqlite", "postgres"] if args.backend == "both" else [args.backend]
    stamp = datetime.now(timezone.utc).strftime("%Y%m%dT%H%M%SZ")
    mode = f"scale-{args.scale}" if args.scale else ("validation" if args.validation else ("smoke" if args.smoke else "mix"))
    results_dir = os.path.join(args.results, f"{stamp}-{mode}")
    os.makedirs(results_dir, exist_ok=True)
    work_dir = tempfile.mkdtemp(prefix="tally-bench-")
    token_key = secrets.token_hex(32)
    tables, raw, ok = [], {}, True
    try:
        if "postgres" in backends:
            asyncio.run(pg_admin("SELECT 1"))
        for backend in backends:
            if args.scale:
                md, data, good = run_scale(backend, args, token_key, work_dir, results_dir)
            elif args.validation:
                md, data, good = run_validation(backend, args, token_key, work_dir, results_dir)
            else:
                md, data, good = run_mix(backend, args, token_key, work_dir, results_dir)
            tables.append(md)
            raw[backend] = data
            ok = ok and good
            print("\n" + md + "\n", flush=True)
    finally:
        cleanup()
        shutil.rmtree(work_dir, ignore_errors=True)
    meta = {
        "mode": mode,
        "started": stamp,
        "args": {k: v for k, v in vars(args).items() if k != "admin_url"},
        "machine": {"cpus": os.cpu_count(), "kernel": os.uname().release},
    }
    with open(os.path.join(results_dir, "results.json"), "w") as f:
        json.dump({**meta, "results": raw}, f, indent=2, default=str)
    with open(os.path.join(results_dir, "summary.md"), "w") as f:
        f.write("\n\n".join(tables) + "\n")
    say(f"results: {os.path.relpath(results_dir, ROOT)}/ (summary.md, results.json, wrk output, server logs)")
    if not ok:
        say("FAILED: some requests were errors, or a balance is not the sum of its movements (see above)")
        return 1
    return 0


if __name__ == "__main__":
    try:
        sys.exit(main())
    except KeyboardInterrupt:
        cleanup()
        sys.exit(130)
