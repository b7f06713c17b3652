"""An outage: the simulator stops in the middle of a crawl whose listings
have expired.  Every operation still returns, the previous complete
listings are served (and the failure logged), a directory never fetched
fails with EIO instead of showing empty, an `rsync -a --delete` backup made
during the outage deletes nothing, and a restarted simulator heals the
mount on the next refresh."""
import errno
import os
import subprocess
import tempfile
import threading
import time

from campaignfs_sim import Sim
from mountlib import Mount, wait_for

SIM_ARGS = ("--rate-limit", "altur=0", "--rate-limit", "truedy=0", "--contacts", "250",
            "--calls", "20")


def snapshot(root):
    files = {}
    for d, _, names in os.walk(root):
        for n in names:
            p = os.path.join(d, n)
            with open(p, "rb") as f:
                files[os.path.relpath(p, root)] = f.read()
    return files


def rsync(src, dst):
    return subprocess.run(["rsync", "-a", "--delete", src + "/", dst + "/"],
                          capture_output=True, text=True, timeout=300)


def test_outage_serves_the_last_listings_and_heals():
    sim = Sim(*SIM_ARGS, seed=31)
    restarted = None
    backup = tempfile.mkdtemp(prefix="cfs-backup-")
    try:
        with Mount(sim.config_path, ttl=2, extra=("-o", "timeout=3"), log_errors=True) as m:
            root = m.path("altur")
            before = snapshot(root)
            assert len(before) > 250
            assert rsync(root, backup).returncode == 0
            time.sleep(2.2)  # every listing has expired

            # the simulator goes away while a crawl is under way
            during, errors = {}, []

            def crawl():
                try:
                    during.update(snapshot(root))
                except OSError as e:
                    errors.append(e)
            walker = threading.Thread(target=crawl)
            walker.start()
            time.sleep(0.2)
            sim.stop()
            walker.join(120)
            assert not walker.is_alive(), "an operation did not return during the outage"
            assert errors == []
            assert during == before  # the previous complete listings, byte for byte

            # still down: the same again, after the refresh failed for sure
            def refresh_failed():
                os.listdir(root + "/campaigns")  # past the TTL: a refresh, which fails
                return "still showing the previous listing" in m.stderr()
            wait_for(refresh_failed, what="the failed refresh")
            assert snapshot(root) == before
            # marked stale, with the reason
            contacts = os.path.dirname(os.path.join(root, min(k for k in before
                                                             if "/contacts/" in k)))
            # (a listing whose refresh made it before the stop is stale once
            # its TTL is over again)
            wait_for(lambda: os.listdir(contacts) and
                     os.getxattr(contacts, "user.campaignfs.stale") == b"1",
                     what="the contacts to be marked stale")

            def campaign_list_failed():
                os.listdir(root + "/campaigns")
                return "user.campaignfs.error" in os.listxattr(root + "/campaigns")
            wait_for(campaign_list_failed, what="the campaign list's refresh to fail")
            assert os.getxattr(root + "/campaigns", "user.campaignfs.stale") == b"1"
            assert b"[altur]" in os.getxattr(root + "/campaigns", "user.campaignfs.error")
            # a directory never fetched is an error, not an empty directory
            never = m.path("burki", "campaigns")
            try:
                os.listdir(never)
                raise AssertionError("listed %s during the outage" % never)
            except OSError as e:
                assert e.errno == errno.EIO
            # a backup during the outage deletes nothing
            r = rsync(root, backup)
            assert r.returncode == 0, r.stderr
            assert snapshot(backup) == before

            # the simulator is back on the same port: the next refresh heals
            restarted = Sim(*SIM_ARGS, "--listen", "127.0.0.1:%d" % sim.port, seed=31)
            assert restarted.port == sim.port

            def healed():
                try:
                    os.listdir(never)  # fails while the failure's backoff lasts
                except OSError:
                    return False
                return snapshot(root) == before and restarted.stats()["total_requests"] > 0
            assert wait_for(healed, limit=60, what="the mount to heal")
            def fresh_again():
                # an access asks for the refresh (getxattr alone loads nothing);
                # under load the walk above may have been answered by the kernel
                os.listdir(root + "/campaigns")
                return os.getxattr(root + "/campaigns", "user.campaignfs.stale") == b"0"
            assert wait_for(fresh_again, what="the campaign list to be fresh again")
            try:
                os.getxattr(root + "/campaigns", "user.campaignfs.error")
                raise AssertionError("an error is still shown after the refresh")
            except OSError as e:
                assert e.errno == errno.ENODATA
            assert sorted(os.listdir(never)) == sorted(
                str(c["id"]) for c in restarted.dump("burki")["campaigns"])
    finally:
        sim.cleanup()
        if restarted:
            restarted.stop()
            restarted.cleanup()
        subprocess.run(["rm", "-rf", backup])
