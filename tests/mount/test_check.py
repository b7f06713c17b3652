"""campaignfs --check: one request per account, a line each, and an exit
status; the reasons told apart (credential, wrong URL path, unreachable,
TLS, rate limited) with what to do, never a secret."""
import os
import re
import socket
import subprocess
import tempfile

import pytest

from campaignfs_sim import Sim, make_tls_files
from conftest import PROVIDERS
from mountlib import CAMPAIGNFS
from test_secrets import secrets_of


@pytest.fixture(scope="module")
def sim():
    with Sim("--rate-limit", "truedy=0", "--campaigns", "5", seed=47) as s:
        yield s


def check(config, *extra):
    out = subprocess.run([CAMPAIGNFS, "--check", "-o", "config=" + config, *extra],
                         capture_output=True, text=True, timeout=90)
    lines = dict(line.split(": ", 1) for line in out.stdout.splitlines())
    return out, lines


def edited(sim, old, new):
    path = os.path.join(tempfile.mkdtemp(prefix="cfs-check-"), "config")
    text = sim.config_text
    assert old in text
    with open(path, "w") as f:
        f.write(text.replace(old, new, 1))
    os.chmod(path, 0o600)
    return path


def url_of(sim, provider):
    section = sim.config_text.split("[%s]" % provider, 1)[1]
    return re.search(r"^url\s*=\s*(\S+)", section, re.M).group(1)


def test_a_good_config_is_ok_with_one_request_an_account(sim):
    mark = sim.requests()["next"]
    out, lines = check(sim.config_path)
    assert out.returncode == 0, out
    assert list(lines) == PROVIDERS
    for p in PROVIDERS:
        n = len(sim.dump(p)["campaigns"])
        assert re.match(r"ok: %d campaigns in \d+ ms \(http://127\.0\.0\.1:\d+" % n, lines[p]), \
            lines[p]
    asked = sim.requests(mark)["requests"]
    assert sorted(r["key"] for r in asked) == sorted(sim.key_of(p) for p in PROVIDERS)


def test_a_wrong_key_says_so_and_names_the_key_and_file(sim):
    key = sim.creds["burki"]["api_key"]
    config = edited(sim, key, "wrong-" + key[::-1])
    out, lines = check(config)
    assert out.returncode == 1
    assert lines["burki"].startswith("FAILED: the credential was refused")
    assert "check api_key in section [burki] of %s" % config in lines["burki"], lines["burki"]
    assert "401" in lines["burki"]
    assert [lines[p][:3] for p in PROVIDERS if p != "burki"] == ["ok:"] * 3
    for secret in secrets_of(sim.config_text) + ["wrong-" + key[::-1]]:
        assert secret not in out.stdout + out.stderr


def test_a_wrong_url_path_is_named_as_such(sim):
    url = url_of(sim, "altur")
    out, lines = check(edited(sim, url, url + "/typo"))
    assert out.returncode == 1
    assert "path of url = is probably wrong" in lines["altur"], lines["altur"]
    assert "/typo/campaigns" in lines["altur"]


def test_an_unreachable_port_is_named_as_such(sim):
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    url = url_of(sim, "truedy")
    dead = re.sub(r":\d+", ":%d" % port, url, count=1)
    out, lines = check(edited(sim, url, dead), "-o", "timeout=5")
    assert out.returncode == 1
    assert lines["truedy"].startswith("FAILED: nothing answers at the account's url"), lines
    assert ":%d/" % port in lines["truedy"]


def test_rate_limited_and_untrusted_tls_are_named(sim):
    sim.override("/api/v1.0/campaigns?", status=429, headers={"Retry-After": "3600"})
    try:
        out, lines = check(sim.config_path, "-o", "timeout=2")
    finally:
        sim.clear_overrides()
    assert out.returncode == 1 and lines["altur"].startswith("FAILED: rate limited"), lines
    tls = make_tls_files(tempfile.mkdtemp(prefix="cfs-check-tls-"))
    with Sim("--rate-limit", "truedy=0", seed=48, tls_cert=tls["cert"], tls_key=tls["key"],
             tls_ca=tls["ca"]) as https:
        out, lines = check(https.config_path)
    assert out.returncode == 1
    assert all(lines[p].startswith("FAILED: the server's TLS certificate is not trusted")
               for p in PROVIDERS), lines


def test_a_config_error_names_the_file():
    missing = os.path.join(tempfile.mkdtemp(), "nope.conf")
    out = subprocess.run([CAMPAIGNFS, "--check", "-o", "config=" + missing],
                         capture_output=True, text=True, timeout=30)
    assert out.returncode == 1 and missing in out.stderr and out.stdout == ""
