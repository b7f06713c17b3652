"""Persistence (issue #15) on real mounts: the SQLite disk cache across
remounts with the API down and with -o offline, a kill -9 in the middle of a
listing write, damaged databases moved aside, the cache's file modes, eviction
at a small cache_max, rsync and tar --listed-incremental across a remount
(stable mtimes and inode numbers), and finished calls fetched once.

Request counts come from the simulator (/_sim/stats, /_sim/requests); no test
asserts a duration."""
import contextlib
import errno
import hashlib
import json
import os
import re
import shutil
import signal
import sqlite3
import struct
import subprocess
import tempfile
import time

import pytest

from campaignfs_sim import Sim
from mountlib import (Mount, expected_bytes, is_mounted, is_view, views_of, wait_for,
                      wait_quiet)

PROVIDERS = ["altur", "burki", "truedy", "koreai"]
NO_LIMITS = ("--rate-limit", "altur=0", "--rate-limit", "burki=0", "--rate-limit", "truedy=0")
# campaign #1 empty, #2 with --big-contacts contacts, #3 ordinary
SMALL = NO_LIMITS + ("--campaigns", "3", "--contacts", "4", "--calls", "3", "--big-contacts", "6")
STALE = "user.campaignfs.stale"
APPLICATION_ID = 0x43465331
DISK_KEYS = ("path", "listings", "bytes", "max_bytes", "saved", "loaded", "evicted", "errors",
             "queued")
# final statuses (the contract)
TRUEDY_FINAL = {"completed", "failed", "busy", "no_answer", "no-answer", "voicemail", "cancelled",
                "canceled", "rejected", "ended"}
ALTUR_CALL_FINAL = {"ended", "failed", "busy", "no-answer"}
BURKI_CALL_FINAL = {"completed", "failed", "no_answer", "busy", "voicemail", "skipped"}
BURKI_CAMPAIGN_FINAL = {"completed", "cancelled", "failed"}
# an access past the TTL waits for the refresh, so that the refetch counts
# are those of the access itself (the Truedy test runs with the default
# max_stale too: the refresh starts in the background and is polled for)
MAX_STALE_0 = ("-o", "max_stale=0")


# ---- helpers ----

def _raise(e):
    raise e


def walk(root, skip=()):
    """(sorted relative directory paths, {relative file path: bytes}) of
    everything under root but the campaigns' views (derived from the
    listings, test_views.py: reading one would fetch its directory); a
    directory that cannot be listed fails (os.walk would skip it);
    directories in skip (relative paths) are not entered."""
    dirs, files = [], {}
    for d, subdirs, names in os.walk(root, onerror=_raise):
        rel = os.path.relpath(d, root)
        dirs.append(rel)
        subdirs[:] = sorted(s for s in subdirs if os.path.normpath(os.path.join(rel, s)) not in skip)
        for n in names:
            if is_view(os.path.join(rel, n)):
                continue
            with open(os.path.join(d, n), "rb") as f:
                files[os.path.normpath(os.path.join(rel, n))] = f.read()
    return sorted(dirs), files


def lstat_all(root):
    """{relative path: os.stat_result} of every path under root (root: ".")."""
    out = {".": os.lstat(root)}
    for d, subdirs, names in os.walk(root, onerror=_raise):
        for n in subdirs + names:
            p = os.path.join(d, n)
            out[os.path.relpath(p, root)] = os.lstat(p)
    return out


def expected_all(sim, providers=PROVIDERS):
    """{provider/relative path: exact bytes} of every file, from the dump."""
    out = {}
    for p in providers:
        raw = sim.raw("GET", "/_sim/dump?provider=" + p)[2].decode()
        for rel, data in expected_bytes(p, json.loads(raw), raw).items():
            out[os.path.join(p, rel)] = data
    return out


def status(m):
    with open(m.path(".campaignfs", "status")) as f:
        return json.load(f)


def disk(m):
    d = status(m)["disk"]
    assert isinstance(d, dict), "the status has no disk cache: %r; log:\n%s" % (
        d, m.stderr()[-3000:])
    return d


def settle(m, saved=0, limit=30):
    """Waits until the writer thread has no write left (disk.queued 0) and
    has written at least `saved` listings in this mount; returns disk."""
    return wait_for(lambda: (lambda d: d if d["queued"] == 0 and d["saved"] >= saved else None)(
        disk(m)), limit=limit, what="the disk writes to be done")


def refresh(m, path):
    with open(m.path(".campaignfs", "refresh"), "w") as f:
        f.write(path + "\n")


def db_name(config_path):
    path = os.path.abspath(config_path)
    return "%s-%s.db" % (os.path.basename(path), hashlib.sha256(path.encode()).hexdigest()[:16])


