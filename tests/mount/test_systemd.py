"""The systemd side: Type=notify readiness (READY=1 arrives when the mount is
already in /proc/mounts, STOPPING=1 after fusermount3 -u), `meson install`
puts the binary and units where documented, and systemd-analyze verify
accepts the example mount units."""
import os
import shutil
import socket
import subprocess
import tempfile

import pytest

from mountlib import CAMPAIGNFS, is_mounted
from mountlib import cache_home_in_tmp  # noqa: F401  (autouse: no disk cache in ~/.cache)

BUILD = os.path.dirname(os.path.dirname(os.path.abspath(CAMPAIGNFS)))
SRC = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


def test_ready_after_mount_and_stopping_after_unmount(sim):
    d = tempfile.mkdtemp(prefix="cfs-notify-")
    mnt = tempfile.mkdtemp(prefix="cfs-mnt-")
    path = os.path.join(d, "notify")
    s = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
    s.bind(path)
    s.settimeout(15)
    proc = subprocess.Popen([CAMPAIGNFS, "-f", "-o", "config=" + sim.config_path, mnt],
                            env=dict(os.environ, NOTIFY_SOCKET=path),
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    try:
        assert s.recv(4096) == b"READY=1"
        assert is_mounted(mnt), "READY=1 came before the mount"
        assert subprocess.run(["fusermount3", "-u", mnt]).returncode == 0
        assert s.recv(4096) == b"STOPPING=1"
        assert proc.wait(timeout=10) == 0
    finally:
        if is_mounted(mnt) and subprocess.run(["fusermount3", "-u", mnt]).returncode:
            subprocess.run(["fusermount3", "-uz", mnt])
        if proc.poll() is None:
            proc.kill()
        proc.wait()
        s.close()
        shutil.rmtree(d)
        os.rmdir(mnt)


@pytest.fixture(scope="module")
def destdir():
    d = tempfile.mkdtemp(prefix="cfs-destdir-")
    r = subprocess.run(["meson", "install", "-C", BUILD, "--destdir", d, "--no-rebuild"],
                       capture_output=True, text=True)
    assert r.returncode == 0, r.stdout + r.stderr
    yield d
    shutil.rmtree(d)


def test_install_places(destdir):
    prefix = os.path.join(destdir, "usr/local")
    assert os.access(os.path.join(prefix, "bin/campaignfs"), os.X_OK)
    unit = os.path.join(prefix, "lib/systemd/user/campaignfs@.service")
    with open(unit) as f:
        text = f.read()
    assert "ExecStart=/usr/local/bin/campaignfs -f " in text
    assert "Type=notify" in text
    for name in ("mnt-campaigns.mount", "mnt-campaigns.automount"):
        assert os.path.exists(os.path.join(prefix, "share/doc/campaignfs/examples", name))


@pytest.mark.skipif(not shutil.which("systemd-analyze"), reason="systemd-analyze is not installed")
def test_systemd_analyze_verify(destdir):
    ex = os.path.join(destdir, "usr/local/share/doc/campaignfs/examples")
    d = tempfile.mkdtemp(prefix="cfs-units-")
    try:
        for name in ("mnt-campaigns.mount", "mnt-campaigns.automount"):
            shutil.copy(os.path.join(ex, name), d)
        # an instance of the installed template, its binary the build's (the
        # installed path does not exist on this machine)
        with open(os.path.join(destdir, "usr/local/lib/systemd/user/campaignfs@.service")) as f:
            text = f.read().replace("/usr/local/bin/campaignfs", os.path.abspath(CAMPAIGNFS))
        with open(os.path.join(d, "campaignfs@test.service"), "w") as f:
            f.write(text)
        units = [os.path.join(d, n) for n in sorted(os.listdir(d))]
        r = subprocess.run(["systemd-analyze", "verify", "--man=no", *units],
                           capture_output=True, text=True)
        assert r.returncode == 0 and not r.stderr.strip(), r.stdout + r.stderr
    finally:
        shutil.rmtree(d)
