#!/usr/bin/env python3
"""Two permitd instances behind HAProxy (round robin, health checks on /readyz), on a private
PostgreSQL, a private Redis and the S3 test server, started empty at the same moment with one
shared keys directory; then the promises of issue 16 checked one by one (see tests/scale/run.sh).

Standard library only. Every check prints one line; the exit status is 1 when any promise is
broken, 2 when the cluster could not be set up.
"""
import argparse
import datetime
import base64
import hashlib
import http.client
import http.cookies
import json
import os
import random
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
import urllib.parse
import uuid
import zlib
from collections import Counter
from concurrent.futures import ThreadPoolExecutor

POINT_NAME = "清波派出所受理点"
PASSWORD = "Scale2026pw"
PG_BIN = "/usr/lib/postgresql/15/bin"
S3_URL = os.environ.get("PERMIT_SCALE_S3_URL", "http://127.0.0.1:9000")
PDF = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"

# Sizes: the full run has the issue's numbers, the short one (make test) fewer.
SIZES = {
    "full": dict(movers=120, issues=40, surge=100, places=30, load_workers=8,
                 redis_down=3, pg_down=10, after_kill=8, settle=5),
    "short": dict(movers=24, issues=8, surge=24, places=8, load_workers=4,
                  redis_down=2, pg_down=4, after_kill=5, settle=3),
}
TIMEOUT = 15.0  # the longest a client waits for an answer; longer is a hang


def free_port():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


# ------------------------------------------------------------------ HTTP
class Answer:
    def __init__(self, status, headers, body, elapsed, error=None):
        self.status, self.headers, self.body, self.elapsed, self.error = (
            status, headers, body, elapsed, error)

    def json(self):
        try:
            return json.loads(self.body)
        except (ValueError, TypeError):
            return None

    def code(self):
        j = self.json()
        return j.get("code") if isinstance(j, dict) else None

    def __repr__(self):
        return f"{self.status} {self.error or ''} {self.body[:200]!r}"


def call(port, method, path, body=None, cookie=None, ip=None, timeout=TIMEOUT, headers=None,
         upload=None):
    h = {"connection": "close"}
    data = None
    if upload is not None:
        name, content = upload
        boundary = "scaleboundary2026"
        data = (f"--{boundary}\r\ncontent-disposition: form-data; name=\"file\"; "
                f"filename=\"{name}\"\r\ncontent-type: application/pdf\r\n\r\n").encode() \
            + content + f"\r\n--{boundary}--\r\n".encode()
        h["content-type"] = f"multipart/form-data; boundary={boundary}"
    elif body is not None:
        data = json.dumps(body).encode()
        h["content-type"] = "application/json"
    if cookie:
        h["cookie"] = f"permit_session={cookie}"
    if ip:
        h["x-forwarded-for"] = ip
    h.update(headers or {})
    started = time.monotonic()
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=timeout)
    try:
        conn.request(method, path, body=data, headers=h)
        resp = conn.getresponse()
        raw = resp.read()
        headers_out = {}
        for k, v in resp.getheaders():
            k = k.lower()
            headers_out[k] = headers_out[k] + "\n" + v if k in headers_out else v
        return Answer(resp.status, headers_out, raw, time.monotonic() - started)
    except (OSError, http.client.HTTPException) as e:
        return Answer(None, {}, b"", time.monotonic() - started, f"{type(e).__name__}: {e}")
    finally:
        conn.close()


def api(port, method, path, **kw):
    return call(port, method, "/api/v1" + path, **kw)


def cookie_of(answer):
    jar = http.cookies.SimpleCookie()
    for value in (answer.headers.get("set-cookie") or "").split("\n"):
        if value:
            jar.load(value)
    return jar["permit_session"].value if "permit_session" in jar else None


# ------------------------------------------------------------------ results
class Report:
    def __init__(self):
        self.lines = []  # (check, ok, detail)
        self.failed = 0

    def check(self, name, ok, detail):
        mark = "PASS" if ok else "FAIL"
        print(f"[{mark}] {name}: {detail}", flush=True)
        self.lines.append((name, ok, detail))
        if not ok:
            self.failed += 1
        return ok

    def note(self, text):
        print(f"       {text}", flush=True)


def counts(answers):
    c = Counter()
    for a in answers:
        c[a.status if a.status is not None else "transport"] += 1
    return dict(sorted(c.items(), key=lambda kv: str(kv[0])))


def bad_answers(answers, allowed_4xx):
    """Answers that break "success, or a 4xx that names a rule": 5xx, transport errors, and
    4xx whose code is not one of `allowed_4xx`."""
    bad = []
    for a in answers:
        if a.status is None or a.status >= 500:
            bad.append(a)
        elif a.status >= 400 and a.code() not in allowed_4xx:
            bad.append(a)
    return bad


