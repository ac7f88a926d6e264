"""Compressing a 1 GB array grows memory by at most 1.2x the compressed
size (benches/peak_rss.py, run in a child process so its peak RSS is its own)."""

import re
import subprocess
import sys
from pathlib import Path

import pytest

SCRIPT = Path(__file__).resolve().parents[2] / "benches" / "peak_rss.py"


@pytest.mark.bigmem
def test_peak_rss_of_a_gigabyte():
    proc = subprocess.run(
        [sys.executable, str(SCRIPT)], capture_output=True, text=True, timeout=600, check=False
    )
    assert proc.returncode == 0, proc.stderr
    ratio = float(re.search(r"= ([0-9.]+) x compressed", proc.stdout).group(1))
    assert "input bytes 1,000,000,000" in proc.stdout
    assert ratio <= 1.2, proc.stdout
