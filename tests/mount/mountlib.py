"""Mounting campaignfs for tests: start it in the foreground on a temporary
directory, wait until the kernel shows the mount, and always unmount and stop
it afterwards (fusermount3 -u, then a lazy unmount as a last resort).

Also the expectations that the tests derive from the simulator's ground
truth (/_sim/dump): file names, paths and record bytes.
"""
import glob
import json
import os
import shutil
import signal
import subprocess
import tempfile
import time

import pytest

CAMPAIGNFS = os.environ.get("CAMPAIGNFS", "campaignfs")


def is_mounted(path):
    with open("/proc/mounts") as f:
        return any(line.split()[1] == path and line.split()[2] == "fuse.campaignfs" for line in f)


class Mount:
    """campaignfs on a fresh temporary directory; a context manager.

    cache_dir: the on-disk cache (-o cache_dir=...).  None (the default): a
    fresh temporary directory of this Mount's own, removed in stop(), so no
    test touches ~/.cache or sees another's data; a test that remounts
    passes the same directory to both mounts (and removes it itself).
    "none": -o cache_dir=none (no disk cache).  False: no cache_dir option at
    all (the default location, from $XDG_CACHE_HOME or ~/.cache)."""

    def __init__(self, config_path, ttl=600, extra=(), log_errors=False, cache_dir=None):
        self.dir = tempfile.mkdtemp(prefix="cfs-mnt-")
        self.log_path = os.path.join(tempfile.mkdtemp(prefix="cfs-log-"), "campaignfs.log")
        self.config_path = config_path
        self.own_cache_dir = cache_dir is None
        self.cache_dir = tempfile.mkdtemp(prefix="cfs-cache-") if cache_dir is None else cache_dir
        opts = "config=%s,ttl=%d" % (config_path, ttl)
        if self.cache_dir is not False:
            opts += ",cache_dir=%s" % self.cache_dir
        self.args = [CAMPAIGNFS, "-f", "-o", opts, *extra, self.dir]
        self.proc = None
        self.log_errors = log_errors  # whether "error:"/"warning:" lines are expected

    def start(self):
        self.log = open(self.log_path, "w")
        self.proc = subprocess.Popen(self.args, stdout=self.log, stderr=subprocess.STDOUT)
        deadline = time.time() + 20
        while time.time() < deadline:
            if is_mounted(self.dir):
                return self
            if self.proc.poll() is not None:
                break
            time.sleep(0.05)
        out = self.stderr()
        self.stop()
        raise RuntimeError("campaignfs did not mount (exit %s): %s" % (self.proc.returncode, out))

    def stderr(self):
        with open(self.log_path, errors="replace") as f:
            return f.read()

    def path(self, *parts):
        return os.path.join(self.dir, *parts)

    def db_paths(self):
        """The database files in the cache directory (DIR/*.db)."""
        if self.cache_dir in (False, "none"):
            return []
        return sorted(glob.glob(os.path.join(glob.escape(self.cache_dir), "*.db")))

    def stop(self):
        if is_mounted(self.dir):
            if subprocess.run(["fusermount3", "-u", self.dir], capture_output=True).returncode:
                subprocess.run(["fusermount3", "-uz", self.dir], capture_output=True)
        if self.proc and self.proc.poll() is None:
            try:
                self.proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.proc.send_signal(signal.SIGKILL)
                self.proc.wait()
        if hasattr(self, "log"):
            self.log.close()
        try:
            os.rmdir(self.dir)
        except OSError:
            pass
        if self.own_cache_dir:
            shutil.rmtree(self.cache_dir, ignore_errors=True)

    def __enter__(self):
        return self.start()

    def check_log(self):
        """Fails on a sanitizer report, an exit status other than 0 (a
        sanitizer's, at exit, for a leak), and on an error or warning nobody
        expected.  (tests/mount/conftest.py sends the reports of a sanitizer
        build to files of their own, and fails the test on them.)"""
        log = self.stderr()
        for marker in ("Sanitizer", "runtime error:"):
            assert marker not in log, "campaignfs under a sanitizer:\n" + log
        assert self.proc.returncode == 0, "campaignfs exited with status %s:\n%s" % (
            self.proc.returncode, log)
        if not self.log_errors:
            for word in ("error:", "warning:"):
                assert word not in log, "campaignfs logged %s\n%s" % (word, log)

    def __exit__(self, *exc):
        self.stop()
        if exc[0] is None:
            self.check_log()
        return False


