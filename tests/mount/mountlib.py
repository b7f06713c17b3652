"""Mounting campaignfs for tests: start it in the foreground on a temporary
directory, wait until the kernel shows the mount, and always unmount and stop
it afterwards (fusermount3 -u, then a lazy unmount as a last resort).

Also the expectations that the tests derive from the simulator's ground
truth (/_sim/dump): file names, paths and record bytes.
"""
import json
import os
import signal
import subprocess
import tempfile
import time

CAMPAIGNFS = os.environ.get("CAMPAIGNFS", "campaignfs")


def is_mounted(path):
    with open("/proc/mounts") as f:
        return any(line.split()[1] == path and line.split()[2] == "fuse.campaignfs" for line in f)


class Mount:
    """campaignfs on a fresh temporary directory; a context manager."""

    def __init__(self, config_path, ttl=600, extra=(), expect_fail=False):
        self.dir = tempfile.mkdtemp(prefix="cfs-mnt-")
        self.log_path = os.path.join(tempfile.mkdtemp(prefix="cfs-log-"), "campaignfs.log")
        self.config_path = config_path
        self.args = [CAMPAIGNFS, "-f", "-o", "config=%s,ttl=%d" % (config_path, ttl), *extra,
                     self.dir]
        self.proc = None
        self.expect_fail = expect_fail

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

    def __enter__(self):
        return self.start()

    def __exit__(self, *exc):
        self.stop()
        return False


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


def render(rec):
    """What a file must contain: two-space indent, "key": value, UTF-8, newline.
    Compared after parsing (json-c and Python differ on empty [] and {})."""
    return json.dumps(rec, indent=2, ensure_ascii=False) + "\n"


def expected_files(provider, dump):
    """{relative path under the account: record} for every file of the account."""
    files = {}
    for c in dump["campaigns"]:
        base = os.path.join("campaigns", safe_name(c["id"], ""))
        files[os.path.join(base, "campaign.json")] = c["detail"]
        if provider == "koreai":
            names = koreai_names(c["contacts"])
        else:
            names = [safe_name(record_id(provider, "contacts", r)) for r in c["contacts"]]
        for name, rec in zip(names, c["contacts"]):
            files[os.path.join(base, "contacts", name)] = rec
        if provider != "koreai":
            for rec in c["calls"]:
                files[os.path.join(base, "calls", safe_name(record_id(provider, "calls", rec)))] = rec
    return files


def load_pairs(text):
    """JSON with object keys kept in order, as lists of pairs."""
    return json.loads(text, object_pairs_hook=list)


def pairs(rec):
    return load_pairs(json.dumps(rec))
