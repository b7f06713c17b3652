"""Start and talk to campaignfs-sim from Python tests (standard library only).

The simulator binary is taken from the CAMPAIGNFS_SIM environment variable
(meson sets it for the sim and mount test suites).

Stable API::

    with Sim("--latency-ms", "5", seed=7) as sim:
        sim.port          # int, the port the simulator bound
        sim.base          # "http://127.0.0.1:PORT"
        sim.config_path   # path of the campaignfs config it wrote (--config-out)
        sim.config_text   # that file's text
        sim.creds         # {"altur": {"provider": ..., "url": ..., "api_key": ...,
                          #   "rate_limit": ...}, ..., "koreai": {"stream_id": ...,
                          #   "account_id": ..., "client_id": ..., "client_secret": ...}}
        sim.prefix(p)     # the provider's path prefix ("/api/v1.0", ...)
        status, headers, body = sim.request("altur", "GET", "/campaigns",
                                            query={"pageSize": 10})
        data = sim.json("truedy", "GET", "/batch-calls")        # asserts 2xx
        sim.stats(); sim.reset_stats(); sim.advance(5); sim.dump("burki")
        sim.set_faults("5xx=1", after=3)  # also retry_after=N (seconds, for 429 faults)
        sim.hold("pageIndex=3", count=1)  # {"hold": "pageIndex=3", "count": 1}
        sim.release()                     # {"released": n}; release("pageIndex=3")
        sim.requests(since=0)  # {"requests": [{"seq", "t_ms", "done_ms", "provider",
                               #   "method", "path", "status", "fault", "override", "key",
                               #   "retry_after", "reset_at", "not_before_ms"}, ...],
                               #  "next": N, "oldest": N}
        sim.key_of("altur")    # the "key" its log entries carry for the sim's credential
        sim.override("pageIndex=3", status=503, body=b"...", count=1)  # hostile answers
        sim.clear_overrides()  # {"cleared": n}
        sim.restart()          # stop, then start again on the same port (an outage)
        status, headers, body = sim.raw("GET", "/_sim/dump?provider=altur")
        sim.auth_headers("koreai")  # the headers request() adds for a provider
        sim.stderr_text() # what the simulator wrote to stderr so far (stdout_text too)
        sim.proc          # the subprocess.Popen; sim.stop() ends it, cleanup() also
                          # removes its temporary directory
    sim.problems()        # after stop: ["exited with status N", sanitizer reports]
    # leaving the block (normally or by an exception) stops the simulator

Sim(*extra_args, seed=1, start=True, timeout=20, port=0, tls_cert=None,
tls_key=None, tls_ca=None): extra_args are appended to ``--listen
127.0.0.1:<port> --port-file <tmp> --config-out <tmp> --seed <seed>`` (and
``--tls-cert <tls_cert> --tls-key <tls_key>`` when given: the simulator
serves HTTPS, sim.base and the config's urls are https://..., and the
helpers' own requests verify the server against tls_ca, or against
tls_cert itself when no CA is given).  make_tls_files(directory) makes a
throwaway CA and a certificate for 127.0.0.1 with the openssl command.

restart(downtime=0): stops the simulator (SIGTERM), waits downtime seconds
and starts a new one with the same arguments on the same port: the same
credentials and data as a fresh start (advances, stats, overrides, holds,
faults set at run time and the request log are gone).  stop() then start()
does the same without keeping the port.

requests(since=0, limit=None): GET /_sim/requests, the request log (every
API request, never /_sim/ ones, in arrival order, the last 100000 kept).
t_ms and done_ms are CLOCK_MONOTONIC milliseconds, the clock of
time.monotonic() (so time.monotonic() * 1000 compares with them); done_ms,
status and the rest are null while a request is still being answered (ask
again with since at or below its seq); status is null too for a hung
request that was let go without an answer.  fault is the fault actually
served (a name as in --faults) or null; key is sim.key_of(provider) when the
request carried the simulator's credential (8 hex digits of SHA-256 of the
API key; Kore.ai: of the accountId); retry_after is the Retry-After header
sent (seconds) or null, reset_at the Unix time a Truedy 429 body names, and
not_before_ms the monotonic time the answer asks the client to wait for
(done_ms + retry_after s, or the reset_at moment).  Pass the answer's
"next" as since to get only newer requests.

override(match, count=None, status=None, body=None, body_file=None,
content_type=None, encoding=None, headers=None, hang=False, redirect=None):
from now on the next `count` (None: all, until clear_overrides()) API
requests whose path and query (with the provider's prefix, as sent) contain
`match` are answered with `status` (default 200, 302 with a redirect) and
the raw bytes of `body` (bytes or str; put in a file and passed as
body_file) or of the file `body_file`, sent as they are, with Content-Type
`content_type` (default application/json for a non-empty body; "" for
none), Content-Encoding `encoding` (e.g. "gzip": give gzip'd bytes), extra
`headers` ({"Name": "Value"} or ["Name: Value", ...]); `redirect=URL` sends
Location: URL, where {port} is the simulator's port and {path} the request's
path and query; `hang=True` sends no answer at all until the rule is
cleared (then the connection closes), the client goes away or the
simulator stops.  Overrides come before authentication, rate limits and
faults; the first rule that matches (in the order added) answers.  Returns
the rule as the simulator read it ({"id", "match", "count", "status",
"hang", "redirect", "body_bytes", "content_type", "headers"}).
clear_overrides(match=None) removes all rules (or those added with exactly
that match text) and ends their hangs: {"cleared": n}.

request(provider, method, path, query=None, body=None, headers=None,
auth=True, raw_path=False) returns (status, headers, body_bytes); headers is
an http.client.HTTPMessage (case-insensitive get()).  path is relative to the
provider's prefix: "/campaigns" (Altur, Burki), "/batch-calls" (Truedy),
"/campaign/getAllCampaignDetails" (Kore.ai: the "/{streamId}" part is added).
With raw_path=True, path is used as is (e.g. "/api/v1/campaigns" or a
"/_sim/..." path).  body: bytes, str, or any JSON value (then sent as JSON).
auth=True adds the provider's credentials: "Authorization: api-key K"
(Altur), "Authorization: Bearer K" (Burki, Truedy), and for Kore.ai an HS256
JWT (claims sub, appId) in "auth" plus "iid" and "accountId" headers; the
headers argument is applied last and may override or (value None) remove any.

koreai_token(secret=None, app_id=None, claims=None) builds a Kore.ai JWT
(defaults: the simulator's secret and client id) for tests of bad tokens.

raw(method, path, body=None, headers=None) sends one request as is (no
prefix, no auth) and returns (status, headers, body_bytes); stats(),
reset_stats(), advance(n), dump(provider), set_faults(spec, after=0),
hold(match, count=None) and release(match=None) call the /_sim/ endpoints
and return their decoded JSON (asserting 200).

hold(match, count=None): from now on, API requests whose text "METHOD
/path?query" (the path with the provider's prefix and the query exactly as
sent; for a request with a body, a space and the body follow, so a Kore.ai
page can be matched by '"page": 2') contains match are not answered until
released; count=K holds only the next K such requests.  Held requests count
as in flight and in stats()["held"].  release(match=None) lets every held
request be answered normally (faults and latency as usual) and removes the
hold rules; with match, only the rules added with that exact match text and
the requests they hold.  A held request goes on by itself after 120 s or
when the simulator stops.  Send the held request from a thread.

Helpers: read_config(text) parses a campaignfs INI into {section: {k: v}};
hs256_jwt(claims, secret) signs a JWT; sim_binary() is $CAMPAIGNFS_SIM.
"""