def the_db(m):
    dbs = m.db_paths()
    assert len(dbs) == 1, "databases in %s: %r" % (m.cache_dir, dbs)
    assert os.path.basename(dbs[0]) == db_name(m.config_path)
    return dbs[0]


def calls_requested(sim, since, fragment):
    return [r for r in sim.requests(since)["requests"] if fragment in r["path"]]


def log_mark(sim):
    return sim.requests()["next"]


@contextlib.contextmanager
def temp_dir(prefix):
    d = tempfile.mkdtemp(prefix=prefix)
    try:
        yield d
    finally:
        shutil.rmtree(d, ignore_errors=True)


def sleep_past(t):
    """Sleeps until time.time() is past t."""
    left = t - time.time()
    if left > 0:
        time.sleep(left)


def campaign_dir(provider, c):
    return os.path.join(provider, "campaigns", str(c["id"]))


# ---- 1. the API down: every file seen, same bytes, stale ----

def test_remount_with_the_api_down_shows_every_file_seen_byte_for_byte_marked_stale():
    with temp_dir("cfs-cache-") as cache, Sim(*SMALL, seed=61) as sim:
        with Mount(sim.config_path, cache_dir=cache) as m:
            dirs, before = walk(m.dir)
            fetched = time.time()
            assert before == expected_all(sim)  # what the mount showed: the simulator's data
            assert len(before) > 40 and any("/calls/" in f for f in before if
                                            f.startswith("truedy"))
            fetched_at = {f: os.getxattr(m.path(f), "user.campaignfs.fetched_at")
                          for f in before}
        # unmounted right after the walk, as a user would: what was shown is on disk
        assert os.path.exists(os.path.join(cache, db_name(sim.config_path)))
        sim.stop()
        sleep_past(fetched + 1.2)  # every listing is past the second mount's TTL
        with Mount(sim.config_path, ttl=1, cache_dir=cache, extra=("-o", "timeout=3"),
                   log_errors=True) as m:
            dirs2, after = walk(m.dir)
            assert sorted(after) == sorted(before)
            assert dirs2 == dirs
            for f in sorted(before):
                assert after[f] == before[f], f
            not_stale = [f for f in sorted(after) if os.getxattr(m.path(f), STALE) != b"1"]
            assert not_stale == [], "not marked stale with the API down: %s" % not_stale
            for f in sorted(after):
                # the TTL counts from the fetch in the first mount
                assert os.getxattr(m.path(f), "user.campaignfs.fetched_at") == fetched_at[f], f
            assert "moved aside" not in m.stderr()


# ---- 2. -o offline ----

def test_offline_makes_no_request_and_serves_the_disk_copy_marked_stale():
    with temp_dir("cfs-cache-") as cache, Sim(*SMALL, seed=62) as sim:
        burki = sim.dump("burki")["campaigns"]
        never = os.path.join(campaign_dir("burki", burki[2]), "contacts")  # never listed
        assert burki[2]["contacts"]
        with Mount(sim.config_path, cache_dir=cache) as m:
            assert status(m)["offline"] is False
            dirs, before = walk(m.dir, skip=(never,))
            assert never not in dirs and os.path.dirname(never) in dirs
            settle(m)
        stats = sim.stats()["total_requests"]
        mark = log_mark(sim)
        with Mount(sim.config_path, ttl=1, cache_dir=cache, extra=("-o", "offline"),
                   log_errors=True) as m:
            doc = status(m)
            assert doc["offline"] is True
            assert isinstance(doc["disk"], dict)
            dirs2, after = walk(m.dir, skip=(never,))
            assert dirs2 == dirs
            assert sorted(after) == sorted(before)
            for f in sorted(before):
                assert after[f] == before[f], f
                assert os.getxattr(m.path(f), STALE) == b"1", f
            assert disk(m)["loaded"] > 0
            # a directory its parent lists but never fetched: EIO, and why
            assert "contacts" in os.listdir(m.path(os.path.dirname(never)))
            log_before = len(m.stderr())
            with pytest.raises(OSError) as e:
                os.listdir(m.path(never))
            assert e.value.errno == errno.EIO
            new_log = m.stderr()[log_before:]
            assert [line for line in new_log.splitlines() if "offline" in line], new_log
            # past the TTL, and after a refresh asked for: still nothing asked
            time.sleep(1.2)
            assert walk(m.dir, skip=(never,))[1] == before
            try:
                refresh(m, "/")
            except OSError:
                pass  # refused offline: fine, as long as nothing is asked
            assert walk(m.dir, skip=(never,))[1] == before
            time.sleep(0.5)  # time for a request that should not come
        assert sim.stats()["total_requests"] == stats
        assert sim.requests(mark)["requests"] == []


# ---- 3. kill -9 in the middle of a listing write ----

