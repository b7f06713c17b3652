import os
import shutil
import subprocess
import sys
import tempfile

import pytest

sys.path.insert(0, os.path.dirname(__file__))

from campaignfs_sim import Sim  # noqa: E402  (tests/pylib, on PYTHONPATH)
from mountlib import Mount  # noqa: E402

PROVIDERS = ["altur", "burki", "truedy", "koreai"]

# Sanitizer reports.  Under a sanitizer build (contrib/quickstart test runs
# one) a report from any process these tests start fails the test that was
# running (or, written at the very end, the session), with the report
# quoted.  ASan, LSan and TSan reports go to a file per process here
# (log_path: DIR/asan.PID), whoever started the process.  GCC's UBSan
# ignores log_path when ASan is there too and writes to stderr: campaignfs's
# own log is checked by mountlib.Mount, the simulators' stderr when they
# stop, and the output of campaignfs or campaignfs-sim runs through
# subprocess.run() as they end.
SANITIZER_DIR = tempfile.mkdtemp(prefix="cfs-sanitizer-")
SANITIZER_MARKERS = ("ERROR: AddressSanitizer", "ERROR: LeakSanitizer", "runtime error:",
                     "WARNING: ThreadSanitizer", "ERROR: ThreadSanitizer")
for _var in ("ASAN_OPTIONS", "UBSAN_OPTIONS", "TSAN_OPTIONS"):
    _opts = os.environ.get(_var, "")
    if "log_path=" not in _opts:
        _path = os.path.join(SANITIZER_DIR, _var.split("_")[0].lower())
        os.environ[_var] = (_opts + ":" if _opts else "") + "log_path=" + _path
_reported = set()
_found = []  # reports taken from stderr, not reported yet


def _has_report(text):
    return any(m in text for m in SANITIZER_MARKERS)


def _sim_stop_checked(self, _stop=Sim.stop):
    _stop(self)
    if not getattr(self, "_sanitizer_checked", False):
        self._sanitizer_checked = True
        _found.extend("campaignfs-sim: " + p for p in self.problems())


def _run_checked(*args, _run=subprocess.run, **kw):
    result = _run(*args, **kw)
    argv = args[0] if args else kw.get("args")
    ours = (os.environ.get("CAMPAIGNFS"), os.environ.get("CAMPAIGNFS_SIM"))
    if isinstance(argv, (list, tuple)) and argv and argv[0] in ours:
        for text in (result.stdout, result.stderr):
            if isinstance(text, bytes):
                text = text.decode(errors="replace")
            if text and _has_report(text):
                _found.append("%s:\n%s" % (" ".join(map(str, argv)), text[-8000:]))
    return result


Sim.stop = _sim_stop_checked
subprocess.run = _run_checked


def sanitizer_reports():
    """The reports written since the last call, each quoted with its source."""
    found, _found[:] = list(_found), []
    for name in sorted(os.listdir(SANITIZER_DIR)):
        if name in _reported:
            continue
        with open(os.path.join(SANITIZER_DIR, name), errors="replace") as f:
            text = f.read()
        if _has_report(text):
            _reported.add(name)
            found.append("--- %s (pid %s) ---\n%s" % (name, name.rpartition(".")[2], text[-8000:]))
    return found


def assert_no_sanitizer_reports(when):
    found = sanitizer_reports()
    assert not found, "sanitizer report(s) %s:\n%s" % (when, "\n".join(found))


@pytest.fixture(scope="session", autouse=True)
def sanitizer_reports_at_exit():
    try:
        yield
        assert_no_sanitizer_reports("from a process of the whole session")
    finally:
        shutil.rmtree(SANITIZER_DIR, ignore_errors=True)


@pytest.fixture(autouse=True)
def no_sanitizer_reports():
    yield
    assert_no_sanitizer_reports("during this test")


# A real mount needs the FUSE device and the setuid helper; without them the
# runner (tests/mount/run.py) exits 77 so meson counts a skip.


@pytest.fixture(scope="session")
def sim():
    # Truedy's 100/min would make fetching every call file take minutes:
    # the rate-limit behaviour itself is tested against the simulator.
    with Sim("--rate-limit", "truedy=0", "--rate-limit", "altur=0", "--calls", "6",
             "--contacts", "12", seed=11) as s:
        yield s


@pytest.fixture(scope="session")
def dumps(sim):
    return {p: sim.dump(p) for p in PROVIDERS}


@pytest.fixture(scope="session")
def mnt(sim):
    with Mount(sim.config_path, ttl=3600) as m:
        yield m
