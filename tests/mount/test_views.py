"""One-file views of a campaign (#16 items 1 and 2): contacts.ndjson,
calls.ndjson and contacts.csv hold the same records as the directory's
files, in the same order, sized exactly before the first read, made from
the listing with no request of their own, and new after a refresh."""
import csv
import io
import json
import os
import stat
import subprocess

import pytest

from conftest import PROVIDERS
from mountlib import VIEWS, Mount, safe_name, wait_for, wait_quiet



def campaign_dirs(m, provider):
    root = m.path(provider, "campaigns")
    return [os.path.join(root, d) for d in sorted(os.listdir(root))]


def records_of(directory):
    """The records of a directory's files, in ls order."""
    out = []
    for name in sorted(os.listdir(directory)):
        with open(os.path.join(directory, name), "rb") as f:
            out.append(json.loads(f.read()))
    return out


def advance_until_changed(sim, camp, kind):
    """Advances the world until a record of that kind in campaign camp changed."""
    for _ in range(5):
        report = sim.advance(50)
        if any(c["campaign"] == str(camp["id"]) and c["kind"] == kind
               for c in report["changed"]):
            return
    pytest.fail("no advance changed a %s of campaign %s" % (kind, camp["id"]))


def read(path):
    with open(path, "rb") as f:
        return f.read()


def compact(rec):
    return json.dumps(rec, ensure_ascii=False, separators=(",", ":"))