@pytest.fixture(autouse=True)
def cache_home_in_tmp(monkeypatch):
    """For test files that start campaignfs without Mount (import this
    name): $XDG_CACHE_HOME is a temporary directory for each test, so their
    daemons keep their disk cache out of the real ~/.cache."""
    d = tempfile.mkdtemp(prefix="cfs-xdg-cache-")
    monkeypatch.setenv("XDG_CACHE_HOME", d)
    yield d
    shutil.rmtree(d, ignore_errors=True)


def wait_quiet(sim, quiet=1.0, limit=60):
    """Waits until the simulator has answered no API request for `quiet`
    seconds (background refreshes are over); returns its stats."""
    deadline = time.time() + limit
    last = sim.stats()["total_requests"]
    since = time.time()
    while time.time() < deadline:
        time.sleep(0.1)
        now = sim.stats()["total_requests"]
        if now != last:
            last, since = now, time.time()
        elif time.time() - since >= quiet:
            return sim.stats()
    raise AssertionError("the simulator kept answering requests for %d s" % limit)


def wait_for(predicate, limit=30, what="a condition"):
    """Polls predicate() until it is true (bounded)."""
    deadline = time.time() + limit
    while time.time() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(0.05)
    raise AssertionError("timed out after %d s waiting for %s" % (limit, what))


# ---- expectations from the simulator's ground truth ----

ID_FIELDS = {
    ("altur", "contacts"): ["id", "f_id"],
    ("altur", "calls"): ["id"],
    ("burki", "contacts"): ["id"],
    ("burki", "calls"): ["execution_id", "id"],
    ("truedy", "contacts"): ["contact_id", "id"],
    ("truedy", "calls"): ["id"],
}


def safe_name(raw, suffix=".json"):
    """The documented naming rule (man campaignfs(1), NAMES)."""
    if raw == "":
        return "%empty" + suffix
    out = []
    for i, ch in enumerate(raw):
        if ch in "%/" or ord(ch) < 0x20 or ord(ch) == 0x7F or (i == 0 and ch == "."):
            out.append("".join("%%%02X" % b for b in ch.encode()))
        else:
            out.append(ch)
    return "".join(out) + suffix


def text_id(value):
    return value if isinstance(value, str) else json.dumps(value)


def record_id(provider, kind, rec):
    for field in ID_FIELDS[(provider, kind)]:
        v = rec.get(field)
        if v not in (None, ""):
            return text_id(v)
    raise AssertionError("record without id: %r" % rec)


def koreai_names(contacts):
    names, used = [], set()
    for rec in contacts:
        stem = rec["phoneNumber"] + ("-" + rec["uniqueId"] if rec.get("uniqueId") else "")
        name = safe_name(stem)
        k = 2
        while name in used:
            name = safe_name(stem, "~%d.json" % k)
            k += 1
        used.add(name)
        names.append(name)
    return names


# the one-file views of a campaign (man campaignfs, Views): Truedy's calls are
# fetched one by one, so no view of them; Kore.ai has no calls
VIEWS = {
    "altur": ["calls.ndjson", "contacts.csv", "contacts.ndjson"],
    "burki": ["calls.ndjson", "contacts.csv", "contacts.ndjson"],
    "truedy": ["contacts.csv", "contacts.ndjson"],
    "koreai": ["contacts.csv", "contacts.ndjson"],
}
VIEW_NAMES = {"calls.ndjson", "contacts.csv", "contacts.ndjson"}


