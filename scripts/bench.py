#!/usr/bin/env python3
"""The benchmark behind scripts/bench.sh. Every server it starts listens on 127.0.0.1 and is
stopped by the PID it started; every load run is bounded in time."""

import base64, http.client, json, os, re, secrets, signal, socket, sqlite3
import shutil, subprocess, tempfile, time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
BIN = os.path.join(ROOT, "target", "release", "multitoken")
SECONDS = int(os.environ.get("BENCH_SECONDS", "10"))
CONNS = int(os.environ.get("BENCH_CONNECTIONS", "32"))
TRIALS = int(os.environ.get("BENCH_TRIALS", "200"))
PG_URL = os.environ.get("BENCH_DATABASE_URL", "")
# A comma-separated subset of: ratio, token, flood, nocache, scale, history, instructions, postgres
# (default: all).
ONLY = set(filter(None, os.environ.get("BENCH_ONLY", "").split(",")))


def wanted(part):
    return not ONLY or part in ONLY
PASSWORD = "benchmark password"
OUT = os.path.join(ROOT, "target", "bench", "results.md")
rows = []  # (measurement, value, note)


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Server:
    """One release instance on a given database URL and [auth] overrides."""

    def __init__(self, url, auth=None, prefix=(), workers=None):
        self.port = free_port()
        auth = dict(auth or {})
        env = dict(os.environ)
        env.update({
            "ROCKET_PORT": str(self.port),
            "ROCKET_ADDRESS": "127.0.0.1",
            "ROCKET_DATABASES": '{db={url="%s"}}' % url,
            "ROCKET_AUTH": "{%s}" % ", ".join(f"{k}={v}" for k, v in auth.items()),
            "ROCKET_LOG_LEVEL": "critical",
        })
        if workers:
            env["ROCKET_WORKERS"] = str(workers)
        self.proc = subprocess.Popen([*prefix, BIN, "serve"], env=env, stdout=subprocess.DEVNULL,
                                     stderr=subprocess.DEVNULL)
        deadline = time.time() + 30
        while time.time() < deadline:
            try:
                if self.call("GET", "/api/health")[0] == 200:
                    return
            except OSError:
                time.sleep(0.05)
        self.stop()
        raise SystemExit("the server did not start")

    def call(self, method, path, body=None, token=None, conn=None):
        c = conn or http.client.HTTPConnection("127.0.0.1", self.port, timeout=30)
        headers = {"Content-Type": "application/json"}
        if token:
            headers["Authorization"] = f"Bearer {token}"
        c.request(method, path, json.dumps(body) if body is not None else None, headers)
        r = c.getresponse()
        data = r.read()
        if conn is None:
            c.close()
        return r.status, (json.loads(data) if data else None)

    def login(self, username="bench"):
        status, body = self.call("POST", "/api/auth/login",
                                 {"username": username, "password": PASSWORD})
        assert status == 200, (status, body)
        return body["token"]

    def peak_rss_mib(self):
        with open(f"/proc/{self.proc.pid}/status") as f:
            for line in f:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1]) / 1024
        return 0.0

    def stop(self):
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout=15)
            except subprocess.TimeoutExpired:
                self.proc.kill()


UNIT = {"us": 1e-3, "ms": 1.0, "s": 1e3}


def wrk(server, path, token=None, conns=CONNS, seconds=SECONDS, script=None, threads=2):
    cmd = ["wrk", f"-t{threads}", f"-c{conns}", f"-d{seconds}s", "--latency", "--timeout", "5s"]
    if token:
        cmd += ["-H", f"Authorization: Bearer {token}"]
    if script:
        cmd += ["-s", script]
    cmd.append(f"http://127.0.0.1:{server.port}{path}")
    out = subprocess.run(cmd, capture_output=True, text=True, timeout=seconds + 60).stdout
    rps = float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1))
    pct = {p: float(v) * UNIT[u] for p, v, u in re.findall(r"\s(50|99)%\s+([\d.]+)(us|ms|s)\b", out)}
    bad = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
    return {"rps": rps, "p50": pct.get("50"), "p99": pct.get("99"),
            "non2xx": int(bad.group(1)) if bad else 0}


