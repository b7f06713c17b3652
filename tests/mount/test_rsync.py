"""rsync as a nightly backup: a second run copies nothing; after the data
changes (and the TTL passes), a run copies exactly the changed files."""
import os
import shutil
import subprocess
import tempfile
import time

import pytest

from campaignfs_sim import Sim
from mountlib import Mount, expected_bytes, expected_files, views_of, wait_quiet

PROVIDERS = ["altur", "burki", "truedy", "koreai"]
TTL = 2


def rsync(src, dst):
    out = subprocess.run(["rsync", "-a", "--delete", "--itemize-changes", src + "/", dst + "/"],
                         capture_output=True, text=True)
    assert out.returncode == 0, out.stderr
    return [line for line in out.stdout.splitlines() if line.strip()]


def all_files(dumps):
    files = {}
    for p, d in dumps.items():
        for rel, rec in expected_files(p, d).items():
            files[os.path.join(p, rel)] = rec
    return files


@pytest.fixture(scope="module")
def small_sim():
    with Sim("--rate-limit", "truedy=0", "--rate-limit", "altur=0", "--contacts", "8",
             "--calls", "4", seed=5) as s:
        yield s


def copied_files(lines):
    return sorted(l.split(" ", 1)[1] for l in lines
                  if l[:2] in (">f", "cd") and not l.endswith("/"))


@pytest.mark.parametrize("max_stale", [0, None])
def test_rsync_incremental(small_sim, max_stale):
    """max_stale=0: the run after the TTL waits for the refreshes and copies
    exactly what changed.  Default (stale-while-revalidate): that run sees
    the listings as they were and starts their refreshes; once they are in,
    the next run copies exactly the rest."""
    backup = tempfile.mkdtemp(prefix="cfs-backup-")
    extra = ("-o", "max_stale=%d" % max_stale) if max_stale is not None else ()
    try:
        with Mount(small_sim.config_path, ttl=TTL, extra=extra) as m:
            first = rsync(m.dir, backup)
            assert len([l for l in first if l.startswith(">f")]) > 100
            second = rsync(m.dir, backup)
            assert second == [], second

            before = all_files({p: small_sim.dump(p) for p in PROVIDERS})
            report = small_sim.advance(5)
            assert report["advanced"] == 5
            after = all_files({p: small_sim.dump(p) for p in PROVIDERS})
            changed = sorted(f for f in after if f not in before or after[f] != before[f])
            assert changed, "advance changed nothing"
            gone = [f for f in before if f not in after]
            # and the views of the directories whose records changed
            changed = sorted(set(changed) | {v for f in changed + gone for v in views_of(f)
                                             if os.path.exists(os.path.join(m.dir, v))})
            time.sleep(TTL + 0.5)

            third = copied_files(rsync(m.dir, backup))
            if max_stale is None:
                wait_quiet(small_sim)
                rest = copied_files(rsync(m.dir, backup))
                assert not set(third) & set(rest)
                third = sorted(third + rest)
            assert third == changed
            # and the backup now holds exactly the mount's bytes
            diff = subprocess.run(["diff", "-r", m.dir, backup], capture_output=True, text=True)
            assert diff.returncode == 0, diff.stdout[:2000]
            fourth = rsync(m.dir, backup)
            assert fourth == []
            assert "error" not in m.stderr()
    finally:
        shutil.rmtree(backup)


@pytest.mark.parametrize("max_stale", [0, None])
def test_changed_files_read_whole_after_a_refresh(max_stale):
    """The kernel must not keep a file's old size past the listing it came
    from: a file that grew in a refresh is read whole, not cut at the old
    size.  With max_stale=0 the read after the refresh shows the new bytes;
    by default (stale-while-revalidate) the old or the new ones, never a mix
    or a cut."""
    ttl = 3
    extra = ("-o", "max_stale=%d" % max_stale) if max_stale is not None else ()
    with Sim("--rate-limit", "altur=0", "--rate-limit", "truedy=0", "--contacts", "6",
             "--calls", "3", seed=8) as sim:
        with Mount(sim.config_path, ttl=ttl, extra=extra) as m:
            dirs = []
            for p in PROVIDERS:  # listings fetched now, by readdir only
                for root, subdirs, _ in os.walk(m.path(p)):
                    dirs.append(root)
            time.sleep(ttl - 1)
            for d in dirs:  # attributes learnt late in the listings' lives
                for f in os.listdir(d):
                    os.stat(os.path.join(d, f))
            before = all_files({p: sim.dump(p) for p in PROVIDERS})
            old = {p: expected_bytes(p, sim.dump(p), sim.raw("GET", "/_sim/dump?provider=" + p)[2]
                                     .decode()) for p in PROVIDERS}
            sim.advance(8)
            after = all_files({p: sim.dump(p) for p in PROVIDERS})
            raw = {p: sim.raw("GET", "/_sim/dump?provider=" + p)[2].decode() for p in PROVIDERS}
            time.sleep(1.5)  # the listings expired, the late attributes not yet
            changed = [f for f in after if f in before and after[f] != before[f]]
            assert changed
            for rel in changed:
                p, sub = rel.split(os.sep, 1)
                os.listdir(os.path.dirname(m.path(rel)))  # the refresh
                want = expected_bytes(p, sim.dump(p), raw[p])[sub]
                with open(m.path(rel), "rb") as f:
                    data = f.read()
                if max_stale is None:
                    assert data in (want, old[p][sub]), rel
                    continue
                assert os.stat(m.path(rel)).st_size == len(data)
                if sub.endswith("campaign.json") or (p == "truedy" and "/calls/" in sub):
                    # fetched on its own, with its own TTL: old or new, never cut
                    assert data in (want, old[p][sub]), rel
                else:
                    assert data == want, rel
            if max_stale is None:
                # once the refreshes are in, every changed file reads new, whole
                wait_quiet(sim)
                for rel in changed:
                    p, sub = rel.split(os.sep, 1)
                    with open(m.path(rel), "rb") as f:
                        data = f.read()
                    want = expected_bytes(p, sim.dump(p), raw[p])[sub]
                    if sub.endswith("campaign.json") or (p == "truedy" and "/calls/" in sub):
                        # its own TTL may not have run out: old or new, never cut
                        assert data in (want, old[p][sub]), rel
                    else:
                        assert data == want, rel
