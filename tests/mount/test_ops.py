"""Operating a mount: .campaignfs/status (hidden, JSON, progress of the
fetches in flight), .campaignfs/refresh and SIGHUP (request counts show the
refetch; the mount stays), extended attributes (getfattr, rsync -aX), log
levels and the log file, -o uid/gid/umask, and a daemonized mount whose
first fetch fails."""
import errno
import json
import os
import re
import signal
import subprocess
import tempfile
import threading
import time

import pytest

from campaignfs_sim import Sim
from mountlib import CAMPAIGNFS, Mount, is_mounted, wait_for, wait_quiet
from mountlib import cache_home_in_tmp  # noqa: F401  (autouse: no disk cache in ~/.cache)
from test_secrets import secrets_of

ACCOUNT_KEYS = {"name": str, "provider": str, "url": str, "rate_limit_per_second": (int, float),
                "concurrency": int, "requests": int, "bytes": int, "retries": int,
                "rate_limited": int, "rate_wait_seconds": (int, float), "errors": dict,
                "cached": dict, "fetches": list}
FETCH_KEYS = {"path": str, "pages_done": int, "pages_total": int, "records": int,
              "records_total": int, "bytes": int, "started_at": str, "seconds": (int, float)}


@pytest.fixture(scope="module")
def sim():
    with Sim("--rate-limit", "altur=0", "--rate-limit", "truedy=0", "--contacts", "30",
             "--big-contacts", "250", "--calls", "3", seed=43) as s:
        yield s


def status(m):
    with open(m.path(".campaignfs", "status")) as f:
        return json.load(f)


def account(doc, name):
    return next(a for a in doc["accounts"] if a["name"] == name)


def requests_of(sim, since, fragment):
    return [r for r in sim.requests(since)["requests"] if fragment in r["path"]]


def log_count(sim):
    return sim.requests()["next"]


def big_campaign(sim, provider="altur"):
    return max(sim.dump(provider)["campaigns"], key=lambda c: len(c["contacts"]))


def test_status_is_hidden_json_with_progress_of_what_is_in_flight(sim):
    big = big_campaign(sim)
    with Mount(sim.config_path) as m:
        assert ".campaignfs" not in os.listdir(m.dir)
        assert sorted(os.listdir(m.path(".campaignfs"))) == ["refresh", "status"]
        doc = status(m)
        assert doc["version"] and doc["pid"] == m.proc.pid and doc["uptime_seconds"] >= 0
        assert [a["name"] for a in doc["accounts"]] == ["altur", "burki", "truedy", "koreai"]
        for a in doc["accounts"]:
            for key, kind in ACCOUNT_KEYS.items():
                assert isinstance(a[key], kind), (key, a)
        os.listdir(m.path("altur", "campaigns"))
        # 250 contacts, 100 a page: page 0 tells the total, 1 and 2 are held
        page = "/campaigns/%s/contacts?pageIndex=%%d&" % big["id"]
        sim.hold(page % 1)
        sim.hold(page % 2)
        lister = threading.Thread(target=os.listdir,
                                  args=(m.path("altur", "campaigns", str(big["id"]), "contacts"),))
        lister.start()
        try:
            want = "altur/campaigns/%s/contacts" % big["id"]
            wait_for(lambda: sim.stats()["held"] >= 2, what="two held pages")
            f = wait_for(lambda: [f for f in account(status(m), "altur")["fetches"]
                                  if f["path"] == want], what="the fetch in the status")[0]
            for key, kind in FETCH_KEYS.items():
                assert isinstance(f[key], kind), (key, f)
            assert (f["pages_done"], f["pages_total"]) == (1, 3)
            assert (f["records"], f["records_total"]) == (100, 250)
            shown = subprocess.run([CAMPAIGNFS, "--status", m.dir], capture_output=True,
                                   text=True, timeout=30)
            assert shown.returncode == 0, shown
            assert want in shown.stdout and "altur" in shown.stdout
            after = shown.stdout.split(want, 1)[1]
            assert "33%" in after and "1/3 pages" in after and "100/250" in after, shown.stdout
            assert "ETA" in after
            sim.release(page % 1)  # progress moves while page 2 is still held
            f = wait_for(lambda: [f for f in account(status(m), "altur")["fetches"]
                                  if f["path"] == want and f["pages_done"] == 2],
                         what="page 2 of 3 in the status")[0]
            assert f["records"] == 200
        finally:
            sim.release()
            lister.join(timeout=30)
        wait_quiet(sim, quiet=0.5)
        a = account(status(m), "altur")
        assert a["fetches"] == []
        assert a["cached"]["listings"] >= 2 and a["cached"]["bytes"] > 0
        assert a["requests"] == len([r for r in sim.requests()["requests"]
                                     if r["key"] == sim.key_of("altur")])
        with pytest.raises(OSError) as e:
            open(m.path(".campaignfs", "status"), "w")
        assert e.value.errno in (errno.EROFS, errno.EACCES)


