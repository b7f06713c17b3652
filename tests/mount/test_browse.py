"""ls, cat, stat, grep -r and find on a real mount, for the four providers,
compared with the simulator's ground truth."""
import json
import os
import stat
import subprocess

import pytest

from conftest import PROVIDERS
from mountlib import (VIEWS, expected_bytes, expected_files, load_pairs, pairs, safe_name,
                      view_paths)


def test_ls_accounts(mnt):
    assert sorted(os.listdir(mnt.dir)) == sorted(PROVIDERS)
    for p in PROVIDERS:
        assert sorted(os.listdir(mnt.path(p))) == ["by-name", "campaigns"]


@pytest.mark.parametrize("provider", PROVIDERS)
def test_ls_campaigns_contacts_calls(mnt, dumps, provider):
    dump = dumps[provider]
    files = expected_files(provider, dump)
    campaigns = sorted(safe_name(c["id"], "") for c in dump["campaigns"])
    assert sorted(os.listdir(mnt.path(provider, "campaigns"))) == campaigns
    for c in dump["campaigns"]:
        cdir = os.path.join("campaigns", safe_name(c["id"], ""))
        want_sub = ["campaign.json", "contacts"] + ([] if provider == "koreai" else ["calls"])
        assert sorted(os.listdir(mnt.path(provider, cdir))) == sorted(want_sub + VIEWS[provider])
        for sub in ("contacts", "calls"):
            if sub not in want_sub:
                continue
            want = sorted(os.path.basename(f) for f in files
                          if os.path.dirname(f) == os.path.join(cdir, sub))
            assert sorted(os.listdir(mnt.path(provider, cdir, sub))) == want
    # the dataset has one empty campaign and one of more than ten pages
    sizes = [len(c["contacts"]) for c in dump["campaigns"]]
    assert 0 in sizes and max(sizes) > 1000


@pytest.mark.parametrize("provider", PROVIDERS)
def test_cat_every_file_is_the_record(sim, mnt, dumps, provider):
    files = expected_files(provider, dumps[provider])
    raw = sim.raw("GET", "/_sim/dump?provider=" + provider)[2]
    exact = expected_bytes(provider, dumps[provider], raw.decode())
    for rel, rec in files.items():
        with open(mnt.path(provider, rel), "rb") as f:
            data = f.read()
        # the record exactly: same keys in the same order, same values and types
        assert load_pairs(data.decode("utf-8")) == pairs(rec), rel
        # and its bytes as documented: two-space indent, "key": value, UTF-8,
        # '/' and number texts as the API wrote them, one trailing newline
        assert data == exact[rel], rel


@pytest.mark.parametrize("provider", PROVIDERS)
def test_stat_size_is_exact_before_reading(mnt, dumps, provider):
    files = expected_files(provider, dumps[provider])
    sizes = {rel: os.stat(mnt.path(provider, rel)).st_size for rel in files}
    for rel, size in sizes.items():
        assert size > 0
        with open(mnt.path(provider, rel), "rb") as f:
            assert len(f.read()) == size, rel
    out = subprocess.run("cat %s | wc -c" % mnt.path(provider, "campaigns/*/contacts/*.json"),
                         shell=True, capture_output=True, text=True, check=True).stdout
    want = sum(s for rel, s in sizes.items() if "/contacts/" in rel)
    assert int(out) == want


def test_file_and_dir_modes_and_dtypes(mnt, dumps):
    for p in PROVIDERS:
        for root, dirs, files in os.walk(mnt.path(p)):
            assert stat.S_IMODE(os.stat(root).st_mode) == 0o555
            with os.scandir(root) as it:
                for e in it:
                    # d_type from readdir, no stat needed
                    assert e.is_dir(follow_symlinks=False) or e.is_file(follow_symlinks=False) \
                        or (e.is_symlink() and os.path.basename(root) == "by-name")
            for f in files[:20]:
                st = os.stat(os.path.join(root, f))
                assert stat.S_ISREG(st.st_mode) and stat.S_IMODE(st.st_mode) == 0o444
            break


def status_field(provider):
    return {"altur": "status", "burki": "status", "truedy": "call_status",
            "koreai": "dialerOutcome"}[provider]


@pytest.mark.parametrize("provider", PROVIDERS)
def test_grep_finds_exactly_the_records_with_a_status(mnt, dumps, provider):
    files = expected_files(provider, dumps[provider])
    field = status_field(provider)
    statuses = {rec.get(field) for rel, rec in files.items() if "/contacts/" in rel}
    statuses.discard(None)
    statuses.discard("")
    assert len(statuses) >= 2
    for status in sorted(statuses)[:3]:
        needle = '"%s": "%s"' % (field, status)
        want = sorted(os.path.join(mnt.path(provider), rel) for rel, rec in files.items()
                      if "/contacts/" in rel and rec.get(field) == status)
        out = subprocess.run(["grep", "-rl", "--include=*.json", needle,
                              *[mnt.path(provider, "campaigns", d, "contacts")
                                for d in os.listdir(mnt.path(provider, "campaigns"))]],
                             capture_output=True, text=True)
        assert out.returncode in (0, 1), out.stderr
        assert sorted(out.stdout.splitlines()) == want