def cell(value):
    """What a CSV cell holds for a JSON value."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (dict, list)):
        return compact(value)
    return str(value)


@pytest.mark.parametrize("provider", PROVIDERS)
def test_each_campaign_has_its_views_and_nothing_else_changed(mnt, provider):
    for d in campaign_dirs(mnt, provider):
        names = sorted(os.listdir(d))
        assert [n for n in names if "." in n and n != "campaign.json"] == VIEWS[provider], d
        for v in VIEWS[provider]:
            st = os.stat(os.path.join(d, v))
            assert st.st_size == len(read(os.path.join(d, v)))  # exact before the first read


@pytest.mark.parametrize("provider", PROVIDERS)
def test_ndjson_lines_are_the_directory_records_in_order(mnt, provider):
    seen = 0
    for d in campaign_dirs(mnt, provider):
        for source in ("contacts", "calls"):
            view = os.path.join(d, source + ".ndjson")
            if not os.path.exists(view):
                continue
            text = read(view).decode()
            recs = records_of(os.path.join(d, source))
            lines = text.split("\n")
            assert lines[-1] == ""  # every line ends with a newline
            lines = lines[:-1]
            assert [json.loads(line) for line in lines] == recs
            # compact: the record's own text without whitespace between tokens
            for line, rec in zip(lines, recs):
                assert line == compact(rec)
            seen += len(recs)
    assert seen > 0


@pytest.mark.parametrize("provider", PROVIDERS)
def test_csv_rows_are_the_contacts(mnt, provider):
    rows_seen = 0
    for d in campaign_dirs(mnt, provider):
        data = read(os.path.join(d, "contacts.csv")).decode()
        recs = records_of(os.path.join(d, "contacts"))
        if not recs:
            assert data == ""
            continue
        header = []
        for r in recs:
            header += [k for k in r if k not in header]
        rows = list(csv.reader(io.StringIO(data, newline="")))
        assert rows[0] == header
        assert len(rows) == len(recs) + 1  # one row per contact
        for row, rec in zip(rows[1:], recs):
            assert row == [cell(rec.get(k)) for k in header]
        assert data.endswith("\r\n") and "\r\n" in data  # RFC 4180 line ends
        rows_seen += len(recs)
    assert rows_seen > 0


def test_views_cost_no_request_and_follow_a_refresh(sim):
    dump = sim.dump("burki")
    camp = max(dump["campaigns"], key=lambda c: len(c["contacts"]))
    with Mount(sim.config_path, ttl=3600) as m:
        d = m.path("burki", "campaigns", safe_name(camp["id"], ""))
        before = records_of(os.path.join(d, "contacts"))
        os.listdir(os.path.join(d, "calls"))
        wait_quiet(sim, quiet=0.3)
        sim.reset_stats()
        first = read(os.path.join(d, "contacts.ndjson"))
        read(os.path.join(d, "contacts.csv"))
        read(os.path.join(d, "calls.ndjson"))
        assert sim.stats()["total_requests"] == 0  # made from the listings held
        # the records change on the server; a refresh makes the view anew
        changes = sim.advance(200)
        with open(m.path(".campaignfs", "refresh"), "w") as f:
            f.write("burki/campaigns/%s/contacts\n" % safe_name(camp["id"], ""))
        os.listdir(os.path.join(d, "contacts"))  # shown stale, refreshed
        wait_quiet(sim, quiet=0.5)
        after = records_of(os.path.join(d, "contacts"))
        assert after != before, changes  # the advance changed some contact
        text = read(os.path.join(d, "contacts.ndjson"))
        assert text != first
        assert os.stat(os.path.join(d, "contacts.ndjson")).st_size == len(text)
        assert [json.loads(line) for line in text.decode().splitlines()] == after


def test_find_counts_each_contact_once(mnt):
    for provider in PROVIDERS:
        for d in campaign_dirs(mnt, provider):
            n = len(os.listdir(os.path.join(d, "contacts")))
            found = [f for _, _, fs in os.walk(d) for f in fs if f.endswith(".json")]
            assert len([f for f in found if f != "campaign.json"]) == \
                n + (len(os.listdir(os.path.join(d, "calls")))
                     if os.path.isdir(os.path.join(d, "calls")) else 0)


@pytest.mark.parametrize("provider", PROVIDERS)
def test_by_name_links_resolve_to_their_campaigns(mnt, dumps, provider):
    dump = dumps[provider]
    by_name = mnt.path(provider, "by-name")
    links = sorted(os.listdir(by_name))
    assert len(links) == len(dump["campaigns"])
    seen = set()
    for name in links:
        link = os.path.join(by_name, name)
        st = os.lstat(link)
        assert stat.S_ISLNK(st.st_mode)
        target = os.readlink(link)
        assert target.startswith("../campaigns/") and st.st_size == len(target)
        cid = target[len("../campaigns/"):]
        seen.add(cid)
        camp = next(c for c in dump["campaigns"] if safe_name(c["id"], "") == cid)
        title = camp["list_item"].get("name")
        # named by the campaign's name (a repeat gets ~2, ~3...), or its id without one
        assert name.split("~")[0] == safe_name(title, "") if title else name == cid
        # cd into it works and shows the campaign
        assert os.path.samefile(link, mnt.path(provider, "campaigns", cid))
        assert "contacts" in os.listdir(link)
    assert seen == {safe_name(c["id"], "") for c in dump["campaigns"]}


def test_by_name_repeats_are_made_unique(tmp_path):
    """Two campaigns of the same name: the first in the campaign list keeps
    it, the second gets ~2; a '/' in a name is made safe."""
    from campaignfs_sim import Sim
    with Sim("--campaigns", "3", "--contacts", "2", "--calls", "1", "--big-contacts", "2",
             seed=3) as sim:
        page = sim.json("burki", "GET", "/campaigns/",
                        query={"page": "1", "per_page": "1000"})
        ids = sorted(c["id"] for c in page["campaigns"])
        for c in page["campaigns"]:
            if c["id"] in ids[:2]:
                c["name"] = "Spring/renewals"
        sim.override("/api/v1/campaigns/?", body=json.dumps(page))
        with Mount(sim.config_path, ttl=3600) as m:
            names = sorted(os.listdir(m.path("burki", "by-name")))
            assert "Spring%2Frenewals" in names and "Spring%2Frenewals~2" in names, names
            assert os.readlink(m.path("burki", "by-name", "Spring%2Frenewals")) == \
                "../campaigns/%s" % ids[0]
            assert os.readlink(m.path("burki", "by-name", "Spring%2Frenewals~2")) == \
                "../campaigns/%s" % ids[1]


def test_a_refresh_makes_the_kernel_forget_a_views_size(sim):
    """The kernel keeps a view's attributes as long as its listing is fresh;
    a refresh asked for must make it forget them with the listing's, or a
    stat right after it shows the old size (and rsync skips the view)."""
    dump = sim.dump("altur")
    camp = next(c for c in dump["campaigns"] if c["calls"])
    with Mount(sim.config_path, ttl=3600, extra=("-o", "max_stale=0")) as m:
        d = m.path("altur", "campaigns", safe_name(camp["id"], ""))
        os.listdir(os.path.join(d, "calls"))
        before = os.stat(os.path.join(d, "calls.ndjson"))
        advance_until_changed(sim, camp, "call")
        with open(m.path(".campaignfs", "refresh"), "w") as f:
            f.write("/\n")
        # the kernel is told from campaignfs's notification thread, so not
        # before the write returns: without the invalidation it keeps the
        # old attributes for the whole TTL (an hour), and this wait fails
        view = os.path.join(d, "calls.ndjson")
        after = wait_for(lambda: (lambda st: st if (st.st_size, st.st_mtime) !=
                                  (before.st_size, before.st_mtime) else None)(os.stat(view)),
                         limit=20, what="the kernel to forget the view's old size")
        text = read(view)
        assert after.st_size == len(text)
        assert (after.st_size, after.st_mtime) != (before.st_size, before.st_mtime)
        assert [json.loads(line) for line in text.decode().splitlines()] == \
            records_of(os.path.join(d, "calls"))


def test_a_view_read_across_a_refresh_is_one_listings_whole(sim):
    """A view is read in chunks that carry no handle (no open() reaches
    campaignfs).  A refresh published between two chunks must not give the
    reader the head of the old listing and the tail of the new one: the read
    that began goes on with the listing it began with, sizes included, and
    the next read from the start shows the new one."""
    dump = sim.dump("altur")
    camp = max(dump["campaigns"], key=lambda c: len(c.get("contacts") or []))
    with Mount(sim.config_path, ttl=3600, extra=("-o", "max_stale=0")) as m:
        d = m.path("altur", "campaigns", safe_name(camp["id"], ""))
        view = os.path.join(d, "contacts.ndjson")
        old = read(view)
        assert len(old) > 256 << 10, "the view must outgrow readahead"
        with open(view, "rb", buffering=0) as f:
            head = f.read(4096)
            advance_until_changed(sim, camp, "contact")
            with open(m.path(".campaignfs", "refresh"), "w") as r:
                r.write("/altur/campaigns/%s/contacts\n" % camp["id"])
            os.listdir(os.path.join(d, "contacts"))  # waits for the refresh (max_stale=0)
            new = subprocess.run(["cat", view], check=True, capture_output=True).stdout
            assert new != old  # another process sees the refresh at once
            rest = f.read()
            assert os.fstat(f.fileno()).st_size == len(old)  # this reader's size
            assert head + rest == old  # one listing, whole
            # a new read from the start: the new listing (once the kernel
            # dropped the old listing's pages that read brought in again)
            wait_for(lambda: os.pread(f.fileno(), len(new) + 1, 0) == new, limit=20,
                     what="a new read from the start to show the new listing")
            # nor does the old read leave them to other processes
            assert subprocess.run(["cat", view], check=True, capture_output=True).stdout == new
        assert [json.loads(line) for line in new.decode().splitlines()] == \
            records_of(os.path.join(d, "contacts"))
