"""Shared helpers of scripts/bench.py: the server under test, wrk runs and their parsing, the
result rows, seeding. Every server listens on 127.0.0.1 and is stopped by the PID it started;
every load run is bounded in time."""

import base64, http.client, json, os, re, secrets, signal, socket, sqlite3
import subprocess, tempfile, time
import urllib.parse

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
BIN = os.path.join(ROOT, "target", "release", "multitoken")
SECONDS = int(os.environ.get("BENCH_SECONDS", "10"))
CONNS = int(os.environ.get("BENCH_CONNECTIONS", "32"))
PASSWORD = "benchmark password"
rows = []  # (measurement, value, note)


def parse_auth(spec):
    """`BENCH_AUTH`: extra [auth] keys as comma-separated `key=value` pairs, each value a TOML
    value as it would appear in ROCKET_AUTH (`hash_nice=0,hash_threads=2`). No commas in values."""
    extra = {}
    for item in filter(None, (part.strip() for part in spec.split(","))):
        key, sep, value = (x.strip() for x in item.partition("="))
        if not sep or not re.fullmatch(r"[a-z_]+", key) or not value:
            raise SystemExit(f"BENCH_AUTH: expected key=value pairs separated by commas, "
                             f"not {item!r}")
        extra[key] = value
    return extra


# Merged into the [auth] of every server the bench starts, under each part's own keys (a part
# that measures at bcrypt_cost 4 or with the cache off keeps doing so).
EXTRA_AUTH = parse_auth(os.environ.get("BENCH_AUTH", ""))
_overridden = set()


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Server:
    """One release instance on a given database URL and [auth] overrides (over BENCH_AUTH)."""

    def __init__(self, url, auth=None, prefix=(), workers=None, env=None):
        self.port = free_port()
        extra_env = dict(env or {})
        auth = dict(auth or {})
        for key in EXTRA_AUTH.keys() & auth.keys() - _overridden:
            _overridden.add(key)
            print(f"  (BENCH_AUTH {key}={EXTRA_AUTH[key]} is overridden where a part sets "
                  f"{key} itself)", flush=True)
        auth = {**EXTRA_AUTH, **auth}
        env = dict(os.environ)
        env.update({
            "ROCKET_PORT": str(self.port),
            "ROCKET_ADDRESS": "127.0.0.1",
            "ROCKET_DATABASES": '{db={url="%s"}}' % url,
            "ROCKET_AUTH": "{%s}" % ", ".join(f"{k}={v}" for k, v in auth.items()),
            "ROCKET_LOG_LEVEL": "critical",
        })
        # A release build needs a key to seal two-factor secrets (here, one for benchmarks only).
        env.setdefault("ROCKET_SECRET_KEY", "YmVuY2htYXJrcyBvbmx5OiBub3QgYSBzZWNyZXQga2V5IQ==")
        if workers:
            env["ROCKET_WORKERS"] = str(workers)
        env.update(extra_env)
        # Only critical messages are logged: the file stays small, and says why a start failed.
        self.log = tempfile.TemporaryFile()
        self.proc = subprocess.Popen([*prefix, BIN, "serve"], env=env, stdout=subprocess.DEVNULL,
                                     stderr=self.log)
        deadline = time.time() + 30
        while time.time() < deadline and self.proc.poll() is None:
            try:
                if self.call("GET", "/api/health")[0] == 200:
                    return
            except OSError:
                time.sleep(0.05)
        self.stop()
        self.log.seek(0)
        tail = self.log.read()[-2000:].decode(errors="replace").strip()
        raise SystemExit(f"the server did not start (ROCKET_AUTH={env['ROCKET_AUTH']})"
                         + (f":\n{tail}" if tail else ""))

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

    def _status_mib(self, field):
        with open(f"/proc/{self.proc.pid}/status") as f:
            for line in f:
                if line.startswith(field + ":"):
                    return int(line.split()[1]) / 1024
        return 0.0

    def peak_rss_mib(self):
        return self._status_mib("VmHWM")

    def rss_mib(self):
        return self._status_mib("VmRSS")

    def stop(self):
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout=15)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(timeout=15)


def browser_login(server, username):
    """Signs in as a browser does: GET /login for the form's CSRF token (and its cookie), then the
    form POST. Returns the session cookie as a `Cookie` header holds it: `name=value`, the name
    `__Host-multitoken_session` as a release build (secure_cookie) sets it, else
    `multitoken_session`."""
    conn = http.client.HTTPConnection("127.0.0.1", server.port, timeout=30)
    agent = {"User-Agent": "Mozilla/5.0 (X11; Linux x86_64; rv:128.0) Gecko/20100101 Firefox/128.0"}
    conn.request("GET", "/login", headers=agent)
    r = conn.getresponse()
    page = r.read().decode()
    assert r.status == 200, r.status
    cookies = dict(c.split(";", 1)[0].split("=", 1) for c in r.msg.get_all("Set-Cookie") or [])
    csrf = re.search(r'name="csrf" value="([^"]+)"', page).group(1)
    body = urllib.parse.urlencode({"csrf": csrf, "username": username, "password": PASSWORD})
    conn.request("POST", "/login", body, {
        **agent, "Content-Type": "application/x-www-form-urlencoded",
        "Cookie": "; ".join(f"{k}={v}" for k, v in cookies.items())})
    r = conn.getresponse()
    r.read()
    conn.close()
    set_cookies = dict(c.split(";", 1)[0].split("=", 1) for c in r.msg.get_all("Set-Cookie") or [])
    names = [n for n in ("__Host-multitoken_session", "multitoken_session") if n in set_cookies]
    assert r.status in (302, 303) and names, (r.status, set_cookies.keys())
    return f"{names[0]}={set_cookies[names[0]]}"


