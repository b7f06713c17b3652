"""mount(8) finds campaignfs: `mount -t fuse.campaignfs` and `mount -T FSTAB`
with the issue's fstab line (util-linux -> /sbin/mount.fuse -> `campaignfs`
from PATH); the daemon runs in the background and exits after unmount."""
import os
import subprocess
import tempfile
import time

import pytest

from mountlib import CAMPAIGNFS, is_mounted, wait_for
from mountlib import cache_home_in_tmp  # noqa: F401  (autouse: no disk cache in ~/.cache)

LINE = ("campaignfs {mnt} fuse.campaignfs "
        "config={conf},_netdev,nofail,x-systemd.automount,noauto 0 0\n")


# mount(8) drops PATH before it runs /sbin/mount.fuse, whose /bin/sh then
# searches dash's built-in PATH (/usr/local/sbin:/usr/local/bin:/usr/sbin:
# /usr/bin:/sbin:/bin): the build's binary must be /usr/local/bin/campaignfs,
# where `meson install` puts it.  The link is made only if nothing is there.
LINK = "/usr/local/bin/campaignfs"


@pytest.fixture
def env_dir():
    target = os.path.abspath(CAMPAIGNFS)
    made = False
    if os.path.lexists(LINK):
        assert os.path.realpath(LINK) == os.path.realpath(target), (
            "%s is another campaignfs; mount would run it, not the build's" % LINK)
    else:
        os.symlink(target, LINK)
        made = True
    d = tempfile.mkdtemp(prefix="cfs-fstab-")
    mnt = tempfile.mkdtemp(prefix="cfs-mnt-")
    try:
        yield dict(os.environ), mnt, d
    finally:
        if is_mounted(mnt) and subprocess.run(["fusermount3", "-u", mnt]).returncode:
            subprocess.run(["fusermount3", "-uz", mnt])
        os.rmdir(mnt)
        os.rmdir(d)
        if made:
            os.unlink(LINK)


def daemons(mnt):
    """The pids of campaignfs processes serving mnt (from /proc: a fresh
    Debian 12 has no pgrep)."""
    found = []
    for pid in os.listdir("/proc"):
        try:
            with open("/proc/%s/cmdline" % pid, "rb") as f:
                argv = f.read().split(b"\0")
        except OSError:
            continue
        if argv and argv[0].endswith(b"campaignfs") and mnt.encode() in argv:
            found.append(pid)
    return found


def check_and_unmount(sim, mnt, result):
    assert result.returncode == 0, "mount failed: %s%s" % (result.stdout, result.stderr)
    assert is_mounted(mnt)
    accounts = sorted(os.listdir(mnt))
    assert accounts == sorted(s for s in _sections(sim.config_path))
    assert subprocess.run(["fusermount3", "-u", mnt]).returncode == 0
    wait_for(lambda: not daemons(mnt), limit=10, what="the daemon to exit after unmount")


def _sections(path):
    with open(path) as f:
        return [line.strip()[1:-1] for line in f if line.strip().startswith("[")]


def test_mount_t_fuse_campaignfs(sim, env_dir):
    env, mnt, _ = env_dir
    r = subprocess.run(["mount", "-t", "fuse.campaignfs", "-o", "config=" + sim.config_path,
                        "campaignfs", mnt], env=env, capture_output=True, text=True, timeout=20)
    check_and_unmount(sim, mnt, r)


def test_mount_T_with_the_issues_fstab_line(sim, env_dir):
    env, mnt, d = env_dir
    fstab = os.path.join(d, "fstab")
    with open(fstab, "w") as f:
        f.write(LINE.format(mnt=mnt, conf=sim.config_path))
    try:
        r = subprocess.run(["mount", "-T", fstab, mnt], env=env, capture_output=True, text=True,
                           timeout=20)
        check_and_unmount(sim, mnt, r)
    finally:
        os.unlink(fstab)
