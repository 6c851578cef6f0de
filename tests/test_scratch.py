"""Scratch folders (sparkify.scratch): a live run's folder is never swept, a killed run's always is."""

from __future__ import annotations

import signal
import subprocess
import sys
from pathlib import Path

from sparkify.scratch import ScratchDir, sweep


def test_sweep_removes_only_the_folders_of_dead_runs(tmp_path: Path) -> None:
    holder = subprocess.Popen(
        [sys.executable, "-c",
         "import sys, time; from sparkify.scratch import ScratchDir; d = ScratchDir(dir=sys.argv[1]); "
         "open(d.name + '/rows.csv', 'w').write('x' * 1000); print(d.name, flush=True); time.sleep(600)",
         str(tmp_path)],
        stdout=subprocess.PIPE, text=True,
    )
    try:
        theirs = Path(holder.stdout.readline().strip())
        with ScratchDir(dir=str(tmp_path)) as ours:
            (tmp_path / "sparkify-not-ours").mkdir()  # no owner file: never touched
            assert sweep(str(tmp_path)) == 0
            assert theirs.is_dir() and Path(ours).is_dir()
            holder.send_signal(signal.SIGKILL)
            holder.wait()
            assert sweep(str(tmp_path)) == 1
            assert not theirs.exists() and Path(ours).is_dir()
        assert sorted(p.name for p in tmp_path.iterdir()) == ["sparkify-not-ours"]
    finally:
        holder.kill()
        holder.wait()