@pytest.mark.parametrize("provider", PROVIDERS)
def test_find_counts_every_file(mnt, dumps, provider):
    files = expected_files(provider, dumps[provider])
    out = subprocess.run("find %s -type f | wc -l" % mnt.path(provider), shell=True,
                         capture_output=True, text=True, check=True).stdout
    assert int(out) == len(files) + len(view_paths(provider, dumps[provider]))
    # find does not follow the by-name links: each campaign is walked once
    links = subprocess.run("find %s -type l | wc -l" % mnt.path(provider), shell=True,
                           capture_output=True, text=True, check=True).stdout
    assert int(links) == len(dumps[provider]["campaigns"])


def parse_time(text):
    from datetime import datetime, timezone
    text = text.replace("Z", "+00:00")
    if "T" not in text:
        return int(datetime.strptime(text, "%Y-%m-%d %H:%M:%S")
                   .replace(tzinfo=timezone.utc).timestamp())
    return int(datetime.fromisoformat(text).timestamp())


TIME_FIELDS = {
    ("altur", "contacts"): ["last_call_at", "updated_at", "created_at"],
    ("altur", "calls"): ["ended_at", "started_at", "created_at"],
    ("burki", "contacts"): ["last_attempt_at", "updated_at", "created_at"],
    ("burki", "calls"): ["executed_at", "updated_at", "created_at"],
    ("truedy", "contacts"): ["called_at", "updated_at", "created_at"],
    ("truedy", "calls"): ["ended_at", "started_at", "created_at"],
}


@pytest.mark.parametrize("provider", ["altur", "burki", "truedy"])
def test_mtime_is_the_records_newest_time(mnt, dumps, provider):
    files = expected_files(provider, dumps[provider])
    checked = 0
    for rel, rec in list(files.items())[:400]:
        kind = rel.split(os.sep)[2] if rel.count(os.sep) >= 3 else None
        if kind not in ("contacts", "calls"):
            continue
        times = [parse_time(rec[f]) for f in TIME_FIELDS[(provider, kind)] if rec.get(f)]
        if not times:
            continue
        assert int(os.stat(mnt.path(provider, rel)).st_mtime) == max(times), rel
        checked += 1
    assert checked > 10


def test_inodes_are_stable(mnt, dumps):
    rel = next(iter(expected_files("burki", dumps["burki"])))
    a = os.stat(mnt.path("burki", rel)).st_ino
    os.listdir(mnt.path("burki", os.path.dirname(rel)))
    assert os.stat(mnt.path("burki", rel)).st_ino == a
    inos = {os.stat(mnt.path(p)).st_ino for p in PROVIDERS}
    assert len(inos) == 4


def test_df_and_statvfs(mnt):
    sv = os.statvfs(mnt.dir)
    assert sv.f_namemax == 255
    # not full: disk-full monitors must not fire on a mount without a size
    assert sv.f_bavail > 0 and sv.f_bfree >= sv.f_bavail and sv.f_blocks > sv.f_bfree
    assert sv.f_ffree > 0 and sv.f_files > sv.f_ffree
    out = subprocess.run(["df", "-P", mnt.dir], capture_output=True, text=True)
    assert out.returncode == 0 and "campaignfs" in out.stdout
    use = out.stdout.splitlines()[1].split()[4]
    assert use.endswith("%") and int(use[:-1]) < 100, out.stdout


def test_unknown_names_are_enoent(mnt):
    for rel in ("nope", "altur/nope", "altur/campaigns/999999999", "altur/campaigns/../x"):
        assert not os.path.exists(mnt.path(rel))
    with pytest.raises(FileNotFoundError):
        open(mnt.path("altur", "campaigns", "999999999", "campaign.json"))
    assert not os.path.exists(mnt.path("koreai", "campaigns",
                                       os.listdir(mnt.path("koreai", "campaigns"))[0], "calls"))


def test_jq_reads_files(mnt, dumps):
    files = expected_files("truedy", dumps["truedy"])
    rel, rec = next((r, x) for r, x in files.items() if "/calls/" in r)
    out = subprocess.run(["/usr/bin/python3", "-c",
                          "import json,sys; print(json.load(open(sys.argv[1]))['id'])",
                          mnt.path("truedy", rel)], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == rec["id"]