import base64
import hashlib
import hmac
import http.client
import json
import os
import shutil
import ssl
import subprocess
import tempfile
import time
import urllib.parse

PREFIXES = {
    "altur": "/api/v1.0",
    "burki": "/api/v1",
    "truedy": "/api/public/v1",
    "koreai": "/campaign/api/v2/public",
}

PROVIDERS = tuple(PREFIXES)


def sim_binary():
    """The simulator's path from $CAMPAIGNFS_SIM."""
    path = os.environ.get("CAMPAIGNFS_SIM")
    if not path:
        raise RuntimeError("CAMPAIGNFS_SIM is not set (run the tests through meson test)")
    return path


def read_config(text):
    """Parses a campaignfs INI text into {section: {key: value}}."""
    sections, cur = {}, None
    for line in text.splitlines():
        line = line.strip()
        if not line or line.startswith(("#", ";")):
            continue
        if line.startswith("[") and line.endswith("]"):
            cur = sections.setdefault(line[1:-1], {})
        elif "=" in line and cur is not None:
            key, value = line.split("=", 1)
            cur[key.strip()] = value.strip()
    return sections


def _b64url(data):
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def hs256_jwt(claims, secret):
    """An HS256 JWT for claims (a dict) signed with secret (str)."""
    header = _b64url(json.dumps({"alg": "HS256", "typ": "JWT"}, separators=(",", ":")).encode())
    payload = _b64url(json.dumps(claims, separators=(",", ":")).encode())
    signing = f"{header}.{payload}".encode()
    sig = hmac.new(secret.encode(), signing, hashlib.sha256).digest()
    return f"{header}.{payload}.{_b64url(sig)}"