# Burki campaign #2: ~2 MB of records, 5 pages; a write of its listing takes
# long enough to be killed in the middle (measured: the first try landed in 6
# of 6 runs, and in 4 of 4 under ASan; 3000 contacts still did, 5 of 5)
KILL_CONTACTS = 5000


def wal_state(data):
    """(frames of the WAL's current generation [(commit field)], partial
    bytes after the last whole frame): a frame counts while its salts are
    the header's (older frames of an earlier generation may follow)."""
    if len(data) < 32:
        return [], len(data)
    page = struct.unpack(">I", data[8:12])[0]
    salts = data[16:24]
    frames, off = [], 32
    while off + 24 + page <= len(data):
        if data[off + 8:off + 16] != salts:
            return frames, 0
        frames.append(struct.unpack(">I", data[off + 4:off + 8])[0])
        off += 24 + page
    return frames, len(data) - off


def kill_mid_write(m, wal, saved, limit=20):
    """Kills the daemon (SIGKILL) as soon as the WAL holds a few dozen
    frames past what it held when called: a write is under way.  Returns
    whether it killed (not when the mount has written more than `saved`
    listings first: too late)."""
    fd = None
    margin_frames = 32
    deadline = time.time() + limit
    start_size, start_salts, page = None, None, 4096
    next_look = time.time() + 0.1
    while time.time() < deadline:
        if time.time() > next_look:
            next_look = time.time() + 0.1
            d = disk(m)
            if d["saved"] > saved and d["queued"] == 0:
                break  # written whole before the WAL was seen growing
        if fd is None:
            try:
                fd = os.open(wal, os.O_RDONLY)
            except FileNotFoundError:
                if start_size is None:
                    start_size, start_salts = 0, b""
                continue
            if start_size is None:
                head = os.pread(fd, 32, 0)
                start_size = os.fstat(fd).st_size
                start_salts = head[16:24]
                if len(head) == 32:
                    page = struct.unpack(">I", head[8:12])[0]
        size = os.fstat(fd).st_size
        hit = size > start_size + margin_frames * (24 + page)
        if not hit and size >= 32:
            head = os.pread(fd, 32, 0)
            if head[16:24] != start_salts:  # the WAL restarted: a new generation
                page = struct.unpack(">I", head[8:12])[0] or page
                probe = os.pread(fd, 24, 32 + margin_frames * (24 + page))
                hit = len(probe) == 24 and probe[8:16] == head[16:24]
        if hit:
            os.kill(m.proc.pid, signal.SIGKILL)
            m.proc.wait()
            os.close(fd)
            return True
        if m.proc.poll() is not None:
            break
    if fd is not None:
        os.close(fd)
    return False


def test_kill_9_in_the_middle_of_a_listing_write_leaves_the_previous_listing_whole():
    with temp_dir("cfs-kill-") as work, Sim(*NO_LIMITS, "--campaigns", "2", "--contacts", "2",
                                             "--calls", "2", "--big-contacts",
                                             str(KILL_CONTACTS), seed=63) as sim:
        big = sim.dump("burki")["campaigns"][1]
        contacts = os.path.join(campaign_dir("burki", big), "contacts")
        landed = None
        tries = []
        for attempt in range(5):
            if attempt:
                sim.restart()  # records that an advance changes again
            cache = os.path.join(work, "cache-%d" % attempt)
            old = {f: b for f, b in expected_all(sim, ["burki"]).items()
                   if f.startswith(contacts + "/")}
            m = Mount(sim.config_path, cache_dir=cache, log_errors=True)
            m.start()
            try:
                assert len(os.listdir(m.path(contacts))) == KILL_CONTACTS
                saved = settle(m, saved=2)["saved"]  # burki/campaigns and the contacts
                db = the_db(m)
                report = sim.advance(1000000)  # every open record changes
                new = {f: b for f, b in expected_all(sim, ["burki"]).items()
                       if f.startswith(contacts + "/")}
                changed = [f for f in old if new.get(f) != old[f]]
                assert len(changed) > KILL_CONTACTS // 10, report["advanced"]
                refresh(m, contacts)
                os.listdir(m.path(contacts))  # starts the refetch (the old listing shown)
                killed = kill_mid_write(m, db + "-wal", saved)
                frames, partial = [], 0
                if killed:
                    with open(db + "-wal", "rb") as f:
                        frames, partial = wal_state(f.read())
            finally:
                if is_mounted(m.dir):
                    subprocess.run(["fusermount3", "-uz", m.dir], capture_output=True)
                if m.proc.poll() is None:
                    m.proc.kill()
                m.stop()
            tries.append({"killed": killed, "frames": len(frames), "last_commit": frames[-1:],
                          "partial": partial})
            if killed and (partial or (frames and frames[-1] == 0)):
                landed = (cache, old, changed)
                break
        assert landed, "the kill never landed in the middle of a write: %r" % tries
        cache, old, changed = landed
        sim.stop()
        with Mount(sim.config_path, cache_dir=cache) as m:
            names = sorted(os.listdir(m.path(contacts)))
            assert names == sorted(os.path.basename(f) for f in old)
            for f in sorted(old):
                with open(m.path(f), "rb") as fh:
                    assert fh.read() == old[f], f  # the previous listing, never a mix
            assert "moved aside" not in m.stderr()