def test_status_watch_redraws_until_interrupted(sim):
    with Mount(sim.config_path) as m:
        # as from a terminal: a run started in the background (SIGINT ignored,
        # which --watch keeps, like any job control aware program) must not
        # make ^C a no-op here
        w = subprocess.Popen([CAMPAIGNFS, "--status", "--watch", m.dir], stdout=subprocess.PIPE,
                             stderr=subprocess.PIPE, text=True,
                             preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL))
        time.sleep(2.5)
        w.send_signal(signal.SIGINT)
        out, err = w.communicate(timeout=10)
        assert w.returncode == 0, err
        assert out.count("pid %d" % m.proc.pid) >= 2, out  # at least two frames


def test_status_of_something_else_is_a_clear_error():
    d = tempfile.mkdtemp()
    out = subprocess.run([CAMPAIGNFS, "--status", d], capture_output=True, text=True)
    assert out.returncode == 1 and d in out.stderr
    os.rmdir(d)


def test_refresh_file_and_sighup_refetch_and_keep_the_mount(sim):
    campaigns = sorted(sim.dump("altur")["campaigns"], key=lambda c: len(c["contacts"]))
    one, two = (str(c["id"]) for c in campaigns[:2])
    with Mount(sim.config_path, extra=("-o", "loglevel=info")) as m:
        first = m.path("altur", "campaigns", one, "contacts")
        second = m.path("altur", "campaigns", two, "contacts")
        names = sorted(os.listdir(first))
        os.listdir(second)
        wait_quiet(sim, quiet=0.5)
        mark = log_count(sim)
        with open(m.path(".campaignfs", "refresh"), "w") as f:
            f.write("altur/campaigns/%s/contacts\n" % one)
        # shown stale while the refetch is held, then fetched again once
        sim.hold("/campaigns/%s/contacts" % one)
        assert sorted(os.listdir(first)) == names
        wait_for(lambda: sim.stats()["held"] >= 1, what="the refetch")
        sim.release()
        os.listdir(second)
        wait_quiet(sim, quiet=0.5)
        assert len(requests_of(sim, mark, "/campaigns/%s/contacts" % one)) == 1
        assert requests_of(sim, mark, "/campaigns/%s/contacts" % two) == []
        # "/" expires everything
        mark = log_count(sim)
        with open(m.path(".campaignfs", "refresh"), "w") as f:
            f.write("/\n")
        os.listdir(m.path("altur", "campaigns"))
        os.listdir(second)
        wait_quiet(sim, quiet=0.5)
        assert len(requests_of(sim, mark, "/campaigns/%s/contacts" % two)) == 1
        assert [r for r in requests_of(sim, mark, "/api/v1.0/campaigns?")] != []
        # names the listings do not hold, and paths that are not paths
        for bad, code in (("altur/campaigns/nope", errno.ENOENT), ("nope", errno.ENOENT),
                          ("altur/../burki", errno.EINVAL)):
            with pytest.raises(OSError) as e:
                with open(m.path(".campaignfs", "refresh"), "w") as f:
                    f.write(bad + "\n")
            assert e.value.errno == code, bad
        # SIGHUP: everything expires, one line in the log, the mount stays
        mark = log_count(sim)
        os.kill(m.proc.pid, signal.SIGHUP)
        wait_for(lambda: "SIGHUP" in m.stderr(), what="the SIGHUP line")
        assert is_mounted(m.dir) and m.proc.poll() is None
        os.listdir(second)
        wait_quiet(sim, quiet=0.5)
        assert len(requests_of(sim, mark, "/campaigns/%s/contacts" % two)) == 1
        assert len([line for line in m.stderr().splitlines() if "SIGHUP" in line]) == 1