UNIT = {"us": 1e-3, "ms": 1.0, "s": 1e3}


def wrk_cmd(server, path, token=None, conns=CONNS, seconds=SECONDS, script=None, threads=2,
            headers=(), args=(), timeout="5s"):
    cmd = ["wrk", f"-t{threads}", f"-c{conns}", f"-d{seconds}s", "--latency", "--timeout", timeout]
    if token:
        cmd += ["-H", f"Authorization: Bearer {token}"]
    for header in headers:
        cmd += ["-H", header]
    if script:
        cmd += ["-s", script]
    cmd.append(f"http://127.0.0.1:{server.port}{path}")
    if args:
        cmd += ["--", *map(str, args)]
    return cmd


def parse_wrk(out):
    """rps, p50/p99 (ms), requests, non-2xx (wrk counts statuses above 399 only), socket errors,
    and the `lua <key> <value>` lines a script's done() printed ({key: [values]})."""
    rps = float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1))
    pct = {p: float(v) * UNIT[u] for p, v, u in re.findall(r"\s(50|99)%\s+([\d.]+)(us|ms|s)\b", out)}
    bad = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
    socket_errors = re.search(r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)",
                              out)
    lua = {}
    for key, value in re.findall(r"^lua (\S+) (.*)$", out, re.M):
        lua.setdefault(key, []).append(value)
    return {"rps": rps, "p50": pct.get("50"), "p99": pct.get("99"),
            "requests": int(re.search(r"(\d+) requests in", out).group(1)),
            "non2xx": int(bad.group(1)) if bad else 0,
            "errors": sum(map(int, socket_errors.groups())) if socket_errors else 0,
            "lua": lua}


def wrk(server, path, token=None, conns=CONNS, seconds=SECONDS, script=None, threads=2, **kw):
    cmd = wrk_cmd(server, path, token, conns, seconds, script, threads, **kw)
    return parse_wrk(subprocess.run(cmd, capture_output=True, text=True,
                                    timeout=seconds + 60).stdout)


def wrk_start(server, path, token=None, conns=CONNS, seconds=SECONDS, script=None, threads=2,
              **kw):
    """A wrk run in the background; `wrk_finish` collects it."""
    cmd = wrk_cmd(server, path, token, conns, seconds, script, threads, **kw)
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    proc.bench_seconds = seconds
    return proc


def wrk_finish(proc):
    try:
        out, err = proc.communicate(timeout=proc.bench_seconds + 60)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.communicate()
        raise SystemExit("wrk overran its duration by a minute")
    if "Requests/sec" not in out:
        raise SystemExit(f"wrk failed: {err.strip() or out.strip()}")
    return parse_wrk(out)


def median(runs, key):
    return sorted(runs, key=lambda r: r[key])[len(runs) // 2]


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


# The tail of every checking wrk script: each thread counts responses in the globals `unexpected`
# and `seen` (status by label) through `note`; done() sums the threads and prints `lua` lines.
LUA_REPORT = r'''
local threads = {}
function setup(thread)
  table.insert(threads, thread)
  thread:set("number", #threads)  -- 1, 2, ...: which thread (and, at -tN -cN, connection) it is
end
unexpected, seen = 0, {}
function note(label, status, want)
  local key = label .. ":" .. status
  seen[key] = (seen[key] or 0) + 1
  if status ~= want then unexpected = unexpected + 1 end
end
function done(summary, latency, requests)
  local total, statuses = 0, {}
  for _, t in ipairs(threads) do
    total = total + t:get("unexpected")
    for k, v in pairs(t:get("seen")) do statuses[k] = (statuses[k] or 0) + v end
    local stamps = t:get("stamps")
    if stamps then
      for _, s in ipairs(stamps) do io.write(string.format("lua stamp %.6f\n", s)) end
    end
  end
  io.write("lua unexpected ", total, "\n")
  for k, v in pairs(statuses) do io.write("lua status ", k, "=", v, "\n") end
end
'''

# A GET whose every answer must be one status (the first script argument): a page whose cookie
# failed is a redirect to /login, which wrk's own count (statuses above 399) would not see.
EXPECT_LUA = r'''
function init(args) want = tonumber(args[1]) end
function response(status, headers, body) note("GET", status, want) end
''' + LUA_REPORT


def write_lua(folder, name, text):
    path = os.path.join(folder, name)
    with open(path, "w") as f:
        f.write(text)
    return path


def statuses(run):
    """What a checking script saw, by label and status, for a note: `login:200=812, me:200=812`."""
    return ", ".join(s for s in run["lua"].get("status", []))