# ---- 4. damaged databases are moved aside ----

@pytest.fixture(scope="module")
def damage_sim():
    with Sim(*SMALL, seed=64) as s:
        yield s


@pytest.fixture(scope="module")
def pristine(damage_sim):
    """A database written by a mount (folded into one file), and the
    simulator advanced afterwards: a mount that trusted the database would
    show the old records (within the TTL), one that moved it aside the new."""
    with temp_dir("cfs-pristine-") as cache:
        with Mount(damage_sim.config_path, cache_dir=cache) as m:
            walk(m.dir)
            settle(m)
            db = the_db(m)
        con = sqlite3.connect(db)
        assert con.execute("PRAGMA application_id").fetchone()[0] == APPLICATION_ID
        assert con.execute("PRAGMA user_version").fetchone()[0] == 1
        con.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        con.close()
        for suffix in ("-wal", "-shm"):
            if os.path.exists(db + suffix):
                os.unlink(db + suffix)
        with open(db, "rb") as f:
            data = f.read()
    damage_sim.advance(40)
    return data


def set_pragma(path, pragma):
    con = sqlite3.connect(path)
    con.execute(pragma)
    con.commit()
    con.close()


def garbage(n, seed):
    return hashlib.shake_256(b"campaignfs garbage %d" % seed).digest(n)


def damage(kind, path, data):
    with open(path, "wb") as f:
        f.write(data)
    if kind == "garbage-head":
        with open(path, "r+b") as f:
            f.write(garbage(512, 1))
    elif kind == "garbage-pages":
        page = struct.unpack(">H", data[16:18])[0]
        page = 65536 if page == 1 else page
        npages = len(data) // page
        assert npages >= 3, "the database has %d pages" % npages
        with open(path, "r+b") as f:  # every page but the first (the schema) and the last
            f.seek(page)
            f.write(garbage(page * (npages - 2), 2))
    elif kind == "newer":
        set_pragma(path, "PRAGMA user_version=99")
    elif kind == "foreign":
        set_pragma(path, "PRAGMA application_id=%d" % 0x12345678)
    for suffix in ("-wal", "-shm"):
        if os.path.exists(path + suffix):
            os.unlink(path + suffix)
    with open(path, "rb") as f:
        return f.read()


REASONS = {"garbage-head": ("corrupt", "foreign"), "garbage-pages": ("corrupt",),
           "newer": ("newer",), "foreign": ("foreign",)}


@pytest.mark.parametrize("kind", sorted(REASONS))
def test_a_damaged_database_is_moved_aside_and_the_mount_works(damage_sim, pristine, kind):
    with temp_dir("cfs-cache-") as cache:
        db = os.path.join(cache, db_name(damage_sim.config_path))
        damaged = damage(kind, db, pristine)
        with Mount(damage_sim.config_path, cache_dir=cache, log_errors=True) as m:
            assert sorted(os.listdir(m.dir)) == sorted(PROVIDERS)
            dirs, files = walk(m.dir)
            # never trusted: the simulator's records now, not the database's
            assert files == expected_all(damage_sim)
            settle(m)
            log = m.stderr()
            assert [line for line in log.splitlines() if "moved aside" in line], log
            aside = [n for n in os.listdir(cache) if n.startswith(os.path.basename(db) + ".")]
            assert len(aside) == 1, os.listdir(cache)
            match = re.fullmatch(re.escape(os.path.basename(db)) +
                                 r"\.(corrupt|foreign|newer)-\d{8}T\d{6}Z", aside[0])
            assert match and match.group(1) in REASONS[kind], aside
            with open(os.path.join(cache, aside[0]), "rb") as f:
                assert f.read() == damaged  # kept as it was, for a look
            left = set(os.listdir(cache)) - {aside[0]}
            assert left <= {os.path.basename(db) + s for s in ("", "-wal", "-shm")}, left
            assert os.path.basename(db) in left
            assert disk(m)["listings"] > 0
        # the new database is campaignfs's own
        con = sqlite3.connect(db)
        try:
            assert con.execute("PRAGMA application_id").fetchone()[0] == APPLICATION_ID
            assert con.execute("PRAGMA user_version").fetchone()[0] == 1
            assert con.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
        finally:
            con.close()