def test_xattrs_with_getfattr_and_rsync(sim):
    secret = sim.creds["altur"]["api_key"]
    with Mount(sim.config_path) as m:
        c = str(big_campaign(sim)["id"])
        d = m.path("altur", "campaigns", c, "contacts")
        files = sorted(os.listdir(d))
        out = subprocess.run(["getfattr", "-d", "-m", "-", d], capture_output=True, text=True)
        assert out.returncode == 0, out
        for name in ("url", "fetched_at", "expires_at", "stale", "total"):
            assert "user.campaignfs.%s=" % name in out.stdout, out.stdout
        assert 'user.campaignfs.total="250"' in out.stdout
        assert secret not in out.stdout
        url = os.getxattr(d, "user.campaignfs.url").decode()
        assert url.startswith("http://127.0.0.1:") and "/campaigns/%s/contacts" % c in url
        f = os.path.join(d, files[0])
        names = set(os.listxattr(f))
        assert names == {"user.campaignfs." + n for n in ("url", "fetched_at", "expires_at",
                                                          "stale")}
        for n in names:  # the sizes the kernel is told are the values' own
            assert len(os.getxattr(f, n)) > 0
        assert os.getxattr(f, "user.campaignfs.stale") == b"0"
        dest = tempfile.mkdtemp(prefix="cfs-rsync-x-")
        try:
            out = subprocess.run(["rsync", "-aX", d + "/", dest + "/"], capture_output=True,
                                 text=True, timeout=120)
            assert out.returncode == 0, out
            assert sorted(os.listdir(dest)) == files
            try:
                os.setxattr(dest, "user.probe", b"1")
                takes_user_xattrs = True
            except OSError:
                takes_user_xattrs = False
            if takes_user_xattrs:
                assert os.getxattr(os.path.join(dest, files[0]), "user.campaignfs.url") == \
                    os.getxattr(f, "user.campaignfs.url")
        finally:
            subprocess.run(["rm", "-rf", dest])


DEBUG_LINE = re.compile(r"debug: \[altur\] GET http://127\.0\.0\.1:\d+/api/v1\.0/\S+: HTTP 200, "
                        r"\d+ bytes, \d+ ms, attempt 1$")


def crawl_with_log(sim, options):
    log = os.path.join(tempfile.mkdtemp(prefix="cfs-logfile-"), "campaignfs.log")
    mark = log_count(sim)
    with Mount(sim.config_path, extra=("-o", options + ",logfile=" + log)) as m:
        c = str(big_campaign(sim)["id"])
        os.listdir(m.path("altur", "campaigns", c, "contacts"))
        with open(m.path(".campaignfs", "refresh"), "w") as f:
            f.write("altur\n")
        wait_quiet(sim, quiet=0.3)
        assert m.stderr() == ""  # everything went to the file
    with open(log) as f:
        text = f.read()
    asked = len([r for r in sim.requests(mark)["requests"] if r["key"] == sim.key_of("altur")])
    return text, asked


