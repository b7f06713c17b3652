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
        sim.set_faults("5xx=1", after=3)
        sim.hold("pageIndex=3", count=1)  # {"hold": "pageIndex=3", "count": 1}
        sim.release()                     # {"released": n}; release("pageIndex=3")
        status, headers, body = sim.raw("GET", "/_sim/dump?provider=altur")
        sim.auth_headers("koreai")  # the headers request() adds for a provider
        sim.stderr_text() # what the simulator wrote to stderr so far (stdout_text too)
        sim.proc          # the subprocess.Popen; sim.stop() ends it, cleanup() also
                          # removes its temporary directory
    sim.problems()        # after stop: ["exited with status N", sanitizer reports]
    # leaving the block (normally or by an exception) stops the simulator

Sim(*extra_args, seed=1, start=True, timeout=20): extra_args are appended to
``--listen 127.0.0.1:0 --port-file <tmp> --config-out <tmp> --seed <seed>``.

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


class Sim:
    """A running campaignfs-sim (see the module docstring)."""

    def __init__(self, *extra_args, seed=1, start=True, timeout=20):
        self.extra_args = [str(a) for a in extra_args]
        self.seed = seed
        self.timeout = timeout
        self.proc = None
        self.returncode = None
        self.final_stderr = ""
        self.port = None
        self.base = None
        self.config_text = None
        self.creds = {}
        self._dir = tempfile.mkdtemp(prefix="campaignfs-sim-")
        self.port_file = os.path.join(self._dir, "port")
        self.config_path = os.path.join(self._dir, "campaignfs.conf")
        self._stdout = open(os.path.join(self._dir, "stdout"), "wb")
        self._stderr = open(os.path.join(self._dir, "stderr"), "wb")
        if start:
            try:
                self.start()
            except BaseException:
                self.cleanup()
                raise

    # ---- lifecycle ----

    def argv(self):
        return [sim_binary(), "--listen", "127.0.0.1:0", "--port-file", self.port_file,
                "--config-out", self.config_path, "--seed", str(self.seed)] + self.extra_args

    def start(self):
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
        self.base = f"http://127.0.0.1:{self.port}"

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
        if not self._stderr.closed:
            self.final_stderr = self.stderr_text()
        for f in (self._stdout, self._stderr):
            if not f.closed:
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

    def raw(self, method, path, body=None, headers=None, timeout=30):
        """One HTTP request on a fresh connection: (status, headers, bytes)."""
        conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=timeout)
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

    def set_faults(self, spec, after=0):
        """Faults `spec` ("" = none) from the API request after the next `after`."""
        q = urllib.parse.urlencode({"spec": spec, "after": int(after)})
        return self.control("POST", f"/_sim/faults?{q}")

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