def fmt(r):
    return f"{r['rps']:,.0f} req/s, p50 {r['p50']:.2f} ms, p99 {r['p99']:.2f} ms"


def record(name, value, note=""):
    rows.append((name, value, note))
    print(f"  {name}: {value} {note}", flush=True)


def signup(server, username="bench"):
    status, _ = server.call("POST", "/api/users", {"username": username, "password": PASSWORD})
    assert status in (201, 409), status


def sqlite_url(folder, name="bench.sqlite3"):
    return f"sqlite://{os.path.join(folder, name)}"


def seed(db_path, table, total, row):
    """Adds rows made by `row()` (a dict of column values) to `table` until it has `total`."""
    db = sqlite3.connect(db_path)
    have = db.execute(f"SELECT COUNT(*) FROM {table}").fetchone()[0]
    columns = list(row().keys())
    sql = (f"INSERT INTO {table} ({', '.join(columns)}) "
           f"VALUES ({', '.join('?' for _ in columns)})")
    batch = []
    for _ in range(total - have):
        batch.append(tuple(row().values()))
        if len(batch) == 100_000:
            db.executemany(sql, batch)
            batch.clear()
    if batch:
        db.executemany(sql, batch)
    db.commit()
    db.close()


def copy_db(src, dst):
    """A consistent copy of a SQLite database, its write-ahead log included."""
    source, target = sqlite3.connect(src), sqlite3.connect(dst)
    source.backup(target)
    target.close()
    source.close()


def public_id():
    return base64.urlsafe_b64encode(secrets.token_bytes(16)).decode().rstrip("=")


def seed_sessions(db_path, user_id, total):
    """Adds live sessions (random hashes) for the user until it has `total` rows."""
    now = int(time.time())
    seed(db_path, "sessions", total, lambda: {
        "id": public_id(), "user_id": user_id, "token_hash": secrets.token_bytes(32),
        "kind": "api", "user_agent": "seed/1.0", "device": "seed", "ip": "127.0.0.1",
        "created_at": now, "last_used_at": now})


def seed_history(db_path, user_id, total):
    """Adds ended sessions for the user until the history has `total` rows."""
    now = int(time.time())
    seed(db_path, "session_history", total, lambda: {
        "id": public_id(), "user_id": user_id, "kind": "api", "user_agent": "seed/1.0",
        "device": "seed", "ip": "127.0.0.1", "created_at": now - 7200,
        "last_used_at": now - 3600, "ended_at": now - 60, "end_reason": "revoked"})


def bench_sqlite(folder):
    print(f"SQLite, {CONNS} connections, {SECONDS} s per run", flush=True)
    url = sqlite_url(folder)
    # Many sessions for one user: lift the cap for the seeded rows.
    base = {"max_sessions": 2_000_000}
    s = Server(url, base)
    signup(s)
    token = s.login()
    user_id = s.call("GET", "/api/me", token=token)[1]["id"]
    wrk(s, "/api/me", token, seconds=2)  # warm-up
    if wanted("ratio"):
        ratio(s, token)
    if wanted("token"):
        # The same route through a personal token: the scope check must not move the ratio.
        body = {"name": "bench", "scopes": ["profile:read"]}
        status, created = s.call("POST", "/api/tokens", body, token=token)
        assert status == 201, (status, created)
        ratio(s, created["token"], label="personal token (profile:read): ")
    if wanted("flood"):
        flood(s, token, folder)
    rss = s.peak_rss_mib()
    s.stop()
    if wanted("nocache"):
        rss = max(rss, nocache(url, base, token))
    if wanted("scale"):
        rss = max(rss, scale(url, base, token, user_id))
    if wanted("history"):
        rss = max(rss, history(url, base, token, user_id))
    record("peak RSS of the server (SQLite runs)", f"{rss:.1f} MiB", "(bar: ≤ 64 MiB)")


