"""Runs one mount test file with pytest; exits 77 (a skip for meson) where
this machine cannot mount FUSE file systems, and fails when no test ran."""
import os
import shutil
import sys

import pytest

if not os.path.exists("/dev/fuse") or not shutil.which("fusermount3"):
    print("skipped: /dev/fuse or fusermount3 is missing")
    sys.exit(77)
rc = pytest.main(["-q", "-p", "no:cacheprovider", *sys.argv[1:]])
sys.exit(1 if rc == 5 else int(rc))
