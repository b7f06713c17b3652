"""Secrets never leave the header lists: not in logs at any level (a full
crawl of the four providers at debug level), not in the files or names of
the mount, not in the process's arguments, and not in its environment
(api_key_env is scrubbed once read)."""
import os
import re
import subprocess

from campaignfs_sim import Sim, read_config
from mountlib import Mount

SECRET_KEYS = ("api_key", "client_secret", "jwt")


def secrets_of(config_text):
    out = []
    for line in config_text.splitlines():
        key, _, value = line.partition("=")
        if key.strip() in SECRET_KEYS and value.strip():
            out.append(value.strip())
    assert len(out) >= 4
    return out


def test_no_secret_in_logs_files_or_arguments():
    with Sim("--rate-limit", "altur=0", "--rate-limit", "truedy=0", "--contacts", "30",
             "--calls", "5", seed=51) as sim:
        secrets = secrets_of(sim.config_text)
        with Mount(sim.config_path, extra=("-o", "verbose")) as m:
            r = subprocess.run(["grep", "-rlF", "-e", secrets[0], m.dir], capture_output=True)
            assert r.returncode == 1, r.stdout  # read every file: no match
            names = []
            for d, dirs, files in os.walk(m.dir):
                names += dirs + files
            with open("/proc/%d/cmdline" % m.proc.pid, "rb") as f:
                cmdline = f.read().decode(errors="replace")
            log = m.stderr()
        assert "[altur] GET" in log and "[koreai] POST" in log  # requests were logged
        for s in secrets:
            assert s not in log
            assert s not in cmdline
            assert not any(s in n for n in names)
        # nor a Kore.ai token signed from its secret (a JWT starts "eyJ")
        assert not re.search(r"eyJ[A-Za-z0-9_-]{10,}", log)


def test_api_key_env_is_scrubbed_from_the_environment():
    with Sim(seed=52) as sim:
        key = read_config(sim.config_text)["burki"]["api_key"]
        conf = os.path.join(os.path.dirname(sim.config_path), "env.conf")
        with open(conf, "w") as f:
            f.write("[burki]\nprovider = burki\nurl = %s\napi_key_env = CFS_TEST_BURKI_KEY\n"
                    % read_config(sim.config_text)["burki"]["url"])
        os.chmod(conf, 0o600)
        os.environ["CFS_TEST_BURKI_KEY"] = key
        try:
            with Mount(conf) as m:
                assert os.listdir(m.path("burki", "campaigns"))  # the key works
                with open("/proc/%d/environ" % m.proc.pid, "rb") as f:
                    environ = f.read()
        finally:
            del os.environ["CFS_TEST_BURKI_KEY"]
        assert key.encode() not in environ