# ------------------------------------------------------------------ the cluster
class Cluster:
    def __init__(self, work, root, binary, ttl):
        self.work, self.root, self.binary, self.ttl = work, root, binary, ttl
        self.pg_port, self.redis_port, self.lb_port = free_port(), free_port(), free_port()
        self.ports = {"a": free_port(), "b": free_port()}
        self.procs = {}
        self.redis = None
        self.haproxy = None
        self.bucket = "permit-scale-" + uuid.uuid4().hex[:8]
        self.pg_dir = os.path.join(work, "pg")
        self.sock_dir = os.path.join(work, "pgsock")
        self.as_postgres = ["runuser", "-u", "postgres", "--"] if os.geteuid() == 0 else []

    # PostgreSQL: its own cluster in the work directory, so the script may stop it.
    def init_pg(self):
        for d in (self.pg_dir, self.sock_dir):
            os.makedirs(d, exist_ok=True)
            if self.as_postgres:
                shutil.chown(d, "postgres", "postgres")
        subprocess.run(self.as_postgres + [f"{PG_BIN}/initdb", "-D", self.pg_dir, "-A", "trust",
                                           "-U", "postgres", "--no-sync"],
                       check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        self.start_pg()

    def start_pg(self):
        subprocess.run(self.as_postgres + [
            f"{PG_BIN}/pg_ctl", "-D", self.pg_dir, "-l", os.path.join(self.sock_dir, "pg.log"),
            "-w", "-o", f"-p {self.pg_port} -k {self.sock_dir} -c listen_addresses=127.0.0.1 "
                        "-c fsync=off -c max_connections=200", "start"],
            check=True, stdout=subprocess.DEVNULL)

    def stop_pg(self):
        subprocess.run(self.as_postgres + [f"{PG_BIN}/pg_ctl", "-D", self.pg_dir, "-m", "fast",
                                           "-w", "stop"], check=False, stdout=subprocess.DEVNULL)

    def sql(self, query):
        out = subprocess.run(["psql", "-h", "127.0.0.1", "-p", str(self.pg_port), "-U", "postgres",
                              "-d", "postgres", "-v", "ON_ERROR_STOP=1", "-qAt", "-F", "|",
                              "-c", query], check=True, capture_output=True, text=True)
        return [line.split("|") for line in out.stdout.splitlines() if line]

    # Redis with an append-only file, so a restart keeps sessions and codes as a production
    # Redis with persistence does.
    def start_redis(self):
        d = os.path.join(self.work, "redis")
        os.makedirs(d, exist_ok=True)
        self.redis = subprocess.Popen(
            ["redis-server", "--port", str(self.redis_port), "--bind", "127.0.0.1", "--save", "",
             "--appendonly", "yes", "--appendfsync", "always", "--dir", d],
            stdout=open(os.path.join(d, "log"), "a"), stderr=subprocess.STDOUT)
        for _ in range(100):
            if subprocess.run(["redis-cli", "-p", str(self.redis_port), "ping"],
                              capture_output=True, text=True).stdout.strip() == "PONG":
                return
            time.sleep(0.1)
        raise RuntimeError("redis did not start")

    def stop_redis(self):
        self.redis.terminate()
        self.redis.wait(20)

    def make_bucket(self):
        host, port = S3_URL.split("//")[1].split(":")
        conn = http.client.HTTPConnection(host, int(port), timeout=10)
        conn.request("PUT", "/" + self.bucket)
        status = conn.getresponse().status
        conn.close()
        if status != 200:
            raise RuntimeError(f"S3 bucket: {status}")

    def env(self, name):
        e = {k: v for k, v in os.environ.items()
             if not k.startswith(("PERMIT_", "DATABASE_URL", "REDIS_URL", "AWS_", "RUST_LOG"))}
        e.update({
            "NO_COLOR": "1", "PERMIT_DEMO": "true",
            "PERMIT_LISTEN": f"127.0.0.1:{self.ports.get(name, 0)}",
            "PERMIT_DATA_DIR": os.path.join(self.work, f"data-{name}"),
            "PERMIT_KEYS_DIR": os.path.join(self.work, "keys"),
            "DATABASE_URL": f"postgres://postgres@127.0.0.1:{self.pg_port}/postgres",
            "REDIS_URL": f"redis://127.0.0.1:{self.redis_port}",
            "PERMIT_FILES_URL": f"s3://{self.bucket}/proof",
            "AWS_ENDPOINT": S3_URL, "AWS_ALLOW_HTTP": "true", "AWS_ACCESS_KEY_ID": "permit-test",
            "AWS_SECRET_ACCESS_KEY": "permit-test", "AWS_REGION": "us-east-1",
            "PERMIT_TRUSTED_PROXIES": "127.0.0.1",
            "PERMIT_CAPTCHA_DIFFICULTY": "1000", "PERMIT_SMS_RESEND_INTERVAL_SECS": "0",
            "PERMIT_TRUST_LIST_TTL_SECS": str(self.ttl), "PERMIT_STATUS_LIST_TTL_SECS": str(self.ttl),
            "PERMIT_JOBS_INTERVAL_SECS": "5", "PERMIT_DB_POOL_SIZE": "16",
        })
        return e

    def start_permitd(self, name):
        os.makedirs(os.path.join(self.work, f"data-{name}"), exist_ok=True)
        log = open(os.path.join(self.work, f"permitd-{name}.log"), "a")
        self.procs[name] = subprocess.Popen([self.binary], env=self.env(name), stdout=log,
                                            stderr=subprocess.STDOUT)

    def cli(self, args, stdin=None):
        return subprocess.run([self.binary] + args, env=self.env("cli"), input=stdin,
                              capture_output=True, text=True, timeout=120)

    def ready(self, name):
        return call(self.ports[name], "GET", "/readyz", timeout=3).status == 200

    def wait_ready(self, names, within=120):
        deadline = time.monotonic() + within
        while time.monotonic() < deadline:
            if all(self.ready(n) for n in names):
                return True
            for n in names:
                if self.procs[n].poll() is not None:
                    return False
            time.sleep(0.2)
        return False

    def start_haproxy(self):
        errors = os.path.join(self.work, "503.http")
        body = json.dumps({"code": "service_unavailable", "message": "服务暂时不可用，请稍后再试",
                           "retry_after": 1})
        with open(errors, "wb") as f:
            f.write(("HTTP/1.1 503 Service Unavailable\r\ncontent-type: application/json\r\n"
                     "retry-after: 1\r\ncache-control: no-store\r\nconnection: close\r\n\r\n"
                     + body).encode())
        cfg = os.path.join(self.work, "haproxy.cfg")
        with open(cfg, "w") as f:
            f.write(f"""global
    maxconn 4096
defaults
    mode http
    timeout connect 2s
    timeout client 60s
    timeout server {int(TIMEOUT) - 3}s
    timeout queue 5s
    retries 2
    option redispatch
    retry-on conn-failure empty-response
    errorfile 502 {errors}
    errorfile 503 {errors}
    errorfile 504 {errors}
frontend permit
    bind 127.0.0.1:{self.lb_port}
    option forwardfor
    default_backend permitd
backend permitd
    balance roundrobin
    option httpchk GET /readyz
    http-check expect status 200
    default-server inter 1s fall 2 rise 2
    server a 127.0.0.1:{self.ports['a']} check
    server b 127.0.0.1:{self.ports['b']} check
""")
        self.haproxy = subprocess.Popen(["haproxy", "-f", cfg, "-db"],
                                        stdout=open(os.path.join(self.work, "haproxy.log"), "a"),
                                        stderr=subprocess.STDOUT)

    def stop_all(self):
        for p in list(self.procs.values()) + [self.haproxy, self.redis]:
            if p and p.poll() is None:
                p.terminate()
                try:
                    p.wait(10)
                except subprocess.TimeoutExpired:
                    p.kill()
        self.stop_pg()


# ------------------------------------------------------------------ people
def check_character(first17):
    weights = [7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2]
    return "10X98765432"[sum(int(c) * w for c, w in zip(first17, weights)) % 11]


def solve_captcha(port, ip):
    c = api(port, "GET", "/captcha", ip=ip).json()
    for number in range(c["maxnumber"] + 1):
        if hashlib.sha256(f"{c['salt']}{number}".encode()).hexdigest() == c["challenge"]:
            payload = {k: c[k] for k in ("algorithm", "challenge", "salt", "signature")}
            payload["number"] = number
            return base64.b64encode(json.dumps(payload).encode()).decode()
    raise RuntimeError("captcha: no solution")


class Resident:
    def __init__(self, i):
        self.i = i
        self.username = f"scale{i:05d}"
        self.phone = f"139{i:08d}"
        self.ip = f"10.{1 + i // 62500}.{(i // 250) % 250}.{i % 250 + 1}"
        first17 = f"330102{1970 + i // 1000 % 30}{(i // 1000 % 12) + 1:02d}01{i % 1000:03d}"
        self.id_number = first17 + check_character(first17)
        self.sex = "male" if int(first17[16]) % 2 else "female"  # GB 11643: odd is male
        self.cookie = None
        self.application = None
        self.permit = None


class People:
    """Registers residents over HTTP; the development SMS sink is each instance's own memory,
    so a code is looked for on both instances directly."""

    def __init__(self, cluster):
        self.c = cluster
        self.seen = {}
        self.lock = threading.Lock()

    def sms_messages(self, phone):
        out = []
        for name, port in self.c.ports.items():
            a = api(port, "GET", f"/dev/sms?phone={phone}", timeout=5)
            if a.status == 200:
                out += [(m["sent_at"], name, m["text"]) for m in a.json()]
        return sorted(out)

    def new_code(self, phone, before):
        # Up to 30 s: on a loaded machine the sink may lag behind the answer.
        for _ in range(300):
            msgs = self.sms_messages(phone)
            if len(msgs) > before:
                text = msgs[-1][2]
                return next(text[i:i + 6] for i in range(len(text) - 5) if text[i:i + 6].isdigit()), msgs[-1][1]
            time.sleep(0.1)
        raise RuntimeError(f"no SMS code for {phone}")

    def register(self, r, port, sign_in_port=None):
        before = len(self.sms_messages(r.phone))
        a = api(port, "POST", "/sms-codes", ip=r.ip,
                body={"phone": r.phone, "purpose": "register", "captcha": solve_captcha(port, r.ip)})
        if a.status != 200:
            raise RuntimeError(f"sms code: {a}")
        code, _ = self.new_code(r.phone, before)
        notice = api(port, "GET", "/privacy-notice").json()["version"]
        a = api(sign_in_port or port, "POST", "/accounts", ip=r.ip, body={
            "username": r.username, "password": PASSWORD, "password_confirmation": PASSWORD,
            "real_name": "张测试", "id_number": r.id_number, "sex": r.sex, "phone": r.phone,
            "sms_code": code, "region_code": "330102001",
            "captcha": solve_captcha(port, r.ip), "privacy_notice_version": notice})
        if a.status != 201:
            raise RuntimeError(f"registration of {r.username}: {a}")
        self.sign_in(r, port)

    def sign_in(self, r, port, code_port=None):
        for _ in range(3):
            before = len(self.sms_messages(r.phone))
            a = api(port, "POST", "/sessions", ip=r.ip,
                    body={"username": r.username, "password": PASSWORD})
            if a.status == 200:
                r.cookie = cookie_of(a)
                return
            if a.status != 401:
                raise RuntimeError(f"sign-in: {a}")
            code, _ = self.new_code(r.phone, before)
            a = api(code_port or port, "POST", "/sessions", ip=r.ip,
                    body={"username": r.username, "password": PASSWORD, "sms_code": code})
            if a.status == 200:
                r.cookie = cookie_of(a)
                return
        raise RuntimeError(f"sign-in of {r.username}: {a}")

    def submitted_application(self, r, port, point):
        communities = api(port, "GET", "/regions?parent=330102001").json()
        a = api(port, "POST", "/applications", cookie=r.cookie, ip=r.ip, body={
            "district_code": "330102", "street_code": "330102001",
            "address_detail": "四宜路61号2幢301室", "community_code": communities[0]["code"],
            "service_point_id": point, "condition": "talent"})
        if a.status != 201:
            raise RuntimeError(f"draft: {a}")
        r.application = a.json()["id"]
        a = api(port, "POST", f"/applications/{r.application}/materials", cookie=r.cookie,
                ip=r.ip, upload=("合同.pdf", PDF))
        if a.status != 201:
            raise RuntimeError(f"material: {a}")
        a = api(port, "POST", f"/applications/{r.application}/submit", cookie=r.cookie, ip=r.ip,
                body={})
        if a.status != 200:
            raise RuntimeError(f"submit: {a}")


def book(port, r, day, key=None):
    headers = {"idempotency-key": key} if key else None
    return api(port, "PUT", f"/applications/{r.application}/appointment", cookie=r.cookie,
               ip=r.ip, body={"date": day}, headers=headers)


def at_once(fn, items):
    """Runs fn on every item, each in its own thread, released together by one barrier."""
    barrier = threading.Barrier(len(items))

    def run(item):
        try:
            barrier.wait(30)
        except threading.BrokenBarrierError:
            pass
        return fn(item)

    with ThreadPoolExecutor(max_workers=len(items)) as pool:
        return list(pool.map(run, items))


def parallel(fn, items, workers=8):
    with ThreadPoolExecutor(max_workers=workers) as pool:
        return list(pool.map(fn, items))


# ------------------------------------------------------------------ credentials
def cbor(data, i=0):
    """A small CBOR reader: enough for COSE_Sign1 headers. Returns (value, next index)."""
    b = data[i]
    major, info = b >> 5, b & 31
    i += 1
    if info < 24:
        n = info
    else:
        size = {24: 1, 25: 2, 26: 4, 27: 8}[info]
        n = int.from_bytes(data[i:i + size], "big")
        i += size
    if major == 0:
        return n, i
    if major == 1:
        return -1 - n, i
    if major in (2, 3):
        v = data[i:i + n]
        return (v if major == 2 else v.decode()), i + n
    if major == 4:
        out = []
        for _ in range(n):
            v, i = cbor(data, i)
            out.append(v)
        return out, i
    if major == 5:
        out = {}
        for _ in range(n):
            k, i = cbor(data, i)
            v, i = cbor(data, i)
            out[k] = v
        return out, i
    if major == 6:
        return cbor(data, i)
    return n, i


B45 = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ $%*+-./:"


def credential_kid(qr_text):
    body = qr_text.split("#")[0].strip()[4:]
    out = bytearray()
    for j in range(0, len(body), 3):
        chunk = body[j:j + 3]
        n = sum(B45.index(ch) * 45 ** k for k, ch in enumerate(chunk))
        out += n.to_bytes(2 if len(chunk) == 3 else 1, "big")
    sign1, _ = cbor(zlib.decompress(bytes(out)))
    protected, _ = cbor(sign1[0]) if sign1[0] else ({}, 0)
    kid = protected.get(4) or sign1[1].get(4)
    return kid.hex() if kid else None


def trust_kids(port):
    a = api(port, "GET", "/trust-list?format=json", timeout=5)
    j = a.json() or {}
    keys = j.get("issuer_keys") or j.get("keys") or j.get("issuers") or []
    return {k.get("kid") for k in keys if isinstance(k, dict)}


# ------------------------------------------------------------------ the run
class Run:
    def __init__(self, args):
        self.args = args
        self.size = SIZES[args.size]
        self.report = Report()
        self.root = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
        self.work = tempfile.mkdtemp(prefix="permit-scale.")
        os.chmod(self.work, 0o755)
        self.c = Cluster(self.work, self.root, os.path.abspath(args.permitd), args.ttl)
        self.people = People(self.c)
        self.lb = self.c.lb_port
        self.figures = {}
        self.next_i = 1

    def residents(self, n):
        out = [Resident(self.next_i + k) for k in range(n)]
        self.next_i += n
        return out

    # -- set-up: both instances at the same moment on the empty database and keys directory
    def setup(self):
        print(f"work directory (logs): {self.work}", flush=True)
        self.c.init_pg()
        self.c.start_redis()
        self.c.make_bucket()
        started = time.monotonic()
        self.c.start_permitd("a")
        self.c.start_permitd("b")
        ok = self.c.wait_ready(["a", "b"])
        took = time.monotonic() - started
        self.figures["start"] = f"{took:.1f} s"
        if not self.report.check("both instances start at once on an empty database and keys "
                                 "directory", ok, f"ready after {took:.1f} s"):
            for n in ("a", "b"):
                print(open(os.path.join(self.work, f"permitd-{n}.log")).read()[-3000:])
            raise SystemExit(2)
        self.c.start_haproxy()
        for _ in range(100):
            if api(self.lb, "GET", "/service-points", timeout=3).status == 200:
                break
            time.sleep(0.2)
        points = api(self.lb, "GET", "/service-points").json()
        self.point = next(p["id"] for p in points if p["name"] == POINT_NAME)
        served = Counter()
        for _ in range(20):
            served[call(self.lb, "GET", "/readyz").status] += 1
        keys = sorted(os.listdir(os.path.join(self.work, "keys")))
        roots = {call(p, "GET", "/api/v1/trust-list?format=json").json().get("root_public_key")
                 for p in self.c.ports.values()}
        self.report.check("one key set in the shared directory, one root served by both",
                          len(roots) == 1 and len([k for k in keys if k.startswith("issuer-")]) == 1
                          and len([k for k in keys if k.startswith("data-")]) == 1,
                          f"files {keys}; root keys served: {len(roots)}")
        self.report.check("the load balancer answers through both", served.get(200) == 20,
                          f"/readyz via HAProxy: {dict(served)}")

    # -- a session and an SMS code cross instances
    def cross_instance(self):
        a, b = self.c.ports["a"], self.c.ports["b"]
        r = self.residents(1)[0]
        before = len(self.people.sms_messages(r.phone))
        sent = api(a, "POST", "/sms-codes", ip=r.ip,
                   body={"phone": r.phone, "purpose": "register", "captcha": solve_captcha(a, r.ip)})
        code, where = self.people.new_code(r.phone, before)
        notice = api(b, "GET", "/privacy-notice").json()["version"]
        reg = api(b, "POST", "/accounts", ip=r.ip, body={
            "username": r.username, "password": PASSWORD, "password_confirmation": PASSWORD,
            "real_name": "张测试", "id_number": r.id_number, "sex": r.sex, "phone": r.phone,
            "sms_code": code, "region_code": "330102001", "captcha": solve_captcha(b, r.ip),
            "privacy_notice_version": notice})
        self.report.check("an SMS code sent through A is accepted by B",
                          sent.status == 200 and where == "a" and reg.status == 201,
                          f"code sent via A: {sent.status} (held by {where}), registration via B: "
                          f"{reg.status} {reg.code() or ''}")
        # Sign-in on A asks for an SMS code; B takes it, and A's session then works on B.
        before = len(self.people.sms_messages(r.phone))
        first = api(a, "POST", "/sessions", ip=r.ip,
                    body={"username": r.username, "password": PASSWORD})
        code, _ = self.people.new_code(r.phone, before)
        second = api(b, "POST", "/sessions", ip=r.ip,
                     body={"username": r.username, "password": PASSWORD, "sms_code": code})
        cookie = cookie_of(second)
        me_a = api(a, "GET", "/me", cookie=cookie, ip=r.ip)
        me_b = api(b, "GET", "/me", cookie=cookie, ip=r.ip)
        self.report.check("a sign-in code from A is accepted by B; the session works on both",
                          first.status == 401 and second.status == 200 and me_a.status == 200
                          and me_b.status == 200,
                          f"A {first.status} {first.code()}, B with the code {second.status}, "
                          f"/me on A {me_a.status}, on B {me_b.status}")
        out = api(a, "DELETE", "/sessions/current", cookie=cookie, ip=r.ip)
        after = api(b, "GET", "/me", cookie=cookie, ip=r.ip)
        self.report.check("signing out on A ends the session on B", after.status == 401,
                          f"sign-out via A {out.status}, /me via B {after.status}")

    # -- residents with submitted applications, through the load balancer
    def seed(self, n, label):
        people = self.residents(n)
        started = time.monotonic()

        def make(r):
            self.people.register(r, self.lb)
            self.people.submitted_application(r, self.lb, self.point)
            return r

        out = parallel(make, people, workers=6)
        took = time.monotonic() - started
        print(f"       seeded {n} residents ({label}) over HTTP through HAProxy in {took:.1f} s",
              flush=True)
        return out

    def bookable_days(self, r):
        cal = api(self.lb, "GET", f"/applications/{r.application}/calendar", cookie=r.cookie,
                  ip=r.ip).json()
        return [d["date"] for d in cal["days"] if d["state"] == "available"]

    def set_capacity(self, day, places):
        self.c.sql(f"INSERT INTO slots (service_point_id, day, session, capacity, booked) VALUES "
                   f"('{self.point}', '{day}', 'morning', {places}, 0) ON CONFLICT "
                   f"(service_point_id, day, session) DO UPDATE SET capacity = {places}")

    def slot_mismatches(self):
        return self.c.sql(
            "SELECT s.day, s.session, s.booked, (SELECT COUNT(*) FROM appointments a WHERE "
            "a.service_point_id = s.service_point_id AND a.day = s.day AND a.session = s.session "
            "AND a.status IN ('booked', 'checked_in', 'no_show')) AS n FROM slots s "
            "WHERE s.booked <> (SELECT COUNT(*) FROM appointments a WHERE "
            "a.service_point_id = s.service_point_id AND a.day = s.day AND a.session = s.session "
            "AND a.status IN ('booked', 'checked_in', 'no_show'))")

    def booked_day(self):
        rows = self.c.sql("SELECT application_id, day, COUNT(*) OVER (PARTITION BY application_id) "
                          "FROM appointments WHERE status = 'booked'")
        return {r[0]: (r[1], int(r[2])) for r in rows}

    # -- opposite moves, all at once
    def moves(self):
        n = self.size["movers"]
        movers = self.seed(n, "movers")
        days = self.bookable_days(movers[0])
        self.days = days
        d1, d2 = days[0], days[1]
        half = n // 2
        # Two spare places a day: some moves find room, most meet a full day.
        for d in (d1, d2):
            self.set_capacity(d, half + 2)
        first = at_once(lambda r: book(self.lb, r, d1 if r.i % 2 else d2), movers)
        self.report.check("first bookings, both days filled", all(a.status == 200 for a in first),
                          f"{len(first)} requests: {counts(first)}")
        started = time.monotonic()
        answers = at_once(lambda r: book(self.lb, r, d2 if r.i % 2 else d1), movers)
        took = time.monotonic() - started
        bad = bad_answers(answers, {"slot_full"})
        mism = self.slot_mismatches()
        held = self.booked_day()
        lost = [r.username for r in movers if held.get(r.application, (None, 0))[1] != 1]
        self.report.check(f"opposite moves by {n} residents at once: success or a 4xx that names "
                          "a rule, none a 5xx", not bad,
                          f"{len(answers)} requests in {took:.1f} s: {counts(answers)}"
                          + (f"; bad: {bad[:3]}" if bad else ""))
        self.report.check("after the moves every slot counter equals its appointment rows, each "
                          "resident holds one booking", not mism and not lost,
                          f"mismatched slots {mism}, residents without exactly one booking {lost[:5]}")
        self.figures["moves"] = (n, counts(answers), f"{took:.1f} s")
        self.movers = movers

    # -- a surge spread over both never overbooks
    def surge(self):
        n, places = self.size["surge"], self.size["places"]
        crowd = self.seed(n, "surge")
        d3 = self.days[2]
        self.set_capacity(d3, places)
        started = time.monotonic()
        answers = at_once(lambda r: book(self.lb, r, d3), crowd)
        took = time.monotonic() - started
        ok = sum(1 for a in answers if a.status == 200)
        bad = bad_answers(answers, {"slot_full"})
        booked = self.c.sql(f"SELECT booked FROM slots WHERE service_point_id = '{self.point}' "
                            f"AND day = '{d3}' AND session = 'morning'")[0][0]
        rows = self.c.sql(f"SELECT COUNT(*) FROM appointments WHERE day = '{d3}' AND status = 'booked'")[0][0]
        self.report.check(f"a surge of {n} over both instances for {places} places never overbooks",
                          not bad and ok == places and int(booked) == places and int(rows) == places,
                          f"{len(answers)} requests in {took:.1f} s: {counts(answers)}; slot counter "
                          f"{booked}, appointment rows {rows}" + (f"; bad: {bad[:3]}" if bad else ""))
        self.figures["surge"] = (n, places, counts(answers), f"{took:.1f} s")
        self.surge_booked = {r.i for r, a in zip(crowd, answers) if a.status == 200}
        self.crowd = crowd

    # -- faults under a steady mixed load
    def faults(self):
        s = self.size
        loaders = self.crowd
        d4, d5 = self.days[3], self.days[4]
        for d in (d4, d5):
            self.set_capacity(d, len(loaders) * 2)
        log = []  # (t, op, answer)
        ready_log = []  # (t, instance, ready)
        stop = threading.Event()
        t0 = time.monotonic()
        target = {r.i: None for r in loaders}
        attempts = {r.i: [] for r in loaders}  # (day, answer) of each move, in order

        def worker(k):
            rng = random.Random(k)
            while not stop.is_set():
                r = rng.choice(loaders)
                op = rng.choice(["me", "points", "calendar", "book", "book"])
                if op == "me":
                    a = api(self.lb, "GET", "/me", cookie=r.cookie, ip=r.ip)
                elif op == "points":
                    a = api(self.lb, "GET", "/service-points", ip=r.ip)
                elif op == "calendar":
                    a = api(self.lb, "GET", f"/applications/{r.application}/calendar",
                            cookie=r.cookie, ip=r.ip)
                else:
                    with lock_of[r.i]:
                        day = d5 if target[r.i] == d4 else d4
                        a = book(self.lb, r, day, key=str(uuid.uuid4()))
                        attempts[r.i].append((day, a))
                        if a.status == 200:
                            target[r.i] = day
                log.append((time.monotonic() - t0, op, a))

        lock_of = {r.i: threading.Lock() for r in loaders}

        def poll_ready():
            while not stop.is_set():
                for name, port in self.c.ports.items():
                    a = call(port, "GET", "/readyz", timeout=3)
                    ready_log.append((time.monotonic() - t0, name, a.status == 200))
                time.sleep(0.25)

        threads = [threading.Thread(target=worker, args=(k,)) for k in range(s["load_workers"])]
        threads.append(threading.Thread(target=poll_ready))
        for t in threads:
            t.start()
        pids = {n: p.pid for n, p in self.c.procs.items()}
        marks = {}

        def first_ready_after(t, names=("a", "b")):
            out = {}
            for name in names:
                out[name] = next((tt for tt, n, ok in ready_log if n == name and ok and tt > t), None)
            return out

        def wait_ready_after(t, within=60):
            deadline = time.monotonic() + within
            while time.monotonic() < deadline:
                got = first_ready_after(t)
                if all(v is not None for v in got.values()):
                    return got
                time.sleep(0.2)
            return first_ready_after(t)

        time.sleep(s["settle"])
        # Redis restarted.
        marks["redis_stop"] = time.monotonic() - t0
        self.c.stop_redis()
        time.sleep(s["redis_down"])
        marks["redis_start"] = time.monotonic() - t0
        self.c.start_redis()
        marks["redis_ready"] = wait_ready_after(marks["redis_start"])
        time.sleep(s["settle"])
        # PostgreSQL stopped and started.
        marks["pg_stop"] = time.monotonic() - t0
        self.c.stop_pg()
        time.sleep(s["pg_down"])
        marks["pg_start"] = time.monotonic() - t0
        self.c.start_pg()
        marks["pg_ready"] = wait_ready_after(marks["pg_start"])
        time.sleep(s["settle"])
        # One instance killed mid-request: wait for a booking in flight, then SIGKILL.
        marks["kill"] = time.monotonic() - t0
        self.c.procs["a"].send_signal(signal.SIGKILL)
        self.c.procs["a"].wait()
        time.sleep(s["after_kill"])
        marks["restart_a"] = time.monotonic() - t0
        self.c.start_permitd("a")
        marks["a_ready"] = wait_ready_after(marks["restart_a"], within=120).get("a")
        time.sleep(s["settle"])
        stop.set()
        for t in threads:
            t.join()
        end = time.monotonic() - t0

        answers = [a for _, _, a in log]
        bad = [(t, op, a) for t, op, a in log
               if a.status is None or a.elapsed > TIMEOUT
               or (a.status >= 500 and not (a.status == 503 and a.headers.get("retry-after")))
               or (400 <= a.status < 500 and a.code() not in {"slot_full", "rate_limited"}
                   # A repeat (same Idempotency-Key) of a booking whose first attempt is still
                   # held: it names the rule and says when to try again.
                   and not (a.code() == "request_in_progress" and a.headers.get("retry-after")))]
        self.report.check("faults under load: every answer succeeded or was 503 with Retry-After; "
                          f"none hung past {TIMEOUT:.0f} s; no 500", not bad,
                          f"{len(answers)} requests: {counts(answers)}; slowest "
                          f"{max(a.elapsed for a in answers):.1f} s"
                          + (f"; bad: {[(round(t, 1), op, a) for t, op, a in bad[:4]]}" if bad else ""))

        def window(lo, hi):
            return counts([a for t, _, a in log if lo <= t < hi])

        def not_ready(lo, hi, name):
            return any(not ok for t, n, ok in ready_log if n == name and lo <= t <= hi)

        def first_ok(after, op="book"):
            return next((t for t, o, a in log if o == op and t > after and a.status == 200), None)

        rows = []
        for fault, lo, hi, ready in (("Redis restarted", marks["redis_stop"], marks["redis_start"],
                                      marks["redis_ready"]),
                                     (f"PostgreSQL stopped {s['pg_down']} s", marks["pg_stop"],
                                      marks["pg_start"], marks["pg_ready"])):
            both_down = not_ready(lo, hi + 0.5, "a") and not_ready(lo, hi + 0.5, "b")
            recovered = all(v is not None for v in ready.values())
            rec = max((v - hi for v in ready.values() if v is not None), default=None)
            booking = first_ok(hi)
            self.report.check(f"{fault}: /readyz not ready on both during the outage, both ready "
                              "again without a restart", both_down and recovered,
                              f"answers during the outage {window(lo, hi)}; ready again "
                              f"{rec:.1f} s after the restart; first booking {booking - hi:.1f} s after"
                              if recovered and booking else f"not ready seen: {both_down}, ready: {ready}")
            rows.append((fault, window(lo, hi), window(hi, hi + (rec or 0) + 1),
                         f"{rec:.1f} s" if rec is not None else "never",
                         f"{booking - hi:.1f} s" if booking else "never"))
        kill_window = window(marks["kill"], marks["restart_a"])
        after_kill_ok = first_ok(marks["kill"])
        self.report.check("instance A killed mid-request: B serves on, A rejoins once restarted",
                          marks["a_ready"] is not None,
                          f"answers while A was down {kill_window}; first booking "
                          f"{(after_kill_ok or 0) - marks['kill']:.1f} s after the kill; A ready "
                          f"{(marks['a_ready'] or 0) - marks['restart_a']:.1f} s after its restart")
        rows.append(("instance A killed", kill_window, "", "n/a (B serves)",
                     f"{(after_kill_ok or 0) - marks['kill']:.1f} s"))
        self.report.check("Redis and PostgreSQL faults needed no restart of permitd",
                          self.c.procs["b"].pid == pids["b"] and self.c.procs["b"].poll() is None,
                          f"B pid {pids['b']} ran throughout")
        # No booking lost or counted twice.
        mism = self.slot_mismatches()
        held = self.booked_day()
        wrong = []
        for r in loaders:
            day, n = held.get(r.application, (None, 0))
            tried = attempts[r.i]
            oks = [k for k, (_, a) in enumerate(tried) if a.status == 200]
            initial = self.days[2] if r.i in self.surge_booked else None
            if oks:  # the last day it was told, or a later one whose answer was not a 200
                possible = {d for d, _ in tried[oks[-1]:]}
            else:
                possible = {d for d, _ in tried} | ({initial} if initial else set())
            must_hold = bool(oks) or initial is not None
            if n > 1 or (must_hold and n != 1) or (n == 1 and day not in possible):
                wrong.append((r.username, day, n, sorted(possible)))
        moves_ok = sum(1 for t in attempts.values() for _, a in t if a.status == 200)
        self.report.check("no booking lost or counted twice: slot counters equal appointment rows, "
                          "each resident's booking is the last day it was told", not mism and not wrong,
                          f"{moves_ok} moves answered 200; mismatched slots {mism}; wrong {wrong[:4]}")
        self.figures["faults"] = (len(answers), counts(answers), rows, end)

    # -- 40 issues at once across both instances
    def clerk_session(self, username="scaleclerk"):
        out = self.c.cli(["staff", "enrolment", "--username", username])
        if out.returncode != 0:
            out = self.c.cli(["staff", "add", "--username", username, "--role", "clerk",
                              "--service-point", self.point], stdin="Scaleclerk2026\n")
        code = re.search(r"one-time enrolment code: ([A-Z0-9-]+)", out.stdout)
        if not code:
            raise RuntimeError(f"staff enrolment: {out.stdout} {out.stderr}")
        staff = os.path.join(os.path.dirname(self.c.binary), "examples", "staff_session")
        got = subprocess.run([staff, f"http://127.0.0.1:{self.lb}", "http://localhost:8080",
                              username, "Scaleclerk2026", code.group(1)],
                             capture_output=True, text=True, timeout=60)
        if got.returncode != 0:
            raise RuntimeError(f"staff session: {got.stderr}")
        return got.stdout.strip()

    def move_clocks(self, when):
        # The instances' clocks keep running from `when`: remember the offset from ours.
        at = datetime.datetime.fromisoformat(when.replace("Z", "+00:00"))
        self.clock_offset = at - datetime.datetime.now(datetime.timezone.utc)
        for port in self.c.ports.values():
            a = api(port, "PUT", "/dev/clock", body={"now": when})
            if a.status != 200:
                raise RuntimeError(f"clock: {a}")

    def issues(self):
        n = self.size["issues"]
        d1 = self.days[0]
        held = self.booked_day()
        chosen = [r for r in self.movers if held.get(r.application, ("", 0))[0] == d1][:n]
        clerk = self.clerk_session()
        reviews = parallel(lambda r: api(self.lb, "POST", f"/staff/applications/{r.application}/review",
                                         cookie=clerk, body={"decision": "pass"}), chosen)
        self.move_clocks(f"{d1}T02:00:00Z")
        clerk = self.clerk_session()
        todays, after = [], None
        while True:
            page = f"&after={urllib.parse.quote(after)}" if after else ""
            listed = api(self.lb, "GET", f"/staff/appointments?service_point_id={self.point}"
                         f"&date={d1}&limit=200{page}", cookie=clerk)
            body = listed.json()
            if listed.status != 200 or not isinstance(body, dict):
                raise RuntimeError(f"the day's appointments: {listed}")
            todays += body["items"]
            after = body.get("next_after")
            if not after:
                break
        by_app = {x["application_id"]: x["id"] for x in todays}
        checks = parallel(lambda r: api(self.lb, "POST",
                                        f"/staff/appointments/{by_app[r.application]}/check-in",
                                        cookie=clerk, body={}), chosen)
        started = time.monotonic()
        answers = at_once(lambda r: api(self.lb, "POST", f"/staff/applications/{r.application}/issue",
                                        cookie=clerk, body={}), chosen)
        took = time.monotonic() - started
        for r, a in zip(chosen, answers):
            if a.status == 200:
                r.permit = a.json()["id"]
        bad = bad_answers(answers, set())
        rows = self.c.sql("SELECT COUNT(*), COUNT(DISTINCT status_index) FROM permits")[0]
        self.report.check(f"{n} issues at once across both instances: all succeed, one permit each, "
                          "distinct status-list bits",
                          not bad and int(rows[0]) == n and int(rows[1]) == n,
                          f"reviews {counts(reviews)}, check-ins {counts(checks)}; issues in "
                          f"{took:.1f} s: {counts(answers)}; permits {rows[0]}, distinct bits {rows[1]}"
                          + (f"; bad: {bad[:3]}" if bad else ""))
        self.figures["issues"] = (n, counts(answers), f"{took:.1f} s")
        self.holders = [r for r in chosen if r.permit]
        self.clerk = clerk

    # -- signed lists: byte-identical on both, and a scheduled rotation under traffic
    def qr_text(self, port, r):
        path = f"/permits/{r.permit}/qr?presentation=basic&format=text"
        a = api(port, "GET", path, cookie=r.cookie, ip=r.ip)
        if a.status == 401:
            self.people.sign_in(r, port)
            a = api(port, "GET", path, cookie=r.cookie, ip=r.ip)
        if a.status == 403 and a.code() == "step_up_required":
            self.into_wallet(port, r)
            a = api(port, "GET", path, cookie=r.cookie, ip=r.ip)
        return a

    def into_wallet(self, port, r):
        """The holder's step-up (an SMS code to their own phone) puts the permit in the wallet,
        which the QR needs."""
        before = len(self.people.sms_messages(r.phone))
        sent = api(port, "POST", "/sms-codes", cookie=r.cookie, ip=r.ip,
                   body={"phone": r.phone, "purpose": "step_up"})
        if sent.status != 200:
            raise RuntimeError(f"step-up code: {sent}")
        code, _ = self.people.new_code(r.phone, before)
        done = api(port, "POST", f"/permits/{r.permit}/step-up", cookie=r.cookie, ip=r.ip,
                   body={"sms_code": code})
        if done.status != 200:
            raise RuntimeError(f"step-up: {done}")

    def verify(self, port, text):
        ip = f"10.200.{random.randrange(250)}.{random.randrange(1, 250)}"
        return api(port, "POST", "/verifications", body={"qr_text": text}, ip=ip)

    def lists(self):
        a, b = self.c.ports["a"], self.c.ports["b"]
        if not getattr(self, "holders", None):
            self.report.check("lists: permits to revoke and verify", False, "no permit was issued")
            return
        victim = self.holders[0]
        texts = {}
        for name, port in self.c.ports.items():
            q = self.qr_text(port, victim)
            texts[name] = q.body.decode() if q.status == 200 else None
        clerk = self.clerk_session()
        rev = api(a, "POST", f"/staff/permits/{victim.permit}/revoke", cookie=clerk,
                  body={"reason": "cancellation"})
        time.sleep(0.5)
        fetched = {n: api(p, "GET", "/status-list") for n, p in self.c.ports.items()}
        same = fetched["a"].body == fetched["b"].body and fetched["a"].status == 200
        etags = {n: f.headers.get("etag") for n, f in fetched.items()}
        verdicts = {}
        for name, text in texts.items():
            for vname, vport in self.c.ports.items():
                if text:
                    verdicts[f"{name}->{vname}"] = self.verify(vport, text).json().get("verdict")
        self.report.check("a revocation through A shows in the status list served by both, "
                          "byte-identical",
                          rev.status == 200 and same and etags["a"] == etags["b"]
                          and all(v == "revoked" for v in verdicts.values()) and len(verdicts) == 4,
                          f"revoke via A {rev.status} {rev.code() or ''}; status list A "
                          f"{len(fetched['a'].body)} B, B {len(fetched['b'].body)} B, identical "
                          f"{same}, ETags {etags}; verdicts {verdicts}")
        trust = {n: api(p, "GET", "/trust-list") for n, p in self.c.ports.items()}
        self.report.check("the trust list served by both is byte-identical",
                          trust["a"].body == trust["b"].body and trust["a"].status == 200,
                          f"A {len(trust['a'].body)} B (ETag {trust['a'].headers.get('etag')}), "
                          f"B {len(trust['b'].body)} B (ETag {trust['b'].headers.get('etag')})")

    def rotation(self):
        holders = [r for r in getattr(self, "holders", [])[1:4]]
        if not holders:
            self.report.check("rotation: permits to verify", False, "no permit was issued")
            return
        ttl = self.args.ttl
        samples = []  # (t, issued_by, verified_by, kid, verdict)
        kids_seen = []  # (t, instance, kids)
        stop = threading.Event()
        t0 = time.monotonic()

        def traffic():
            k = 0
            while not stop.is_set():
                r = holders[k % len(holders)]
                k += 1
                for name, port in self.c.ports.items():
                    q = self.qr_text(port, r)
                    if q.status != 200:
                        samples.append((time.monotonic() - t0, name, None, None, f"qr {q.status}"))
                        continue
                    text = q.body.decode()
                    kid = credential_kid(text)
                    for vname, vport in self.c.ports.items():
                        v = self.verify(vport, text).json() or {}
                        samples.append((time.monotonic() - t0, name, vname, kid, v.get("verdict")))
                for name, port in self.c.ports.items():
                    kids_seen.append((time.monotonic() - t0, name, trust_kids(port)))
                time.sleep(0.5)

        th = threading.Thread(target=traffic)
        th.start()
        time.sleep(3)
        old_kids = {s[3] for s in samples if s[3]}
        rotated_at = time.monotonic() - t0
        # One trust-list TTL ahead on the instances' clocks (moved to the appointment day).
        offset = getattr(self, "clock_offset", datetime.timedelta(0))
        margin = 2
        activates = (datetime.datetime.now(datetime.timezone.utc) + offset
                     + datetime.timedelta(seconds=ttl + margin))
        out = self.c.cli(["keys", "rotate", "--activate-at",
                          activates.strftime("%Y-%m-%dT%H:%M:%SZ")])
        printed = out.stdout + out.stderr
        kid = re.search(r"\b([0-9a-f]{16})\b", printed)
        when = re.search(r"(\d{4}-\d\d-\d\d[T ]\d\d:\d\d:\d\d(?:\.\d+)?(?:Z|[+-]\d\d:?\d\d)?)", printed)
        new_kid = kid.group(1) if kid else None
        # One trust-list TTL ahead (the instances' clocks were moved to the appointment day, so
        # the printed time is read as that offset from the moment `keys rotate` ran).
        activation = rotated_at + ttl + margin
        time.sleep(max(0.0, activation - (time.monotonic() - t0)) + ttl / 2 + 5)
        stop.set()
        th.join()
        failures = [s for s in samples if s[4] not in ("valid", "valid_endorsement_due")]
        self.report.check("keys rotate prints the new key and its activation time",
                          out.returncode == 0 and bool(new_kid) and bool(when),
                          f"exit {out.returncode}: {printed.strip()[:200]!r}")
        self.report.check("rotation under traffic: every credential from either instance verifies "
                          "on either, before, during and after",
                          not failures and len(samples) > 0,
                          f"{len(samples)} verifications: {dict(Counter(s[4] for s in samples))}"
                          + (f"; first failures {failures[:3]}" if failures else ""))
        after = [s for s in samples if s[0] > activation + 2 and s[3]]
        after_kids = Counter(s[3] for s in after)
        listed_before = all(new_kid in k for t, _, k in kids_seen if activation - 2 < t < activation) \
            if new_kid else False
        self.report.check("after the activation time both instances sign with the new key, which "
                          "both trust lists carried before it",
                          bool(new_kid) and bool(after) and set(after_kids) == {new_kid}
                          and listed_before,
                          f"old kid(s) {sorted(old_kids)}, new kid {new_kid}; kids signing after "
                          f"activation {dict(after_kids)}; new kid listed by both before activation "
                          f"{listed_before}")
        self.figures["rotation"] = (len(samples), dict(Counter(s[4] for s in samples)))

    # -- results
    def write_results(self, path):
        with open(path, "w") as f:
            f.write("# Two instances behind HAProxy: results\n\n")
            f.write(f"Generated by `tests/scale/run.sh` ({self.args.size} run) on "
                    f"{time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())}; {os.cpu_count()} cores, "
                    "permitd (debug build) ×2, HAProxy, PostgreSQL 15, Redis, moto and the client on "
                    "the same machine.\n\n")
            f.write("| check | result | figures |\n| --- | --- | --- |\n")
            for name, ok, detail in self.report.lines:
                f.write(f"| {name} | {'pass' if ok else '**FAIL**'} | "
                        f"{detail.replace('|', '/')} |\n")
            if "faults" in self.figures:
                total, c, rows, end = self.figures["faults"]
                f.write(f"\nFaults under a steady mixed load ({self.size['load_workers']} clients, "
                        f"{total} requests in {end:.0f} s: {c}):\n\n")
                f.write("| fault | answers during it | answers while recovering | /readyz ready "
                        "again after | first booking after |\n| --- | --- | --- | --- | --- |\n")
                for row in rows:
                    f.write("| " + " | ".join(str(x) for x in row) + " |\n")

    def main(self):
        phases = {"cross": self.cross_instance, "moves": self.moves, "surge": self.surge,
                  "faults": self.faults, "issues": self.issues, "lists": self.lists,
                  "rotation": self.rotation}
        want = self.args.only.split(",") if self.args.only else list(phases)
        # What a later phase needs from an earlier one.
        needs = {"surge": ["moves"], "faults": ["moves", "surge"], "issues": ["moves"],
                 "lists": ["moves", "issues"], "rotation": ["moves", "issues"]}
        order = []
        for p in want:
            for dep in needs.get(p, []) + [p]:
                if dep not in order:
                    order.append(dep)
        order.sort(key=list(phases).index)
        try:
            self.setup()
            for p in order:
                print(f"== {p}", flush=True)
                try:
                    phases[p]()
                except Exception as e:  # a phase that cannot go on is a broken promise
                    self.report.check(f"{p} ran to the end", False, f"{type(e).__name__}: {e}")
        finally:
            self.c.stop_all()
        for n in ("a", "b"):
            logtext = open(os.path.join(self.work, f"permitd-{n}.log")).read()
            panics = logtext.count("panicked")
            self.report.check(f"no panic in the log of instance {n.upper()}", panics == 0,
                              f"{panics} panics, {logtext.count(' ERROR ')} ERROR lines")
        if self.args.results:
            self.write_results(self.args.results)
            print(f"results written to {self.args.results}")
        print(f"scale: {len(self.report.lines) - self.report.failed} passed, "
              f"{self.report.failed} failed (logs in {self.work})")
        return 1 if self.report.failed else 0


if __name__ == "__main__":
    p = argparse.ArgumentParser()
    p.add_argument("permitd")
    p.add_argument("--size", choices=list(SIZES), default="short")
    p.add_argument("--only", help="comma-separated phases: cross,moves,surge,faults,issues,lists,rotation")
    p.add_argument("--ttl", type=int, default=20, help="PERMIT_TRUST_LIST_TTL_SECS of the instances")
    p.add_argument("--results", help="write the results table here")
    sys.exit(Run(p.parse_args()).main())
