"""Same seed and options -> byte-identical answers for the same request
sequence, across processes; a different seed -> different data."""

import hashlib

from campaignfs_sim import Sim
from conftest import NO_LIMITS


def script(sim):
    """A fixed request sequence over all providers; returns the raw answers."""
    out = []
    ids = {p: [c["id"] for c in sim.dump(p)["campaigns"]] for p in
           ("altur", "burki", "truedy", "koreai")}

    def ask(*args, **kw):
        status, headers, body = sim.request(*args, **kw)
        out.append((status, headers.get("Content-Type"), headers.get("Location"), body))

    for round_ in range(2):
        ask("altur", "GET", "/campaigns", query={"pageSize": 2})
        ask("altur", "GET", f"/campaigns/{ids['altur'][1]}/contacts", query={"pageIndex": 3})
        ask("altur", "GET", f"/campaigns/{ids['altur'][1]}/calls", query={"pageSize": 100})
        ask("altur", "GET", f"/campaigns/{ids['altur'][2]}")
        ask("burki", "GET", "/campaigns/")
        ask("burki", "GET", f"/campaigns/{ids['burki'][1]}/contacts", query={"per_page": 1000})
        ask("burki", "GET", f"/campaigns/{ids['burki'][2]}/executions")
        ask("truedy", "GET", "/batch-calls")
        ask("truedy", "GET", f"/batch-calls/{ids['truedy'][2]}/contacts")
        ask("truedy", "GET", "/calls/call_missing")
        ask("koreai", "POST", "/campaign/getAllCampaignDetails", body={"type": "voice"})
        ask("koreai", "POST", f"/campaign/{ids['koreai'][1]}/status",
            query={"view": "contacts"}, body={"page": 2, "limit": 100})
        ask("altur", "GET", "/campaigns", query={"pageSize": 1000})  # a 400
        out.append(("advance", sim.advance(7 + round_)))
    for p in ids:
        out.append(("dump", p, sim.dump(p)))
    return out


def test_same_seed_same_bytes():
    runs = []
    for _ in range(2):
        with Sim(*NO_LIMITS, seed=42) as s:
            creds = {p: {k: v for k, v in c.items() if k != "url"} for p, c in s.creds.items()}
            runs.append((script(s), creds))
    assert runs[0][1] == runs[1][1], "credentials are derived from the seed"
    assert runs[0][0] == runs[1][0]


def digest(sim):
    return {p: hashlib.sha256(repr(sim.dump(p)).encode()).hexdigest()
            for p in ("altur", "burki", "truedy", "koreai")}


def test_different_seed_different_data():
    with Sim(*NO_LIMITS, seed=1) as a, Sim(*NO_LIMITS, seed=2) as b:
        da, db = digest(a), digest(b)
        assert all(da[p] != db[p] for p in da)
        assert a.creds["altur"]["api_key"] != b.creds["altur"]["api_key"]
        assert a.creds["koreai"]["client_secret"] != b.creds["koreai"]["client_secret"]
        # and each simulator refuses the other's key
        status, _, _ = a.request("altur", "GET", "/campaigns",
                                 headers=b.auth_headers("altur"))
        assert status == 401