def make_tls_files(directory, ip="127.0.0.1", days=2):
    """A throwaway CA and a server certificate for `ip` (an IP SAN), made
    with the openssl command in `directory`: {"ca": ca.pem, "cert":
    cert.pem, "key": key.pem} (paths; key.pem is the server's key)."""
    d = str(directory)
    paths = {n: os.path.join(d, f"{n}.pem") for n in ("ca", "ca-key", "cert", "key", "csr")}
    ext = os.path.join(d, "server.ext")
    with open(ext, "w") as f:
        f.write(f"subjectAltName=IP:{ip}\nbasicConstraints=critical,CA:FALSE\n"
                "keyUsage=critical,digitalSignature,keyEncipherment\n"
                "extendedKeyUsage=serverAuth\n")
    ec = ["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes"]
    run = [
        ["openssl", "req", "-x509", *ec, "-keyout", paths["ca-key"], "-out", paths["ca"],
         "-days", str(days), "-subj", "/CN=campaignfs test CA",
         "-addext", "basicConstraints=critical,CA:TRUE",
         "-addext", "keyUsage=critical,keyCertSign,cRLSign"],
        ["openssl", "req", "-new", *ec, "-keyout", paths["key"], "-out", paths["csr"],
         "-subj", f"/CN={ip}"],
        ["openssl", "x509", "-req", "-in", paths["csr"], "-CA", paths["ca"],
         "-CAkey", paths["ca-key"], "-CAcreateserial", "-out", paths["cert"],
         "-days", str(days), "-extfile", ext],
    ]
    for argv in run:
        r = subprocess.run(argv, capture_output=True, text=True)
        if r.returncode:
            raise RuntimeError(f"{' '.join(argv[:3])}: {r.stderr.strip()}")
    return {"ca": paths["ca"], "cert": paths["cert"], "key": paths["key"]}