# ---- 5. modes, names, status ----

@contextlib.contextmanager
def mounted_with_umask(m, umask):
    old = os.umask(umask)
    try:
        m.start()
    finally:
        os.umask(old)
    try:
        yield m
    except BaseException:
        m.stop()
        raise
    m.__exit__(None, None, None)


def mode(path):
    return os.stat(path).st_mode & 0o7777


def test_cache_modes_under_umask_0_name_and_status(monkeypatch):
    with temp_dir("cfs-modes-") as work, Sim(*SMALL, seed=65) as sim:
        cache = os.path.join(work, "cache")  # made by campaignfs
        m = Mount(sim.config_path, cache_dir=cache, extra=("-o", "cache_max=2M"))
        with mounted_with_umask(m, 0):
            walk(m.path("altur"))
            settle(m)
            db = os.path.join(cache, db_name(sim.config_path))
            assert m.db_paths() == [db]
            d = disk(m)
            for key in DISK_KEYS:
                assert key in d, (key, d)
            assert d["path"] == db
            assert d["max_bytes"] == 2 * 1024 * 1024
            assert d["saved"] > 0 and d["listings"] > 0 and d["bytes"] > 0
            assert d["errors"] == 0 and d["queued"] == 0
            assert status(m)["offline"] is False
            assert mode(cache) == 0o700
            for suffix in ("", "-wal", "-shm"):
                assert os.path.exists(db + suffix), suffix
                assert mode(db + suffix) == 0o600, (suffix, oct(mode(db + suffix)))
        assert mode(cache) == 0o700
        for suffix in ("", "-wal", "-shm"):
            if os.path.exists(db + suffix):
                assert mode(db + suffix) == 0o600, suffix

        # the default place: $XDG_CACHE_HOME/campaignfs/, else ~/.cache/campaignfs/
        xdg = os.path.join(work, "xdg")
        os.mkdir(xdg)
        monkeypatch.setenv("XDG_CACHE_HOME", xdg)
        m = Mount(sim.config_path, cache_dir=False)
        with mounted_with_umask(m, 0):
            os.listdir(m.path("burki", "campaigns"))
            settle(m)
            want = os.path.join(xdg, "campaignfs", db_name(sim.config_path))
            assert disk(m)["path"] == want and os.path.exists(want)
            assert disk(m)["max_bytes"] == 1 << 30  # 1G
            assert mode(os.path.dirname(want)) == 0o700 and mode(want) == 0o600
        home = os.path.join(work, "home")
        os.makedirs(os.path.join(home, ".cache"))
        monkeypatch.delenv("XDG_CACHE_HOME")
        monkeypatch.setenv("HOME", home)
        with Mount(sim.config_path, cache_dir=False) as m:
            os.listdir(m.path("burki", "campaigns"))
            settle(m)
            want = os.path.join(home, ".cache", "campaignfs", db_name(sim.config_path))
            assert disk(m)["path"] == want and os.path.exists(want)
            assert mode(os.path.dirname(want)) == 0o700


def test_cache_dir_none_writes_nothing_anywhere(monkeypatch):
    with temp_dir("cfs-none-") as work, Sim(*SMALL, seed=65) as sim:
        xdg, home = os.path.join(work, "xdg"), os.path.join(work, "home")
        os.makedirs(xdg)
        os.makedirs(home)
        monkeypatch.setenv("XDG_CACHE_HOME", xdg)
        monkeypatch.setenv("HOME", home)
        with Mount(sim.config_path, cache_dir="none") as m:
            files = walk(m.dir)[1]
            assert files == expected_all(sim)
            doc = status(m)
            assert doc["disk"] is None and doc["offline"] is False
        assert os.listdir(xdg) == [] and os.listdir(home) == []


# ---- 6. eviction at a small cache_max ----