def test_log_levels_and_the_log_file(sim):
    secrets = secrets_of(sim.config_text)
    seen = {}
    for level in ("error", "warn", "info", "debug"):
        text, asked = crawl_with_log(sim, "loglevel=" + level)
        seen[level] = text
        assert not [s for s in secrets if s in text]
        for line in text.splitlines():  # each line has its time and pid
            assert re.match(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3} campaignfs\[\d+\]: ", line)
        debug = [line for line in text.splitlines() if DEBUG_LINE.search(line)]
        assert len(debug) == (asked if level == "debug" else 0), text
    assert "refresh of /altur" in seen["info"] and "refresh of" in seen["debug"]
    assert "refresh of" not in seen["warn"] and seen["error"] == ""
    text, asked = crawl_with_log(sim, "verbose")  # the same as loglevel=debug
    assert len([line for line in text.splitlines() if DEBUG_LINE.search(line)]) == asked
    out = subprocess.run([CAMPAIGNFS, "-o", "config=%s,loglevel=loud" % sim.config_path,
                          tempfile.mkdtemp()], capture_output=True, text=True, timeout=30)
    assert out.returncode == 1 and "loglevel=loud" in out.stderr


def test_owner_and_umask_options(sim):
    with Mount(sim.config_path, extra=("-o", "uid=1234,gid=2345,umask=027")) as m:
        c = os.listdir(m.path("altur", "campaigns"))[0]
        for path, mode in ((m.dir, 0o550), (m.path("altur", "campaigns", c), 0o550),
                           (m.path("altur", "campaigns", c, "campaign.json"), 0o440),
                           (m.path(".campaignfs", "refresh"), 0o200)):
            st = os.stat(path)
            assert (st.st_uid, st.st_gid) == (1234, 2345), path
            assert st.st_mode & 0o7777 == mode, (path, oct(st.st_mode))
    with Mount(sim.config_path, extra=("-o", "uid=root,gid=root")) as m:
        assert (os.stat(m.dir).st_uid, os.stat(m.dir).st_gid) == (0, 0)
    for bad in ("uid=no-such-user-here", "gid=no-such-group-here", "umask=8"):
        out = subprocess.run([CAMPAIGNFS, "-o", "config=%s,%s" % (sim.config_path, bad),
                              tempfile.mkdtemp()], capture_output=True, text=True, timeout=30)
        assert out.returncode == 1 and bad in out.stderr, out


def test_a_daemonized_mount_whose_first_fetch_fails_says_why(sim):
    work = tempfile.mkdtemp(prefix="cfs-daemon-")
    key = sim.creds["altur"]["api_key"]
    config = os.path.join(work, "config")
    with open(config, "w") as f:
        f.write(sim.config_text.replace(key, "wrong-" + key[::-1]))
    os.chmod(config, 0o600)
    log = os.path.join(work, "campaignfs.log")
    mnt = os.path.join(work, "mnt")
    os.mkdir(mnt)
    out = subprocess.run([CAMPAIGNFS, "-o", "config=%s,logfile=%s" % (config, log), mnt],
                         capture_output=True, text=True, timeout=30)
    pid = None
    try:
        assert out.returncode == 0, out  # the daemon went to the background
        wait_for(lambda: is_mounted(mnt), what="the mount")
        with pytest.raises(PermissionError):
            os.listdir(os.path.join(mnt, "altur", "campaigns"))
        with open(os.path.join(mnt, ".campaignfs", "status")) as f:
            doc = json.load(f)
        pid = doc["pid"]
        auth = account(doc, "altur")["errors"]["auth"]
        assert auth["count"] == 1 and "401" in auth["last_message"]
        assert "credentials" in auth["last_message"]
        error = os.getxattr(os.path.join(mnt, "altur", "campaigns"), "user.campaignfs.error")
        assert b"401" in error
        with open(log) as f:
            text = f.read()
        assert "[altur]" in text and "401" in text and "error:" in text
        assert key not in text and key[::-1] not in text
    finally:
        subprocess.run(["fusermount3", "-u", mnt], capture_output=True)
        if is_mounted(mnt):
            subprocess.run(["fusermount3", "-uz", mnt], capture_output=True)
    if pid:
        wait_for(lambda: not os.path.exists("/proc/%d" % pid), what="the daemon to exit")
    subprocess.run(["rm", "-rf", work])