class Sim:
    """A running campaignfs-sim (see the module docstring)."""

    def __init__(self, *extra_args, seed=1, start=True, timeout=20, port=0, tls_cert=None,
                 tls_key=None, tls_ca=None):
        self.extra_args = [str(a) for a in extra_args]
        self.seed = seed
        self.timeout = timeout
        self.listen_port = int(port)
        self.tls_cert, self.tls_key, self.tls_ca = tls_cert, tls_key, tls_ca
        self.scheme = "https" if tls_cert else "http"
        self.proc = None
        self.runs = 0
        self.returncode = None
        self.final_stderr = ""
        self.port = None
        self.base = None
        self.config_text = None
        self.creds = {}
        self._dir = tempfile.mkdtemp(prefix="campaignfs-sim-")
        self._bodies = 0
        self.port_file = os.path.join(self._dir, "port")
        self.config_path = os.path.join(self._dir, "campaignfs.conf")
        self._stdout = self._stderr = None
        if start:
            try:
                self.start()
            except BaseException:
                self.cleanup()
                raise

    # ---- lifecycle ----

    def argv(self):
        tls = ["--tls-cert", str(self.tls_cert), "--tls-key", str(self.tls_key)] \
            if self.tls_cert else []
        return [sim_binary(), "--listen", f"127.0.0.1:{self.listen_port}",
                "--port-file", self.port_file, "--config-out", self.config_path,
                "--seed", str(self.seed)] + tls + self.extra_args

    def start(self):
        """Starts the simulator (again, after stop(): its output is appended)."""
        for path in (self.port_file, self.config_path):
            if os.path.exists(path):
                os.unlink(path)
        mode = "ab" if self.runs else "wb"
        self._stdout = open(os.path.join(self._dir, "stdout"), mode)
        self._stderr = open(os.path.join(self._dir, "stderr"), mode)
        self.runs += 1
        self.returncode = None
        self.proc = subprocess.Popen(self.argv(), stdout=self._stdout, stderr=self._stderr,
                                     stdin=subprocess.DEVNULL)
        deadline = time.monotonic() + self.timeout
        while not os.path.exists(self.port_file):
            if self.proc.poll() is not None:
                raise RuntimeError(f"campaignfs-sim exited with {self.proc.returncode}: "
                                   f"{self.stderr_text()}")
            if time.monotonic() > deadline:
                raise RuntimeError(f"campaignfs-sim did not listen within {self.timeout}s: "
                                   f"{self.stderr_text()}")
            time.sleep(0.02)
        with open(self.port_file) as f:
            self.port = int(f.read().strip())
        while not os.path.exists(self.config_path) and self.proc.poll() is None:
            time.sleep(0.01)
        with open(self.config_path, encoding="utf-8") as f:
            self.config_text = f.read()
        self.creds = read_config(self.config_text)
        self.base = f"{self.scheme}://127.0.0.1:{self.port}"

    def restart(self, downtime=0.0):
        """Stops the simulator and starts it again on the same port after
        `downtime` seconds (a provider outage)."""
        port = self.port
        self.stop()
        if downtime:
            time.sleep(downtime)
        self.listen_port = port
        self.start()

    def stop(self):
        """Terminates the simulator (SIGTERM; SIGKILL after 10 s).  Afterwards
        returncode and final_stderr are set and problems() can be asked."""
        if self.proc and self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        if self._stderr and not self._stderr.closed:
            self.final_stderr = self.stderr_text()
        for f in (self._stdout, self._stderr):
            if f and not f.closed:
                f.close()
        self.returncode = self.proc.returncode if self.proc else None

    SANITIZER_MARKERS = ("ERROR: AddressSanitizer", "ERROR: LeakSanitizer", "runtime error:",
                         "ThreadSanitizer", "SUMMARY: ")

    def problems(self):
        """After stop(): what went wrong with the process itself (an exit
        status other than 0, sanitizer reports), as a list of strings."""
        out = []
        if self.proc is not None and self.returncode not in (0, None):
            out.append(f"campaignfs-sim exited with status {self.returncode}")
        text = getattr(self, "final_stderr", "")
        if any(m in text for m in self.SANITIZER_MARKERS):
            out.append("sanitizer report:\n" + text[-4000:])
        return out

    def cleanup(self):
        self.stop()
        shutil.rmtree(self._dir, ignore_errors=True)

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.cleanup()
        return False

    def stderr_text(self):
        self._stderr.flush()
        with open(os.path.join(self._dir, "stderr"), "rb") as f:
            return f.read().decode("utf-8", "replace")

    def stdout_text(self):
        self._stdout.flush()
        with open(os.path.join(self._dir, "stdout"), "rb") as f:
            return f.read().decode("utf-8", "replace")

    # ---- HTTP ----

    def prefix(self, provider):
        if provider == "koreai":
            return f"{PREFIXES['koreai']}/{self.creds['koreai']['stream_id']}"
        return PREFIXES[provider]

    def koreai_token(self, secret=None, app_id=None, claims=None):
        k = self.creds["koreai"]
        payload = {"sub": "campaignfs-tests",
                   "appId": k["client_id"] if app_id is None else app_id}
        if claims:
            payload.update(claims)
        return hs256_jwt(payload, k["client_secret"] if secret is None else secret)

    def auth_headers(self, provider):
        c = self.creds[provider]
        if provider == "altur":
            return {"Authorization": f"api-key {c['api_key']}"}
        if provider in ("burki", "truedy"):
            return {"Authorization": f"Bearer {c['api_key']}"}
        return {"auth": self.koreai_token(), "iid": c["stream_id"], "accountId": c["account_id"]}

    def ssl_context(self):
        """The TLS context the helpers use: trusts tls_ca (or tls_cert)."""
        ctx = ssl.create_default_context(cafile=self.tls_ca or self.tls_cert)
        if not self.tls_ca:
            ctx.verify_flags |= ssl.VERIFY_X509_PARTIAL_CHAIN  # the leaf as its own anchor
        return ctx

    def connection(self, timeout=30):
        """A new http.client connection to the simulator (HTTPS if it serves it)."""
        if self.tls_cert:
            return http.client.HTTPSConnection("127.0.0.1", self.port, timeout=timeout,
                                               context=self.ssl_context())
        return http.client.HTTPConnection("127.0.0.1", self.port, timeout=timeout)

    def raw(self, method, path, body=None, headers=None, timeout=30):
        """One HTTP request on a fresh connection: (status, headers, bytes)."""
        conn = self.connection(timeout)
        try:
            conn.request(method, path, body=body, headers=headers or {})
            resp = conn.getresponse()
            return resp.status, resp.headers, resp.read()
        finally:
            conn.close()

    def url_path(self, provider, path, query=None, raw_path=False):
        full = path if raw_path else self.prefix(provider) + path
        if query:
            full += "?" + urllib.parse.urlencode(query)
        return full

    def request(self, provider, method, path, query=None, body=None, headers=None, auth=True,
                raw_path=False):
        hdrs = self.auth_headers(provider) if auth else {}
        if body is not None and not isinstance(body, (bytes, str)):
            body = json.dumps(body)
            hdrs["Content-Type"] = "application/json"
        if isinstance(body, str):
            body = body.encode()
        for k, v in (headers or {}).items():
            hdrs = {hk: hv for hk, hv in hdrs.items() if hk.lower() != k.lower()}
            if v is not None:
                hdrs[k] = v
        return self.raw(method, self.url_path(provider, path, query, raw_path), body, hdrs)

    def json(self, provider, method, path, **kw):
        """request() that expects a 2xx JSON answer and returns it decoded."""
        status, _, body = self.request(provider, method, path, **kw)
        assert 200 <= status < 300, f"{method} {path}: {status} {body[:300]!r}"
        return json.loads(body)

    # ---- control ----

    def control(self, method, path):
        status, _, body = self.raw(method, path)
        assert status == 200, f"{method} {path}: {status} {body[:300]!r}"
        return json.loads(body)

    def stats(self):
        return self.control("GET", "/_sim/stats")

    def reset_stats(self):
        return self.control("POST", "/_sim/reset-stats")

    def advance(self, n=1):
        return self.control("POST", f"/_sim/advance?n={int(n)}")

    def dump(self, provider):
        return self.control("GET", f"/_sim/dump?provider={provider}")

    def set_faults(self, spec, after=0, retry_after=None):
        """Faults `spec` ("" = none) from the API request after the next
        `after`; a 429 fault asks to wait `retry_after` seconds (default: the
        --retry-after value, 1 unless given)."""
        q = {"spec": spec, "after": int(after)}
        if retry_after is not None:
            q["retry_after"] = int(retry_after)
        return self.control("POST", f"/_sim/faults?{urllib.parse.urlencode(q)}")

    def requests(self, since=0, limit=None):
        """The request log from entry `since` on (see the module docstring)."""
        q = {"since": int(since)}
        if limit is not None:
            q["limit"] = int(limit)
        return self.control("GET", f"/_sim/requests?{urllib.parse.urlencode(q)}")

    def key_of(self, provider):
        """The request log's "key" for the simulator's credential of provider."""
        c = self.creds[provider]
        secret = c["account_id"] if provider == "koreai" else c["api_key"]
        return hashlib.sha256(secret.encode()).hexdigest()[:8]

    def override(self, match, count=None, status=None, body=None, body_file=None,
                 content_type=None, encoding=None, headers=None, hang=False, redirect=None):
        """Answers matching API requests as told (see the module docstring)."""
        q = [("match", match)]
        if body is not None:
            self._bodies += 1
            body_file = os.path.join(self._dir, f"override-{self._bodies}.body")
            with open(body_file, "wb") as f:
                f.write(body.encode() if isinstance(body, str) else body)
        if isinstance(headers, dict):
            headers = [f"{k}: {v}" for k, v in headers.items()]
        for name, value in (("count", count), ("status", status), ("body_file", body_file),
                            ("content_type", content_type), ("encoding", encoding),
                            ("redirect", redirect)):
            if value is not None:
                q.append((name, str(value)))
        q += [("header", h) for h in headers or ()]
        if hang:
            q.append(("hang", "1"))
        return self.control("POST", "/_sim/override?" + _query(q))

    def clear_overrides(self, match=None):
        """Removes the override rules (only those added with `match`, if
        given) and ends the hangs they cause: {"cleared": n}."""
        return self.control("POST", "/_sim/override/clear" + ("" if match is None else
                                                              "?" + _query({"match": match})))

    def hold(self, match, count=None):
        """Holds the next `count` (None: all) API requests whose "METHOD
        /path?query[ body]" contains `match`: {"hold": match, "count": count}."""
        q = {"match": match}
        if count is not None:
            q["count"] = int(count)
        return self.control("POST", "/_sim/hold?" + _query(q))

    def release(self, match=None):
        """Answers the held requests (only those of the rules added with
        `match`, if given) and removes the rules: {"released": n}."""
        return self.control("POST", "/_sim/release" + ("" if match is None else
                                                       "?" + _query({"match": match})))


def _query(params):
    """A query string with spaces as %20 (not +), for texts such as '"page": 2'."""
    return urllib.parse.urlencode(params, quote_via=urllib.parse.quote)
