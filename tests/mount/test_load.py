"""Load: 16 processes run find, cat and grep -r over the mount for 30 s
(CFS_LOAD_SECONDS) while every listing expires each second and refreshes
run behind them.  No deadlock, no crash, every file read is byte for byte
the simulator's record, and the daemon's memory stays under a bound."""
import json
import os
import pickle
import subprocess
import sys
import tempfile
import time

from campaignfs_sim import Sim
from mountlib import Mount, expected_bytes

PROVIDERS = ["altur", "burki", "truedy", "koreai"]
WORKERS = 16
RSS_BOUND = 256 << 20  # bytes: the data is a few MiB; a leak per refresh would pass this

WORKER = r"""
import os, pickle, random, subprocess, sys, time, json
mnt, expected_path, seconds, seed, out = sys.argv[1:6]
expected = pickle.load(open(expected_path, "rb"))
rels = sorted(expected)
rng = random.Random(int(seed))
stats = {"reads": 0, "mismatches": [], "finds": 0, "greps": 0, "errors": []}
VIEW_NAMES = {"calls.ndjson", "contacts.csv", "contacts.ndjson"}
end = time.monotonic() + float(seconds)
while time.monotonic() < end:
    what = rng.random()
    try:
        if what < 0.15:
            p = rng.choice(["altur", "burki", "truedy", "koreai"])
            r = subprocess.run(["find", os.path.join(mnt, p), "-type", "f"], capture_output=True,
                               text=True, timeout=120)
            if r.returncode != 0:
                stats["errors"].append("find: " + r.stderr[-300:])
            for line in r.stdout.splitlines():
                rel = os.path.relpath(line, mnt)
                parts = rel.split(os.sep)
                if parts[-1] in VIEW_NAMES and parts[-3] == "campaigns":
                    continue  # a campaign's view (test_views.py)
                if rel not in expected:
                    stats["mismatches"].append("unexpected file " + rel)
            stats["finds"] += 1
        elif what < 0.25:
            r = subprocess.run(["grep", "-rl", "--", "+1", os.path.join(mnt, "altur")],
                               capture_output=True, text=True, timeout=120)
            if r.returncode not in (0, 1):
                stats["errors"].append("grep: " + r.stderr[-300:])
            stats["greps"] += 1
        else:
            for rel in rng.sample(rels, 20):
                with open(os.path.join(mnt, rel), "rb") as f:
                    got = f.read()
                stats["reads"] += 1
                if got != expected[rel]:
                    stats["mismatches"].append("%s: %d bytes, expected %d"
                                               % (rel, len(got), len(expected[rel])))
    except Exception as e:
        stats["errors"].append(repr(e))
json.dump(stats, open(out, "w"))
"""


NOTIFY_QUEUE_BOUND = 65536  # src/notify.c: INVAL_QUEUE_LIMIT


def rss_bytes(pid):
    with open("/proc/%d/status" % pid) as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) * 1024
    return 0


def test_sixteen_readers_while_everything_refreshes():
    seconds = float(os.environ.get("CFS_LOAD_SECONDS", "30"))
    work = tempfile.mkdtemp(prefix="cfs-load-")
    with Sim("--rate-limit", "altur=0", "--rate-limit", "truedy=0", "--rate-limit", "burki=0",
             "--contacts", "120", "--calls", "15", seed=41) as sim:
        expected = {}
        for p in PROVIDERS:
            raw = sim.raw("GET", "/_sim/dump?provider=" + p)[2].decode()
            for rel, data in expected_bytes(p, sim.dump(p), raw).items():
                expected[os.path.join(p, rel)] = data
        expected_path = os.path.join(work, "expected.pickle")
        with open(expected_path, "wb") as f:
            pickle.dump(expected, f)
        script = os.path.join(work, "worker.py")
        with open(script, "w") as f:
            f.write(WORKER)
        with Mount(sim.config_path, ttl=1, extra=("-o", "timeout=10")) as m:
            for p in PROVIDERS:  # warm: the listings exist, then expire every second
                subprocess.run(["find", m.path(p), "-type", "f"], capture_output=True, check=True)
            sim.reset_stats()
            procs = [subprocess.Popen([sys.executable, script, m.dir, expected_path, str(seconds),
                                       str(i), os.path.join(work, "w%d.json" % i)])
                     for i in range(WORKERS)]
            peak = queued = 0
            while any(p.poll() is None for p in procs):
                peak = max(peak, rss_bytes(m.proc.pid))
                with open(m.path(".campaignfs", "status")) as f:
                    queued = max(queued, json.load(f)["kernel_notifications_queued"])
                time.sleep(0.5)
            codes = [p.wait(timeout=seconds + 240) for p in procs]
            refreshes = sim.stats()["total_requests"]
            assert m.proc.poll() is None, "campaignfs died under load"
        assert codes == [0] * WORKERS
        results = [json.load(open(os.path.join(work, "w%d.json" % i))) for i in range(WORKERS)]
        mismatches = [x for r in results for x in r["mismatches"]]
        errors = [x for r in results for x in r["errors"]]
        assert mismatches == []
        assert errors == []
        assert sum(r["reads"] for r in results) > WORKERS * 20
        assert sum(r["finds"] for r in results) > 0 and sum(r["greps"] for r in results) > 0
        # listings expired and were fetched again all along
        assert refreshes > len(PROVIDERS) * seconds / 4
        # what waits to be told to the kernel is bounded (it once grew by
        # 50,000 page-cache fills a second, holding old listings alive)
        assert queued <= NOTIFY_QUEUE_BOUND, queued
        assert peak < RSS_BOUND, "campaignfs peaked at %d MiB" % (peak >> 20)
    subprocess.run(["rm", "-rf", work])
