#!/usr/bin/env python3
"""The benchmark behind scripts/bench.sh. Every server it starts listens on 127.0.0.1 and is
stopped by the PID it started; every load run is bounded in time."""

import http.client, os, re, secrets, shutil, sqlite3, subprocess, tempfile, time
from benchlib import (CONNS, EXTRA_AUTH, PASSWORD, ROOT, SECONDS, Server, browser_login,
                      copy_db, fmt, median, record, rows, seed_history, seed_sessions, signup,
                      sqlite_url, statuses, write_lua, wrk, wrk_finish, wrk_start, EXPECT_LUA,
                      LUA_REPORT)

TRIALS = int(os.environ.get("BENCH_TRIALS", "200"))
SOAK_SECONDS = int(os.environ.get("BENCH_SOAK_SECONDS", "600"))
PG_URL = os.environ.get("BENCH_DATABASE_URL", "")
# A comma-separated subset of: ratio, token, flood, nocache, scale, history, saturation, slow, soak,
# instructions, postgres (default: all but soak, which takes BENCH_SOAK_SECONDS, 10 minutes).
ONLY = set(filter(None, os.environ.get("BENCH_ONLY", "").split(",")))
OPT_IN = {"soak"}


def wanted(part):
    return part in ONLY if part in OPT_IN else not ONLY or part in ONLY
OUT = os.path.join(ROOT, "target", "bench", "results.md")


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
    if wanted("saturation"):
        rss = max(rss, saturation(folder))
    if wanted("slow"):
        slow(folder)  # an attack, not a load: its RSS is reported on its own rows
    if wanted("soak"):
        rss = max(rss, soak(folder))
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


# Logs in the users <prefix>0 .. <prefix>N-1 in turn with their right password (script arguments:
# prefix, N, password), and keeps the wall-clock time of every 200 in `stamps`, so that logins can
# be counted over exactly the window of another run.
LOGIN_LUA = r'''
local ffi = require("ffi")
ffi.cdef[[
typedef struct { long tv_sec; long tv_usec; } bench_timeval;
int gettimeofday(bench_timeval *tv, void *tz);
]]
local tv = ffi.new("bench_timeval")
local function now()
  ffi.C.gettimeofday(tv, nil)
  return tonumber(tv.tv_sec) + tonumber(tv.tv_usec) / 1e6
end
stamps = {}
local counter = 0
function init(args) prefix, users, password = args[1], tonumber(args[2]), args[3] end
function request()
  counter = counter + 1
  local body = string.format('{"username":"%s%d","password":"%s"}', prefix, counter % users,
                             password)
  return wrk.format("POST", nil, {["Content-Type"] = "application/json"}, body)
end
function response(status, headers, body)
  note("login", status, 200)
  if status == 200 then stamps[#stamps + 1] = now() end
end
''' + LUA_REPORT


