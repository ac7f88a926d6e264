"""Running Python code in a child process, for the tests that need a
fresh interpreter (peak memory, panics, kills)."""

import subprocess
import sys


def run_child(script, *args, timeout):
    """Runs `script` with `args` in a new interpreter; its standard output's
    lines, after checking that it exited cleanly (the message holds the end
    of its standard error)."""
    proc = subprocess.run(
        [sys.executable, "-c", script, *map(str, args)],
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )
    assert proc.returncode == 0, f"child died ({proc.returncode}): {proc.stderr[-3000:]}"
    return proc
