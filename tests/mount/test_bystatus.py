"""Contacts by status (#16 item 6): contacts/by-status/<status>/ holds the
contacts of that status, listed through the provider's own status= filter
(Altur, Burki, Truedy) or filtered here from the whole listing (Kore.ai);
its files are contacts/'s files (same bytes, same inode numbers), and it is
reached by name only, so find, rsync and grep -r see each contact once."""
import json
import os
import subprocess

import pytest

from conftest import PROVIDERS
from mountlib import Mount, safe_name

# the field of a contact that holds its status, and the documented statuses
FIELD = {"altur": "status", "burki": "status", "truedy": "call_status", "koreai": "dialerOutcome"}
DOCUMENTED = {
    "altur": ["queue", "sending", "sent", "delivered", "voicemail", "read", "failed", "retrying",
              "converted", "answered", "accepted", "rejected"],
    "burki": ["pending", "in_progress", "completed", "failed", "skipped", "no_answer", "busy",
              "voicemail"],
    "truedy": ["pending", "completed"],  # the docs show examples only
    "koreai": ["completed"],
}
SERVER_FILTER = {"altur", "burki", "truedy"}


def read(path):
    with open(path, "rb") as f:
        return f.read()


def contacts_path(sim, provider):
    """The path part of the simulator's contacts endpoint, and the campaign
    with the most contacts up to 2000 (the big ones make a slow test)."""
    dump = sim.dump(provider)
    camps = [c for c in dump["campaigns"] if len(c.get("contacts") or []) <= 2000]
    return max(camps, key=lambda c: len(c.get("contacts") or []))


def contacts_requests(sim, provider, since):
    return [r for r in sim.requests(since)["requests"]
            if r["provider"] == provider and ("/contacts" in r["path"] or "/status" in r["path"])]


@pytest.mark.parametrize("provider", PROVIDERS)
def test_by_status_holds_contacts_files_of_each_status(sim, provider):
    camp = contacts_path(sim, provider)
    with Mount(sim.config_path, ttl=3600) as m:
        d = m.path(provider, "campaigns", safe_name(camp["id"], ""), "contacts")
        mark = sim.requests()["next"]
        statuses = sorted(os.listdir(os.path.join(d, "by-status")))
        by_status = {}
        for s in statuses:
            sd = os.path.join(d, "by-status", s)
            # read before contacts/ is listed: the bytes come from the filtered listing
            by_status[s] = {n: (os.stat(os.path.join(sd, n)).st_ino, read(os.path.join(sd, n)))
                            for n in sorted(os.listdir(sd))}
        asked = contacts_requests(sim, provider, mark)
        if provider in SERVER_FILTER:
            # every request was a filtered one: the whole listing was never asked for
            assert asked and all("status=" in r["path"] for r in asked), asked
            assert {r["path"].split("status=")[1].split("&")[0] for r in asked} == set(statuses)
        else:
            assert asked and not any("status=" in r["path"] for r in asked), asked
        names = sorted(os.listdir(d))
        assert "by-status" not in names
        want = {}
        for n in names:
            rec = json.loads(read(os.path.join(d, n)))
            want.setdefault(rec.get(FIELD[provider]) or "", {})[n] = (
                os.stat(os.path.join(d, n)).st_ino, read(os.path.join(d, n)))
        for s in statuses:
            assert by_status[s] == want.get(s, {}), s  # same names, inode numbers, bytes
        seen = sorted(s for s in want if s)
        if provider in ("altur", "burki"):
            assert statuses == sorted(DOCUMENTED[provider])
            assert set(seen) <= set(statuses)  # every contact is in one of them
        else:
            # documented ones, and those of the listing held (Kore.ai: always held)
            assert set(DOCUMENTED[provider]) <= set(statuses) <= set(DOCUMENTED[provider]) | \
                set(seen)
        if provider == "koreai":
            assert statuses == sorted(set(DOCUMENTED[provider]) | set(seen))
        if provider == "truedy":  # now that contacts/ is held, its statuses are listed too
            assert sorted(os.listdir(os.path.join(d, "by-status"))) == \
                sorted(set(DOCUMENTED[provider]) | set(seen))


def test_by_status_is_reached_by_name_and_walked_by_nobody(sim, tmp_path):
    camp = contacts_path(sim, "altur")
    with Mount(sim.config_path, ttl=3600) as m:
        cdir = m.path("altur", "campaigns", safe_name(camp["id"], ""))
        contacts = sorted(os.listdir(os.path.join(cdir, "contacts")))
        found = subprocess.run(["find", os.path.join(cdir, "contacts"), "-name", "*.json"],
                               check=True, capture_output=True, text=True).stdout.split()
        assert len(found) == len(contacts) == len(camp["contacts"])
        walked = subprocess.run(["find", m.path("altur")], check=True, capture_output=True,
                                text=True).stdout
        assert "by-status" not in walked
        failed = os.path.join(cdir, "contacts", "by-status", "failed")
        os.chdir(failed)
        try:
            assert sorted(os.listdir(".")) == sorted(
                n for n in contacts
                if json.loads(read(os.path.join(cdir, "contacts", n)))["status"] == "failed")
        finally:
            os.chdir("/")
        out = subprocess.run(["rsync", "-a", cdir + "/", str(tmp_path / "copy")],
                             capture_output=True, text=True)
        assert out.returncode == 0, out.stderr
        assert not (tmp_path / "copy" / "contacts" / "by-status").exists()
        assert len(os.listdir(tmp_path / "copy" / "contacts")) == len(contacts)
        with pytest.raises(FileNotFoundError):
            os.stat(os.path.join(cdir, "contacts", "by-status", "no-such-status"))
        with pytest.raises(FileNotFoundError):  # only contacts/ has one
            os.stat(os.path.join(cdir, "calls", "by-status"))