def saturation(folder):
    """Logins while authenticated traffic saturates the CPU, at the default bcrypt cost (12): the
    hashing must neither starve the API nor be starved by it. 8 connections log 8 users in, in
    turn, with the right password (wrk -t1 -c8); 32 connections read /api/me (wrk -t2 -c32); 3
    alternating rounds of logins alone, /api/me alone, and both at once (medians). Logins are
    counted from the time of each answer over exactly the window of the /api/me run (alone: a
    window as long), so the second of logins before and after it flatters nothing. Hashing
    settings: the server's defaults, or BENCH_AUTH."""
    s = Server(sqlite_url(folder, "saturation.sqlite3"))
    users = 8
    for i in range(users):
        signup(s, f"sat{i}")
    signup(s)
    token = s.login()
    lua = write_lua(folder, "saturation-login.lua", LOGIN_LUA)
    seconds = max(5, SECONDS // 2)
    wrk(s, "/api/me", token, conns=32, seconds=2)  # warm-up

    def logins(during):
        """Logins around `during()`, the login rate counted within its window."""
        proc = wrk_start(s, "/api/auth/login", conns=users, seconds=seconds + 2, script=lua,
                         threads=1, args=("sat", users, PASSWORD), timeout="30s")
        time.sleep(1)
        start = time.time()
        result = during()
        end = time.time()
        run = wrk_finish(proc)
        stamps = [float(x) for x in run["lua"].get("stamp", [])]
        run["rate"] = sum(start <= x <= end for x in stamps) / (end - start)
        return run, result

    alone, busy, quiet, loud = [], [], [], []
    for _ in range(3):
        alone.append(logins(lambda: time.sleep(seconds))[0])
        quiet.append(wrk(s, "/api/me", token, conns=32, seconds=seconds))
        run, me = logins(lambda: wrk(s, "/api/me", token, conns=32, seconds=seconds))
        busy.append(run)
        loud.append(me)
    a, b = median(alone, "rate")["rate"], median(busy, "rate")["rate"]
    q, l = median(quiet, "p99"), median(loud, "p99")
    settings = ", ".join(f"{k}={v}" for k, v in EXTRA_AUTH.items()) or "defaults"
    record("saturation: hashing settings (BENCH_AUTH)", settings,
           f"(bcrypt cost 12, {os.cpu_count()} cores; hash_threads = 0 is one per core)")
    record("logins/s alone, 8 connections (median of 3)", f"{a:.1f} logins/s")
    record("logins/s while 32 connections read /api/me (median of 3)", f"{b:.1f} logins/s")
    record("login rate under load / alone", f"{b / a:.2f}" if a else "n/a", "(bar: ≥ 0.25)")
    record("GET /api/me, 32 connections, no logins (median p99 of 3)", fmt(q))
    record("GET /api/me, 32 connections, during 8 concurrent logins (median p99 of 3)", fmt(l))
    record("p99 during logins / without", f"{l['p99'] / q['p99']:.2f}", "(bar: ≤ 2×)")
    runs = alone + busy
    refused = sum(int(r["lua"]["unexpected"][0]) for r in runs)
    me_bad = sum(r["non2xx"] + r["errors"] for r in quiet + loud)
    record("login answers not 200 (saturation)", f"{refused}",
           f"(must be 0; of {sum(r['requests'] for r in runs):,} logins; login socket errors "
           f"{sum(r['errors'] for r in runs)}; /api/me non-2xx or socket errors {me_bad})")
    rss = s.peak_rss_mib()
    s.stop()
    return rss


# One connection per thread (wrk -tN -cN), each the user <prefix><thread number> (arguments:
# prefix, password), cycling through 7 requests every one of which must succeed: log in (session
# A), GET /api/me with A, log in again (B), GET /api/sessions with B, revoke A with B, GET /api/me
# with B, log out B. A request is built from the current step, and the step moves on only on the
# expected answer (wrk builds one request it never sends, to check the script); any other answer
# is counted and starts the cycle over, so no request uses a token the cycle has ended.
CYCLE_LUA = r'''
local steps = {
  {"login", 200}, {"me", 200}, {"login", 200}, {"sessions", 200}, {"revoke", 204}, {"me", 200},
  {"logout", 204},
}
local step, a_token, a_id, b_token = 1
local json = {["Content-Type"] = "application/json"}
local function bearer(token) return {["Authorization"] = "Bearer " .. token} end
function init(args)
  login_body = string.format('{"username":"%s%d","password":"%s"}', args[1], number, args[2])
end
function request()
  if step == 1 or step == 3 then return wrk.format("POST", "/api/auth/login", json, login_body)
  elseif step == 2 then return wrk.format("GET", "/api/me", bearer(a_token))
  elseif step == 4 then return wrk.format("GET", "/api/sessions", bearer(b_token))
  elseif step == 5 then return wrk.format("DELETE", "/api/sessions/" .. a_id, bearer(b_token))
  elseif step == 6 then return wrk.format("GET", "/api/me", bearer(b_token))
  else return wrk.format("POST", "/api/auth/logout", bearer(b_token)) end
end
function response(status, headers, body)
  local name, want = steps[step][1], steps[step][2]
  note(name, status, want)
  if status ~= want then step = 1 return end
  if step == 1 or step == 3 then
    local token = body:match('"token"%s*:%s*"([^"]+)"')
    local id = body:match('"session"%s*:%s*{%s*"id"%s*:%s*"([^"]+)"')
    if not (token and id) then unexpected = unexpected + 1 step = 1 return end
    if step == 1 then a_token, a_id = token, id else b_token = token end
  end
  step = step % #steps + 1
end
''' + LUA_REPORT


def slow(folder):
    """Slowloris: 3,000 connections that each send part of a request's headers and then nothing,
    against the server with its connection bounds ([connections] defaults: header_timeout 10 s,
    max 1024) and with them off. Counts the connections the server still holds (its descriptors)
    2 s in and after the header timeout, its RSS, and whether a normal request is answered
    meanwhile."""
    import socket
    total = 3000
    for label, bounds in (("bounds on (defaults)", None),
                          ("bounds off", "{header_timeout=0, request_timeout=0, max=0}")):
        env = {"ROCKET_CONNECTIONS": bounds} if bounds else {}
        s = Server(sqlite_url(folder, f"slow-{len(env)}.sqlite3"), env=env)
        fds = lambda: len(os.listdir(f"/proc/{s.proc.pid}/fd"))
        before, rss_before = fds(), s.rss_mib()
        socks = []
        opened = time.perf_counter()
        for _ in range(total):
            c = socket.create_connection(("127.0.0.1", s.port), timeout=5)
            c.sendall(b"GET /api/health HTTP/1.1\r\nHost: localhost\r\n")
            socks.append(c)
        opened = time.perf_counter() - opened
        time.sleep(2)
        held, rss_held = fds() - before, s.rss_mib()
        t = time.perf_counter()
        answered = s.call("GET", "/api/health")[0]
        answer_ms = (time.perf_counter() - t) * 1000
        time.sleep(11)
        after, rss_after = fds() - before, s.rss_mib()
        for c in socks:
            c.close()
        record(f"{total:,} slow connections, {label}: held by the server 2 s in → 13 s in",
               f"{held:,} → {after:,}",
               f"(opened in {opened:.1f} s; RSS {rss_before:.1f} → {rss_held:.1f} → {rss_after:.1f} MiB; "
               f"a normal request "
               f"meanwhile: {answered} in {answer_ms:.0f} ms)")
        s.stop()


def soak(folder):
    """BENCH_SOAK_SECONDS (10 minutes) of mixed traffic on one SQLite server: whether memory or
    latency creeps up while sessions come and go. In slices of 60 s (a tenth of the time when
    shorter), three loads at once: GET /api/me with one token (16 connections); 4 connections
    each cycling its own user through log in, /api/me, log in, list sessions, revoke the first
    session, /api/me, log out; and the device page GET /sessions with the cookie of a browser
    sign-in (4 connections) of the first cycling user, so the page lists sessions that change all
    the time. Every request is expected to succeed, and the page is checked for 200 by the script
    (a refused cookie is a redirect, which wrk does not count). bcrypt_cost 4, so that logins are
    not the bottleneck. After each slice, the server's VmRSS."""
    path = os.path.join(folder, "soak.sqlite3")
    s = Server(f"sqlite://{path}", {"bcrypt_cost": 4})
    cyclers = 4
    for i in range(1, cyclers + 1):
        signup(s, f"cycle{i}")
    signup(s, "soak")
    token = s.login("soak")
    cookie = f"Cookie: {browser_login(s, 'cycle1')}"
    conn = http.client.HTTPConnection("127.0.0.1", s.port, timeout=30)
    conn.request("GET", "/sessions", headers={"Cookie": cookie.split(": ", 1)[1]})
    page = conn.getresponse()
    page.read()
    conn.close()
    assert page.status == 200, f"the device page answered {page.status} to the browser cookie"
    cycle_lua = write_lua(folder, "soak-cycle.lua", CYCLE_LUA)
    page_lua = write_lua(folder, "soak-page.lua", EXPECT_LUA)
    length = max(2, min(60, SOAK_SECONDS // 10))
    slices = max(1, round(SOAK_SECONDS / length))
    print(f"soak: {slices} slices of {length} s", flush=True)
    loads = ("me", "cycle", "page")
    p99s, rss, bad, errors, sign_ins = {k: [] for k in loads}, [], {k: 0 for k in loads}, 0, 0
    for n in range(slices):
        procs = {
            "me": wrk_start(s, "/api/me", token, conns=16, seconds=length),
            "cycle": wrk_start(s, "/", conns=cyclers, threads=cyclers, seconds=length,
                               script=cycle_lua, args=("cycle", PASSWORD)),
            "page": wrk_start(s, "/sessions", conns=4, threads=1, seconds=length, script=page_lua,
                              headers=[cookie], args=(200,)),
        }
        runs = {k: wrk_finish(p) for k, p in procs.items()}
        rss.append(s.rss_mib())
        slice_bad = {"me": runs["me"]["non2xx"],
                     "cycle": int(runs["cycle"]["lua"]["unexpected"][0]),
                     "page": int(runs["page"]["lua"]["unexpected"][0])}
        slice_errors = sum(r["errors"] for r in runs.values())
        for k in loads:
            p99s[k].append(runs[k]["p99"])
            bad[k] += slice_bad[k]
        errors += slice_errors
        sign_ins += sum(int(x.split("=")[1]) for x in runs["cycle"]["lua"].get("status", [])
                        if x.startswith("login:200="))
        if slice_bad["cycle"] or slice_bad["page"]:
            print(f"    cycle: {statuses(runs['cycle'])}; page: {statuses(runs['page'])}")
        end = (n + 1) * length
        record(f"soak slice {n + 1}/{slices} (to {end // 60}:{end % 60:02d})",
               f"p99 me {runs['me']['p99']:.2f} / cycle {runs['cycle']['p99']:.2f} / page "
               f"{runs['page']['p99']:.2f} ms; RSS {rss[-1]:.1f} MiB",
               f"(non-2xx {slice_bad['me']}/{slice_bad['cycle']}/{slice_bad['page']}, socket "
               f"errors {slice_errors}; " + "/".join(f"{runs[k]['rps']:,.0f}" for k in loads)
               + " req/s)")
    peak = s.peak_rss_mib()
    s.stop()
    db = sqlite3.connect(path)
    ended = dict(db.execute("SELECT end_reason, COUNT(*) FROM session_history GROUP BY 1"))
    live = db.execute("SELECT COUNT(*) FROM sessions").fetchone()[0]
    db.close()
    size = sum(os.path.getsize(path + x) for x in ("", "-wal") if os.path.exists(path + x))
    growth = (rss[-1] - rss[0]) / rss[0] * 100
    record("soak: RSS after the first slice → at the end", f"{rss[0]:.1f} → {rss[-1]:.1f} MiB",
           f"(peak {peak:.1f} MiB)")
    record("soak: RSS growth after the first slice", f"{growth:+.1f} %", "(bar: ≤ 10%)")
    for k, label in (("me", "GET /api/me (16 connections)"),
                     ("cycle", f"the session cycle ({cyclers} connections)"),
                     ("page", "GET /sessions, the device page (4 connections)")):
        record(f"soak: p99 of {label} per slice", ", ".join(f"{x:.1f}" for x in p99s[k]) + " ms")
    record("soak: answers not as expected", f"{sum(bad.values())}",
           f"(must be 0; me/cycle/page {bad['me']}/{bad['cycle']}/{bad['page']}; socket errors "
           f"{errors})")
    record("soak: sessions", f"{sign_ins:,} cycle sign-ins; ended: "
           + ", ".join(f"{k} {v:,}" for k, v in sorted(ended.items())) + f"; {live} live at the end",
           f"(bcrypt_cost 4, so logins are not the bottleneck; {slices} slices of {length} s; "
           f"database {size / 2**20:.1f} MiB)")
    return peak


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
             f"wrk with 2 threads, {CONNS} connections, {SECONDS} s per run unless stated"
             + (f"; BENCH_AUTH {', '.join(f'{k}={v}' for k, v in EXTRA_AUTH.items())}"
                if EXTRA_AUTH else "") + ".", "",
             "| measurement | result | note |", "|---|---|---|"]
    lines += [f"| {a} | {b} | {c} |" for a, b, c in rows]
    table = "\n".join(lines)
    os.makedirs(os.path.dirname(OUT), exist_ok=True)
    with open(OUT, "w") as f:
        f.write(table + "\n")
    print("\n" + table + f"\n\n(written to {os.path.relpath(OUT, ROOT)})")


if __name__ == "__main__":
    main()
