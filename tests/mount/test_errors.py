"""Read-only semantics and failures: EROFS for every change, EACCES with a
clear log line for a wrong key, and configuration errors that stop the mount."""
import errno
import os
import subprocess
import tempfile

import pytest

from mountlib import CAMPAIGNFS, Mount
from mountlib import cache_home_in_tmp  # noqa: F401  (autouse: no disk cache in ~/.cache)


def test_writes_fail_with_erofs(mnt):
    d = mnt.path("altur", "campaigns")
    some = os.path.join(d, os.listdir(d)[0], "campaign.json")
    with open(some, "rb") as f:
        before = f.read()

    def append():
        # the mount takes writes for .campaignfs/refresh only: once the
        # kernel opens files itself (no_open) the write is what fails
        with open(some, "a") as f:
            f.write("x")

    attempts = [
        lambda: open(os.path.join(d, "new.json"), "w"),
        lambda: open(some, "w"),
        append,
        lambda: os.mkdir(os.path.join(d, "x")),
        lambda: os.unlink(some),
        lambda: os.rename(some, some + ".bak"),
        lambda: os.chmod(some, 0o644),
        lambda: os.utime(some, None),
        lambda: os.rmdir(os.path.dirname(some)),
        lambda: os.symlink("x", os.path.join(d, "link")),
    ]
    for attempt in attempts:
        with pytest.raises(OSError) as e:
            attempt()
        assert e.value.errno == errno.EROFS
    with open(some, "rb") as f:
        assert f.read() == before


def wrong_key_config(sim, tmp):
    text = sim.config_text
    key = sim.creds["altur"]["api_key"]
    path = os.path.join(tmp, "config")
    with open(path, "w") as f:
        f.write(text.replace(key, "wrong-" + key[::-1]))
    os.chmod(path, 0o600)
    return path, "wrong-" + key[::-1]


def test_wrong_key_gives_eacces_and_a_clear_log_line(sim):
    tmp = tempfile.mkdtemp()
    path, bad = wrong_key_config(sim, tmp)
    with Mount(path, log_errors=True) as m:
        with pytest.raises(PermissionError):
            os.listdir(m.path("altur", "campaigns"))
        # other accounts are unaffected
        assert os.listdir(m.path("burki", "campaigns"))
        log = m.stderr()
    lines = [l for l in log.splitlines() if "[altur]" in l]
    assert len(lines) == 1, log  # logged once
    line = lines[0]
    assert "GET " in line and "/api/v1.0/campaigns" in line and "401" in line
    assert "credentials" in line  # what the user can do
    assert bad not in log and sim.creds["altur"]["api_key"] not in log


def run_campaignfs(*args):
    mnt = tempfile.mkdtemp()
    try:
        return subprocess.run([CAMPAIGNFS, "-f", *args, mnt], capture_output=True, text=True,
                              timeout=20)
    finally:
        os.rmdir(mnt)


def test_bad_config_stops_the_mount_with_file_line_key():
    tmp = tempfile.mkdtemp()
    path = os.path.join(tmp, "config")
    with open(path, "w") as f:
        f.write("[a]\nprovider = altur\napi_key = k\nttl = soon\n")
    out = run_campaignfs("-o", "config=" + path)
    assert out.returncode != 0
    assert "%s:4:" % path in out.stderr and "ttl" in out.stderr
    assert len(out.stderr.strip().splitlines()) == 1


def test_missing_config_names_the_file():
    out = run_campaignfs("-o", "config=/nonexistent/campaignfs.conf")
    assert out.returncode != 0
    assert "/nonexistent/campaignfs.conf" in out.stderr


def test_help_and_version():
    out = subprocess.run([CAMPAIGNFS, "--help"], capture_output=True, text=True)
    assert out.returncode == 0 and "config=FILE" in out.stdout and "ttl=SECONDS" in out.stdout
    out = subprocess.run([CAMPAIGNFS, "--version"], capture_output=True, text=True)
    assert out.returncode == 0 and out.stdout.startswith("campaignfs ")


def test_source_argument_is_accepted(sim):
    m = Mount(sim.config_path)
    m.args.insert(-1, "anything")
    with m:
        assert sorted(os.listdir(m.dir)) == ["altur", "burki", "koreai", "truedy"]


def rewrite_config(sim, tmp, edit):
    path = os.path.join(tmp, "config")
    with open(path, "w") as f:
        f.write(edit(sim.config_text))
    os.chmod(path, 0o600)
    return path


def test_campaigns_key_shows_only_those(sim, dumps):
    ids = [c["id"] for c in dumps["burki"]["campaigns"]][:2]
    tmp = tempfile.mkdtemp()
    path = rewrite_config(sim, tmp, lambda t: t.replace(
        "[burki]\n", "[burki]\ncampaigns = %s\n" % " , ".join(ids)))
    with Mount(path) as m:
        assert sorted(os.listdir(m.path("burki", "campaigns"))) == sorted(ids)
        assert len(os.listdir(m.path("altur", "campaigns"))) == len(dumps["altur"]["campaigns"])


def test_secret_from_command_never_shows(sim):
    key = sim.creds["truedy"]["api_key"]
    tmp = tempfile.mkdtemp()
    keyfile = os.path.join(tmp, "truedy.key")
    with open(keyfile, "w") as f:
        f.write(key + "\n")
    os.chmod(keyfile, 0o600)
    path = rewrite_config(sim, tmp, lambda t: t.replace(
        "api_key = %s\n" % key, "api_key_command = cat %s\n" % keyfile))
    with Mount(path) as m:
        assert os.listdir(m.path("truedy", "campaigns"))
        with open("/proc/%d/cmdline" % m.proc.pid, "rb") as f:
            assert key.encode() not in f.read()
        out = subprocess.run(["grep", "-rqF", key, m.dir], capture_output=True)
        assert out.returncode == 1  # nowhere in the file system
        assert key not in m.stderr()
