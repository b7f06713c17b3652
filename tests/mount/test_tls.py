"""TLS: verification is always on.  A server whose certificate a private CA
signed is refused, with a message that names cacert, until the account
names that CA; then every provider lists over HTTPS."""
import errno
import os
import re
import tempfile

from campaignfs_sim import Sim, make_tls_files
from mountlib import Mount


def with_cacert(config_text, ca):
    return re.sub(r"^(\[[^\]]+\])$", r"\1\ncacert = %s" % ca, config_text, flags=re.M)


def test_a_private_ca_is_refused_until_cacert_names_it():
    tls_dir = tempfile.mkdtemp(prefix="cfs-tls-")
    files = make_tls_files(tls_dir)
    with Sim("--rate-limit", "truedy=0", tls_cert=files["cert"], tls_key=files["key"],
             tls_ca=files["ca"], seed=61) as sim:
        assert "url = https://127.0.0.1:" in sim.config_text
        with Mount(sim.config_path, log_errors=True) as m:
            try:
                os.listdir(m.path("altur", "campaigns"))
                raise AssertionError("listed over a certificate that does not verify")
            except OSError as e:
                assert e.errno == errno.EIO
            log = m.stderr()
        assert "does not verify" in log and "cacert" in log
        assert log.count("[altur] GET") == 1  # not asked again: the certificate stays the same

        conf = os.path.join(tls_dir, "with-ca.conf")
        with open(conf, "w") as f:
            f.write(with_cacert(sim.config_text, files["ca"]))
        os.chmod(conf, 0o600)
        with Mount(conf) as m:
            for p in ("altur", "burki", "truedy", "koreai"):
                want = sorted(str(c["id"]) for c in sim.dump(p)["campaigns"])
                assert sorted(os.listdir(m.path(p, "campaigns"))) == want, p