def is_view(path):
    """Whether path (relative or not) is a campaign's view file."""
    parts = os.path.normpath(path).split(os.sep)
    return len(parts) >= 3 and parts[-1] in VIEW_NAMES and parts[-3] == "campaigns"


def view_paths(provider, dump):
    """The views of the account, relative to it."""
    return [os.path.join("campaigns", safe_name(c["id"], ""), v)
            for c in dump["campaigns"] for v in VIEWS[provider]]


def views_of(rel):
    """The views a change of the record at rel (relative to an account, or
    to the mount with the account first) changes too."""
    parts = os.path.normpath(rel).split(os.sep)
    if len(parts) < 2 or parts[-2] not in ("contacts", "calls"):
        return []
    camp = os.sep.join(parts[:-2])
    names = ["contacts.ndjson", "contacts.csv"] if parts[-2] == "contacts" else ["calls.ndjson"]
    return [os.path.join(camp, n) for n in names]


def expected_paths(provider, dump):
    """{relative path under the account: where its record is in the dump}
    for every file of the account; a location is a tuple of keys/indexes."""
    files = {}
    for i, c in enumerate(dump["campaigns"]):
        base = os.path.join("campaigns", safe_name(c["id"], ""))
        files[os.path.join(base, "campaign.json")] = ("campaigns", i, "detail")
        if provider == "koreai":
            names = koreai_names(c["contacts"])
        else:
            names = [safe_name(record_id(provider, "contacts", r)) for r in c["contacts"]]
        for j, name in enumerate(names):
            files[os.path.join(base, "contacts", name)] = ("campaigns", i, "contacts", j)
        if provider != "koreai":
            for j, rec in enumerate(c["calls"]):
                name = safe_name(record_id(provider, "calls", rec))
                files[os.path.join(base, "calls", name)] = ("campaigns", i, "calls", j)
    return files


def at(doc, location):
    for key in location:
        doc = doc[key] if not isinstance(doc, Obj) else dict(doc)[key]
    return doc


def expected_files(provider, dump):
    """{relative path under the account: record} for every file of the account."""
    return {rel: at(dump, loc) for rel, loc in expected_paths(provider, dump).items()}


# ---- the exact bytes: objects keep their key order, numbers their text ----

class Obj(list):
    """A JSON object as its (key, value) pairs, in order."""


class Num(str):
    """A JSON number as the text it was written with."""


def load_exact(text):
    return json.loads(text, object_pairs_hook=Obj, parse_float=Num, parse_int=Num)


def render_exact(v, level=0):
    """The documented file format: two-space indent, "key": value, empty
    containers as {} and [], strings with UTF-8 and '/' as is."""
    pad, inner = "  " * level, "  " * (level + 1)
    if isinstance(v, Obj):
        if not v:
            return "{}"
        return "{\n" + ",\n".join(inner + json.dumps(k, ensure_ascii=False) + ": " +
                                  render_exact(x, level + 1) for k, x in v) + "\n" + pad + "}"
    if isinstance(v, list):
        if not v:
            return "[]"
        return "[\n" + ",\n".join(inner + render_exact(x, level + 1) for x in v) + "\n" + pad + "]"
    if isinstance(v, Num):
        return str(v)
    return json.dumps(v, ensure_ascii=False)


def expected_bytes(provider, dump, raw_dump_text):
    """{relative path: the exact bytes of the file}."""
    exact = load_exact(raw_dump_text)
    return {rel: (render_exact(at(exact, loc)) + "\n").encode()
            for rel, loc in expected_paths(provider, dump).items()}


def load_pairs(text):
    """JSON with object keys kept in order, as lists of pairs."""
    return json.loads(text, object_pairs_hook=list)


def pairs(rec):
    return load_pairs(json.dumps(rec))