def test_eviction_at_a_small_cache_max_drops_the_least_recently_used():
    with temp_dir("cfs-evict-") as work, Sim(*NO_LIMITS, "--campaigns", "4", "--contacts", "6",
                                              "--calls", "2", "--big-contacts", "6",
                                              seed=66) as sim:
        burki = [c for c in sim.dump("burki")["campaigns"] if c["contacts"]]
        altur = [c for c in sim.dump("altur")["campaigns"] if c["contacts"]]
        # oldest first; the last two are the most recently used
        steps = [os.path.join("burki", "campaigns")] + \
            [os.path.join(campaign_dir("burki", c), "contacts") for c in burki] + \
            [os.path.join("altur", "campaigns"), os.path.join(campaign_dir("altur", altur[0]),
                                                              "contacts")]
        # the bytes each listing takes, measured with the default cache_max
        sizes = {}
        with Mount(sim.config_path, cache_dir=os.path.join(work, "measure")) as m:
            last = disk(m)["bytes"]
            for s in steps:
                os.listdir(m.path(s))
                d = wait_for(lambda: (lambda d: d if d["queued"] == 0 and d["bytes"] != last
                                      else None)(disk(m)), what="the listing %s stored" % s)
                sizes[s], last = d["bytes"] - last, d["bytes"]
            assert disk(m)["evicted"] == 0
        assert all(n > 0 for n in sizes.values()), sizes
        keep = sizes[steps[-1]] + sizes[steps[-2]]
        cache_max = keep + min(sizes[s] for s in steps[:-2]) // 2
        cache = os.path.join(work, "cache")
        with Mount(sim.config_path, cache_dir=cache,
                   extra=("-o", "cache_max=%d" % cache_max)) as m:
            for s in steps:
                os.listdir(m.path(s))
                settle(m)
            mru = walk(m.path(steps[-1]))[1]
            assert mru
            d = settle(m)
            assert d["max_bytes"] == cache_max
            assert d["evicted"] > 0, (d, sizes)
            assert d["bytes"] <= d["max_bytes"], d
            assert d["bytes"] >= sizes[steps[-1]], (d, sizes)
        # a single listing bigger than cache_max is not stored (each of these
        # holds records of more than 16 bytes)
        with Mount(sim.config_path, cache_dir=os.path.join(work, "tiny"),
                   extra=("-o", "cache_max=16")) as m:
            os.listdir(m.path(steps[1]))
            wait_quiet(sim, quiet=0.3)
            assert settle(m)["bytes"] == 0
        sim.stop()
        with Mount(sim.config_path, cache_dir=cache, extra=("-o", "timeout=3"),
                   log_errors=True) as m:
            # the most recently used is served, from disk
            assert walk(m.path(steps[-1]))[1] == mru
            # the least recently used is gone: fetching it fails
            with pytest.raises(OSError) as e:
                os.listdir(m.path(steps[0]))
            assert e.value.errno == errno.EIO


# ---- 7. rsync across a remount, all four providers ----