def ratio(s, token, label=""):
    """Authenticated against unauthenticated throughput, alternating to cancel drift."""
    rounds = 3
    health, me = [], []
    for _ in range(rounds):
        health.append(wrk(s, "/api/health", seconds=max(2, SECONDS // rounds)))
        me.append(wrk(s, "/api/me", token, seconds=max(2, SECONDS // rounds)))
    mid = lambda runs: sorted(runs, key=lambda r: r["rps"])[len(runs) // 2]
    h, m = mid(health), mid(me)
    record(f"{label}GET /api/health (no auth), median of 3", fmt(h))
    record(f"{label}GET /api/me (authenticated, cached), median of 3", fmt(m))
    record(f"{label}ratio me / health", f"{m['rps'] / h['rps']:.3f}", "(bar: ≥ 0.9)")


def flood(s, token, folder):
    """Authenticated latency without and with a flood of logins (bcrypt cost 12), at 8
    connections, in 3 alternating rounds (medians), since single p99s are noisy here."""
    flood_lua = os.path.join(folder, "login.lua")
    # Right passwords for 16 users in turn: every login is a real bcrypt verify (no throttling).
    with open(flood_lua, "w") as f:
        f.write('counter = 0\nrequest = function()\n  counter = counter + 1\n'
                '  local body = string.format(\'{"username":"flood%d","password":"'
                + PASSWORD + '"}\', counter % 16)\n'
                '  return wrk.format("POST", nil, {["Content-Type"] = "application/json"}, body)\n'
                'end\n')
    for i in range(16):
        signup(s, f"flood{i}")
    seconds = max(3, SECONDS // 2)
    quiet, loud, logins, refused = [], [], 0.0, 0
    for _ in range(3):
        quiet.append(wrk(s, "/api/me", token, conns=8, seconds=seconds))
        flooder = subprocess.Popen(["wrk", "-t1", "-c16", f"-d{seconds + 2}s", "--timeout", "30s",
                                    "-s", flood_lua, f"http://127.0.0.1:{s.port}/api/auth/login"],
                                   stdout=subprocess.PIPE, text=True)
        time.sleep(1)
        loud.append(wrk(s, "/api/me", token, conns=8, seconds=seconds))
        out = flooder.communicate(timeout=seconds + 60)[0]
        logins += float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1)) / 3
        bad = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
        refused += int(bad.group(1)) if bad else 0
    mid = lambda runs: sorted(runs, key=lambda r: r["p99"])[len(runs) // 2]
    q, l = mid(quiet), mid(loud)
    record("GET /api/me, 8 connections, no login flood (median p99 of 3)", fmt(q))
    record("GET /api/me, 8 connections, during a login flood (median p99 of 3)", fmt(l),
           f"(16 concurrent logins at bcrypt cost 12: {logins:.1f} logins/s, {refused} not 200)")
    record("p99 with flood / without", f"{l['p99'] / q['p99']:.2f}", "(bar: p99 ≤ 50 ms; ≤ 2×)")


def nocache(url, base, token):
    """The same with the validation cache off: every request reads the database."""
    s = Server(url, dict(base, cache_capacity=0))
    health0 = wrk(s, "/api/health")
    me0 = wrk(s, "/api/me", token)
    record("GET /api/me, cache off (cache_capacity = 0)", fmt(me0))
    record("ratio me / health, cache off", f"{me0['rps'] / health0['rps']:.3f}")
    rss = s.peak_rss_mib()
    s.stop()
    return rss


def alternate(urls, base, token, paths):
    """Each path on a server of each database in `urls` ({label: url}), cache on and off, in 3
    alternating rounds; returns {(cache, label, path): median run} and the peak RSS."""
    rss = 0.0
    seconds = max(3, SECONDS // 2)
    mids = {}
    for cache in ("on", "off"):
        auth = dict(base) if cache == "on" else dict(base, cache_capacity=0)
        runs = {(label, path): [] for label in urls for path in paths}
        for _ in range(3):
            for label, db in urls.items():
                s = Server(db, auth)
                wrk(s, "/api/me", token, seconds=1)
                for path in paths:
                    auth_token = token if path != "/api/health" else None
                    runs[(label, path)].append(wrk(s, path, auth_token, seconds=seconds))
                rss = max(rss, s.peak_rss_mib())
                s.stop()
        for key, r in runs.items():
            mids[(cache,) + key] = sorted(r, key=lambda x: x["rps"])[1]
    return mids, rss


def scale(url, base, token, user_id):
    """Validation cost against the number of stored sessions: a copy of the database with 1,000
    sessions and one with 1,000,000, measured in 3 alternating rounds (medians), since single
    runs here differ by more than the effect being measured."""
    small_path = url[len("sqlite://"):]
    big_path = small_path.replace(".sqlite3", "-big.sqlite3")
    seed_sessions(small_path, user_id, 1_000)
    copy_db(small_path, big_path)
    t = time.time()
    seed_sessions(big_path, user_id, 1_000_000)
    seeded = time.time() - t
    urls = {1_000: url, 1_000_000: f"sqlite://{big_path}"}
    mid, rss = alternate(urls, base, token, ["/api/me"])
    for cache in ("on", "off"):
        for total in urls:
            note = f"(seeded in {seeded:.0f} s)" if total == 1_000_000 and cache == "on" else ""
            record(f"GET /api/me with {total:,} sessions stored, cache {cache} (median of 3)",
                   fmt(mid[(cache, total, "/api/me")]), note)
        ratio = mid[(cache, 1_000_000, "/api/me")]["rps"] / mid[(cache, 1_000, "/api/me")]["rps"]
        record(f"ratio 1,000,000 / 1,000 sessions, cache {cache}", f"{ratio:.3f}", "(bar: ≥ 0.95)")
    os.remove(big_path)
    return rss


def history(url, base, token, user_id):
    """Ended sessions cost validation nothing: the same database with no ended session and with
    1,000,000 in the history, the authenticated ratio (cache on) and the cache-off throughput,
    in 3 alternating rounds (medians)."""
    plain_path = url[len("sqlite://"):]
    ended_path = plain_path.replace(".sqlite3", "-ended.sqlite3")
    copy_db(plain_path, ended_path)
    t = time.time()
    seed_history(ended_path, user_id, 1_000_000)
    seeded = time.time() - t
    urls = {"none": url, "1,000,000": f"sqlite://{ended_path}"}
    mid, rss = alternate(urls, base, token, ["/api/health", "/api/me"])
    for label in urls:
        me, health = mid[("on", label, "/api/me")], mid[("on", label, "/api/health")]
        note = f"(seeded in {seeded:.0f} s)" if label != "none" else ""
        record(f"GET /api/me, {label} ended sessions kept, cache on (median of 3)", fmt(me), note)
        record(f"ratio me / health, {label} ended sessions kept", f"{me['rps'] / health['rps']:.3f}",
               "(bar: ≥ 0.9)")
        record(f"GET /api/me, {label} ended sessions kept, cache off (median of 3)",
               fmt(mid[("off", label, "/api/me")]))
    off = mid[("off", "1,000,000", "/api/me")]["rps"] / mid[("off", "none", "/api/me")]["rps"]
    record("cache-off throughput, 1,000,000 ended / none", f"{off:.3f}", "(bar: ≥ 0.95)")
    os.remove(ended_path)
    return rss


def instructions():
    """CPU instructions per request under callgrind: unlike requests per second, the same on every
    run, whatever else the machine does. The difference of a short and a long run cancels
    start-up. (SHA-256 runs in software under valgrind, so this overstates the token's cost on
    CPUs with SHA instructions.)"""
    if not shutil.which("valgrind"):
        record("instructions per request", "skipped", "(apt-get install valgrind)")
        return
    per_request = {}
    for path in ("/api/health", "/api/me"):
        counts = []
        for n in (500, 2500):
            with tempfile.TemporaryDirectory() as folder:
                out = os.path.join(folder, "callgrind.out")
                s = Server(sqlite_url(folder), {"bcrypt_cost": 4, "sweep_interval": 0},
                           prefix=["valgrind", "--tool=callgrind", f"--callgrind-out-file={out}"],
                           workers=1)
                signup(s)
                token = s.login() if path == "/api/me" else None
                conn = http.client.HTTPConnection("127.0.0.1", s.port, timeout=60)
                for _ in range(n):
                    assert s.call("GET", path, token=token, conn=conn)[0] == 200
                s.stop()
                with open(out) as f:
                    counts.append(int(re.search(r"summary: (\d+)", f.read()).group(1)))
        per_request[path] = (counts[1] - counts[0]) / 2000
    h, m = per_request["/api/health"], per_request["/api/me"]
    record("instructions per GET /api/health (callgrind)", f"{h:,.0f}")
    record("instructions per GET /api/me (callgrind)", f"{m:,.0f}",
           f"(+{m - h:,.0f}, health / me = {h / m:.3f})")


def psql(admin_url, sql):
    subprocess.run(["psql", admin_url, "-qAtc", sql], check=True, capture_output=True)


def bench_postgres():
    print(f"PostgreSQL, {CONNS} connections, {SECONDS} s per run", flush=True)
    name = "mt_bench_" + secrets.token_hex(4)
    psql(PG_URL, f"CREATE DATABASE {name}")
    base, _, query = PG_URL.partition("?")
    url = base.rsplit("/", 1)[0] + "/" + name + (("?" + query) if query else "")
    servers = []
    try:
        a = Server(url)
        servers.append(a)
        signup(a)
        token = a.login()
        wrk(a, "/api/me", token, seconds=2)
        ratio(a, token, "PostgreSQL ")
        rss = a.peak_rss_mib()
        a.stop()
        s = Server(url, {"cache_capacity": 0})
        servers.append(s)
        me0 = wrk(s, "/api/me", token)
        record("PostgreSQL GET /api/me, cache off", fmt(me0))
        rss = max(rss, s.peak_rss_mib())
        s.stop()

        # Two instances: revoke on A, poll B until it refuses.
        a, b = Server(url, {"bcrypt_cost": 4}), Server(url, {"bcrypt_cost": 4})
        servers += [a, b]
        signup(a, "revoker")
        conn_a = http.client.HTTPConnection("127.0.0.1", a.port, timeout=10)
        conn_b = http.client.HTTPConnection("127.0.0.1", b.port, timeout=10)
        latencies = []
        for _ in range(TRIALS):
            t = a.call("POST", "/api/auth/login", {"username": "revoker", "password": PASSWORD},
                       conn=conn_a)[1]["token"]
            assert b.call("GET", "/api/me", token=t, conn=conn_b)[0] == 200
            assert b.call("GET", "/api/me", token=t, conn=conn_b)[0] == 200  # now cached on B
            assert a.call("POST", "/api/auth/logout", token=t, conn=conn_a)[0] == 204
            start = time.perf_counter()
            while b.call("GET", "/api/me", token=t, conn=conn_b)[0] == 200:
                if time.perf_counter() - start > 5:
                    raise SystemExit("B still accepts a revoked token after 5 s")
            latencies.append((time.perf_counter() - start) * 1000)
        latencies.sort()
        med = latencies[len(latencies) // 2]
        record(f"revocation on A → refused by B ({TRIALS} trials)",
               f"median {med:.2f} ms, p99 {latencies[int(len(latencies) * 0.99) - 1]:.2f} ms, "
               f"max {latencies[-1]:.2f} ms", "(bar: ≤ 100 ms median)")
        rss = max(rss, a.peak_rss_mib(), b.peak_rss_mib())
        record("peak RSS of the server (PostgreSQL runs)", f"{rss:.1f} MiB")
    finally:
        for s in servers:
            s.stop()
        psql(PG_URL, f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")


def main():
    started = time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime())
    with tempfile.TemporaryDirectory() as folder:
        bench_sqlite(folder)
    if wanted("instructions"):
        instructions()
    if PG_URL and wanted("postgres"):
        bench_postgres()
    else:
        print("PostgreSQL skipped: set BENCH_DATABASE_URL to measure it too")
    cpu = subprocess.run(["sh", "-c", "grep -m1 'model name' /proc/cpuinfo | cut -d: -f2"],
                         capture_output=True, text=True).stdout.strip()
    lines = [f"Benchmark of {started}: release build, {os.cpu_count()} cores ({cpu}), "
             f"wrk with 2 threads, {CONNS} connections, {SECONDS} s per run unless stated.", "",
             "| measurement | result | note |", "|---|---|---|"]
    lines += [f"| {a} | {b} | {c} |" for a, b, c in rows]
    table = "\n".join(lines)
    os.makedirs(os.path.dirname(OUT), exist_ok=True)
    with open(OUT, "w") as f:
        f.write(table + "\n")
    print("\n" + table + f"\n\n(written to {os.path.relpath(OUT, ROOT)})")


if __name__ == "__main__":
    main()
