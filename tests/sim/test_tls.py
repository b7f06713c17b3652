"""--tls-cert/--tls-key: HTTPS with libmicrohttpd's TLS, verified against a
throwaway CA made with the openssl command (curl --cacert accepts it, curl
without it refuses); https:// in --config-out and the banner; the helpers
speak HTTPS; bad TLS options fail clearly."""

import json
import shutil
import ssl
import subprocess
import time
import urllib.request

import pytest

from campaignfs_sim import Sim, make_tls_files, sim_binary
from conftest import NO_LIMITS

pytestmark = pytest.mark.skipif(not shutil.which("openssl"), reason="no openssl command")


@pytest.fixture(scope="module")
def tls(tmp_path_factory):
    return make_tls_files(tmp_path_factory.mktemp("tls"))


@pytest.fixture(scope="module")
def https_sim(tls):
    with Sim(*NO_LIMITS, tls_cert=tls["cert"], tls_key=tls["key"], tls_ca=tls["ca"]) as s:
        yield s


def test_config_banner_and_helpers(https_sim):
    s = https_sim
    assert s.base == f"https://127.0.0.1:{s.port}"
    assert s.creds["altur"]["url"] == f"https://127.0.0.1:{s.port}/api/v1.0"
    assert s.creds["burki"]["url"] == f"https://127.0.0.1:{s.port}"
    assert s.creds["truedy"]["url"] == f"https://127.0.0.1:{s.port}/api/public/v1"
    assert s.creds["koreai"]["url"] == f"https://127.0.0.1:{s.port}"
    deadline = time.monotonic() + 5
    while "listening" not in s.stdout_text() and time.monotonic() < deadline:
        time.sleep(0.02)
    assert s.stdout_text() == f"campaignfs-sim: listening on https://127.0.0.1:{s.port}\n"
    assert s.json("truedy", "GET", "/batch-calls")["pagination"]["total"] == 4
    assert s.stats()["total_requests"] == 1


def test_python_verifies_against_the_ca(https_sim, tls):
    url = f"{https_sim.base}/api/v1/campaigns/"
    req = urllib.request.Request(url, headers=https_sim.auth_headers("burki"))
    ctx = ssl.create_default_context(cafile=tls["ca"])
    with urllib.request.urlopen(req, context=ctx, timeout=10) as r:
        assert r.status == 200 and json.loads(r.read())["pagination"]["page"] == 1
    with pytest.raises(urllib.error.URLError) as e:
        urllib.request.urlopen(req, context=ssl.create_default_context(), timeout=10)
    assert isinstance(e.value.reason, ssl.SSLCertVerificationError)


@pytest.mark.skipif(not shutil.which("curl"), reason="no curl command")
def test_curl(https_sim, tls):
    s = https_sim
    url = f"{s.base}/api/v1.0/campaigns"
    auth = f"Authorization: api-key {s.creds['altur']['api_key']}"
    r = subprocess.run(["curl", "-sS", "--cacert", tls["ca"], "-H", auth, url],
                       capture_output=True, text=True, timeout=30)
    assert r.returncode == 0, r.stderr
    assert json.loads(r.stdout)["total_count"] == 4
    r = subprocess.run(["curl", "-sS", "-H", auth, url], capture_output=True, text=True,
                       timeout=30)
    assert r.returncode == 60, (r.returncode, r.stderr)  # peer certificate cannot be verified
    # and plain HTTP on the HTTPS port is no answer
    r = subprocess.run(["curl", "-sS", "-H", auth, url.replace("https:", "http:")],
                       capture_output=True, text=True, timeout=30)
    assert r.returncode != 0 or not r.stdout.startswith("{")


def test_faults_and_overrides_over_tls(https_sim):
    s = https_sim
    s.override("/tls-reset-check", status=503, body="down", count=1)
    status, _, body = s.request("altur", "GET", "/tls-reset-check")
    assert (status, body) == (503, b"down")
    s.set_faults("reset=1")
    try:
        with pytest.raises(Exception):
            s.request("altur", "GET", "/campaigns")
    finally:
        s.set_faults("")
    assert s.stats()["faults"]["altur"]["reset"] == 1


def run(*args):
    return subprocess.run([sim_binary(), *args], capture_output=True, text=True, timeout=20)


def test_bad_tls_options(tls, tmp_path):
    r = run("--tls-cert", tls["cert"])
    assert r.returncode == 2 and "--tls-key" in r.stderr
    r = run("--tls-key", tls["key"])
    assert r.returncode == 2 and "--tls-cert" in r.stderr
    r = run("--tls-cert", str(tmp_path / "missing.pem"), "--tls-key", tls["key"])
    assert r.returncode == 2 and "--tls-cert" in r.stderr and "missing.pem" in r.stderr
    junk = tmp_path / "junk.pem"
    junk.write_text("not a certificate\n")
    r = run("--tls-cert", str(junk), "--tls-key", tls["key"])
    assert r.returncode == 1 and "HTTPS" in r.stderr and "junk.pem" in r.stderr, r.stderr
    # a key that is not the certificate's
    (tmp_path / "other").mkdir()
    other = make_tls_files(tmp_path / "other")
    r = run("--tls-cert", tls["cert"], "--tls-key", other["key"])
    assert r.returncode == 1 and "HTTPS" in r.stderr, r.stderr