def rsync(src, dst, *extra):
    out = subprocess.run(["rsync", "-a", "--itemize-changes", *extra, src + "/", dst + "/"],
                         capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stderr
    return out.stdout


def transferred(text):
    """The regular files an rsync -a --itemize-changes run copied."""
    return sorted(line.split(" ", 1)[1] for line in text.splitlines()
                  if line[:2] in (">f", "cf") and not line.endswith("/"))


def stats_line(text, name):
    m = re.search(r"^%s: ([\d,]+)" % re.escape(name), text, re.M)
    assert m, text
    return int(m.group(1).replace(",", ""))


def same_size_koreai(before, after):
    return sorted(f for f in after if f.startswith("koreai/") and f in before and
                  after[f] != before[f] and len(after[f]) == len(before[f]))


def test_rsync_across_a_remount_copies_nothing_then_exactly_the_changed_files():
    with temp_dir("cfs-rsync-") as work, Sim(*NO_LIMITS, "--campaigns", "3", "--contacts", "6",
                                              "--calls", "3", "--big-contacts", "6",
                                              seed=65) as sim:
        cache, backup = os.path.join(work, "cache"), os.path.join(work, "backup")
        os.mkdir(backup)
        sim.advance(20)  # Kore.ai contacts in progress (noAnswer): their next no-answer
        #                  keeps the size of the record
        with Mount(sim.config_path, cache_dir=cache) as m:
            first = transferred(rsync(m.dir, backup))
            assert len(first) > 50
            assert any(f.startswith(p + "/") for f in first for p in PROVIDERS)
            done = time.time()
        sleep_past(done + 1.1)  # the second mount's listings have expired
        with Mount(sim.config_path, ttl=1, cache_dir=cache, extra=("-o", "max_stale=0")) as m:
            out = rsync(m.dir, backup, "--stats")
            assert stats_line(out, "Number of regular files transferred") == 0, out
            assert transferred(out) == []
            wait_quiet(sim, quiet=0.5)
            assert stats_line(rsync(m.dir, backup, "--stats"),
                              "Number of regular files transferred") == 0
            seen_same_size = []
            for round_ in range(4):
                before = expected_all(sim)
                sleep_past(int(time.time()) + 1.05)  # new first-seen times fall in a new second
                report = sim.advance(20)
                assert report["advanced"] > 0
                after = expected_all(sim)
                changed = sorted(f for f in after if before.get(f) != after[f])
                assert changed and set(changed) <= set(after)
                gone = [f for f in before if f not in after]
                # and the views of the directories whose records changed
                changed = sorted(set(changed) | {v for f in changed + gone for v in views_of(f)
                                                 if os.path.exists(os.path.join(m.dir, v))})
                refresh(m, "/")
                out = rsync(m.dir, backup, "--stats")
                assert transferred(out) == changed, (round_, report)
                assert stats_line(out, "Number of regular files transferred") == len(changed)
                diff = subprocess.run(["diff", "-r", m.dir, backup], capture_output=True,
                                      text=True)
                assert diff.returncode == 0, diff.stdout[:2000]
                seen_same_size += same_size_koreai(before, after)
                if seen_same_size:
                    break
            assert seen_same_size, "no advance changed a Kore.ai record and kept its size"
            assert set(seen_same_size) <= set(changed)


# ---- 8. tar --listed-incremental; inode numbers ----

def tar_listing(archive):
    out = subprocess.run(["tar", "-tvf", archive], capture_output=True, text=True, timeout=60)
    assert out.returncode == 0, out.stderr
    return [line for line in out.stdout.splitlines() if line.strip()]


def tar_incremental(src, archive, snar):
    out = subprocess.run(["tar", "--listed-incremental=" + snar, "--no-check-device", "-cf",
                          archive, "-C", src, "."], capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stderr


def inode_map(root):
    st = lstat_all(root)
    inodes = {p: s.st_ino for p, s in st.items()}
    assert inodes["."] == 1
    assert len(set(inodes.values())) == len(inodes), "two paths share an inode number"
    return inodes, {p: s.st_mtime_ns for p, s in st.items()}


def test_tar_listed_incremental_across_a_remount_dumps_no_unchanged_file():
    with temp_dir("cfs-tar-") as work, Sim(*SMALL, seed=68) as sim:
        cache = os.path.join(work, "cache")
        snar = os.path.join(work, "snar")
        with Mount(sim.config_path, cache_dir=cache) as m:
            walk(m.dir)  # every record seen before the first dump starts
            ino1, mtime1 = inode_map(m.dir)
            time.sleep(1.1)
            tar_incremental(m.dir, os.path.join(work, "a1.tar"), snar)
            files1 = [line for line in tar_listing(os.path.join(work, "a1.tar"))
                      if not line.startswith("d")]
            assert len(files1) > 40
        with Mount(sim.config_path, cache_dir=cache) as m:
            tar_incremental(m.dir, os.path.join(work, "a2.tar"), snar)
            ino2, mtime2 = inode_map(m.dir)
        listed = tar_listing(os.path.join(work, "a2.tar"))
        assert listed and [line for line in listed if not line.startswith("d")] == [], listed
        assert ino2 == ino1
        assert mtime2 == mtime1

        # inode numbers come from the path: the same without a disk cache
        with Mount(sim.config_path, cache_dir="none") as m:
            ino3, _ = inode_map(m.dir)
        with Mount(sim.config_path, cache_dir="none") as m:
            ino4, _ = inode_map(m.dir)
        assert ino3 == ino4
        assert ino3 == ino1


# ---- 9. finished calls are fetched once ----

def truedy_final(call):
    return call["status"] in TRUEDY_FINAL and not (call["status"] == "completed" and
                                                   call["transcript"] is None)


def read_calls(m, batches):
    for b in batches:
        d = m.path(campaign_dir("truedy", b), "calls")
        for name in sorted(os.listdir(d)):
            with open(os.path.join(d, name), "rb") as f:
                f.read()


def call_requests(sim, since):
    """{call id: requests} of GET /calls/{id} since the log entry since."""
    out = {}
    for r in sim.requests(since)["requests"]:
        if r["provider"] == "truedy" and re.search(r"/calls/[^/?]+$", r["path"].split("?")[0]):
            cid = r["path"].split("?")[0].rsplit("/", 1)[1]
            out[cid] = out.get(cid, 0) + 1
    return out


def assert_refetched_once_each(sim, mark, open_ids, when):
    """The refreshes run in the background: waits for them, then for quiet,
    and asserts that exactly the calls open_ids were asked, once each."""
    wait_for(lambda: set(call_requests(sim, mark)) >= set(open_ids), limit=20,
             what="the unfinished calls refetched " + when)
    wait_quiet(sim, quiet=0.5)
    assert call_requests(sim, mark) == open_ids


def test_finished_truedy_calls_are_fetched_once_in_a_mount_and_after_a_remount():
    with temp_dir("cfs-cache-") as cache, Sim(*NO_LIMITS, "--campaigns", "3", "--contacts",
                                               "10", "--calls", "3", "--big-contacts", "10",
                                               seed=95) as sim:
        sim.advance(20)  # new calls whose transcript is still to come
        batches = [b for b in sim.dump("truedy")["campaigns"] if b["calls"]]
        calls = [c for b in batches for c in b["calls"]]
        open_ids = {c["id"]: 1 for c in calls if not truedy_final(c)}
        assert open_ids and len(open_ids) < len(calls), (len(open_ids), len(calls))
        with Mount(sim.config_path, ttl=1, cache_dir=cache, extra=()) as m:
            mark = log_mark(sim)
            read_calls(m, batches)
            assert call_requests(sim, mark) == {c["id"]: 1 for c in calls}
            time.sleep(1.2)  # past every call's TTL
            mark = log_mark(sim)
            read_calls(m, batches)
            # only the unfinished ones asked again, once each
            assert_refetched_once_each(sim, mark, open_ids, "in the background")
            refetched = time.time()
            settle(m)
        sleep_past(refetched + 1.1)
        with Mount(sim.config_path, ttl=1, cache_dir=cache, extra=()) as m:
            mark = log_mark(sim)
            read_calls(m, batches)
            assert_refetched_once_each(sim, mark, open_ids, "after the remount")
            # .campaignfs/refresh still refetches a finished one
            done = next(c for c in calls if truedy_final(c))
            batch = next(b for b in batches if done in b["calls"])
            path = os.path.join(campaign_dir("truedy", batch), "calls", done["id"] + ".json")
            mark = log_mark(sim)
            refresh(m, path)
            with open(m.path(path), "rb") as f:
                f.read()
            wait_quiet(sim, quiet=0.5)
            assert call_requests(sim, mark) == {done["id"]: 1}


def test_finished_campaigns_calls_listings_are_not_refetched_altur_burki():
    with temp_dir("cfs-cache-") as cache, Sim(*NO_LIMITS, "--campaigns", "6", "--contacts", "8",
                                               "--calls", "3", "--big-contacts", "8",
                                               seed=92) as sim:
        sim.advance(1000000)  # calls in progress end (Burki: pending ones start) ...
        sim.advance(1000000)  # ... and Burki's started ones end
        altur, burki = sim.dump("altur")["campaigns"], sim.dump("burki")["campaigns"]
        for c in altur:
            assert all(x["status"] in ALTUR_CALL_FINAL for x in c["calls"]), c["id"]
        for c in burki:
            assert all(x["status"] in BURKI_CALL_FINAL for x in c["calls"]), c["id"]
        done_a = [c for c in altur if c["detail"]["status"] == "finished" and c["calls"]]
        done_b = [c for c in burki if c["detail"]["status"] in BURKI_CAMPAIGN_FINAL and
                  c["calls"]]
        live_a = [c for c in altur if c["detail"]["status"] != "finished" and c["calls"]]
        live_b = [c for c in burki if c["detail"]["status"] not in BURKI_CAMPAIGN_FINAL and
                  c["calls"]]
        assert done_a and done_b and live_a and live_b, "the dataset lacks a case"
        watched = {("altur", c["id"]): "/api/v1.0/campaigns/%s/calls" % c["id"]
                   for c in (done_a[0], live_a[0])}
        watched.update({("burki", c["id"]): "/api/v1/campaigns/%s/executions" % c["id"]
                        for c in (done_b[0], live_b[0])})
        final = {("altur", done_a[0]["id"]), ("burki", done_b[0]["id"])}

        def list_calls(m):
            for (p, cid) in watched:
                c = next(c for c in (altur if p == "altur" else burki) if c["id"] == cid)
                assert len(os.listdir(m.path(p, "campaigns", str(cid), "calls"))) == \
                    len(c["calls"])

        def check_refetches(since):
            for key, fragment in watched.items():
                if key not in final:  # a background refresh: poll for it
                    wait_for(lambda: calls_requested(sim, since, fragment), limit=20,
                             what="the refetch of %s" % (key,))
            wait_quiet(sim, quiet=0.5)
            for key, fragment in watched.items():
                n = len(calls_requested(sim, since, fragment))
                if key in final:
                    assert n == 0, (key, n)
                else:
                    assert n >= 1, (key, n)  # the control: its TTL has passed

        with Mount(sim.config_path, ttl=1, cache_dir=cache, extra=MAX_STALE_0) as m:
            list_calls(m)
            time.sleep(1.2)
            mark = log_mark(sim)
            list_calls(m)
            check_refetches(mark)
            fetched = time.time()
            settle(m)
        sleep_past(fetched + 1.1)
        with Mount(sim.config_path, ttl=1, cache_dir=cache, extra=MAX_STALE_0) as m:
            mark = log_mark(sim)
            list_calls(m)
            check_refetches(mark)
            # .campaignfs/refresh still refetches one
            p, cid = sorted(final)[0]
            mark = log_mark(sim)
            refresh(m, os.path.join(p, "campaigns", str(cid), "calls"))
            os.listdir(m.path(p, "campaigns", str(cid), "calls"))
            wait_quiet(sim, quiet=0.5)
            assert len(calls_requested(sim, mark, watched[(p, cid)])) >= 1
