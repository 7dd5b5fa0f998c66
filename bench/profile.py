"""Optional sampling profiles of a web process during a phase (`python -m bench --profile DIR`): py-spy in raw
(collapsed stack) format, summarised into the functions with the most samples, self and inclusive.

py-spy is a profiling tool only (`pip install py-spy`); the benchmark runs without it."""

from __future__ import annotations

import shutil
import signal
import subprocess
from collections import Counter
from pathlib import Path


class Profiler:
    def __init__(self, out_dir: Path, pid: int, name: str, rate: int = 200) -> None:
        self.path = out_dir / f"{name}.txt"
        exe = shutil.which("py-spy") or str(Path(__file__).resolve().parent.parent / ".venv/bin/py-spy")
        out_dir.mkdir(parents=True, exist_ok=True)
        self.proc = subprocess.Popen(
            [exe, "record", "--pid", str(pid), "--format", "raw", "--rate", str(rate), "--nonblocking",
             "--output", str(self.path)], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)

    def stop(self) -> dict:
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGINT)
            try:
                self.proc.wait(30)
            except subprocess.TimeoutExpired:
                self.proc.kill()
        return summarise(self.path)


def summarise(path: Path, top: int = 25) -> dict:
    """Top functions by self samples and by inclusive samples, from py-spy's collapsed stacks."""
    if not path.exists():
        return {"error": "no profile written"}
    self_c: Counter[str] = Counter()
    incl: Counter[str] = Counter()
    total = 0
    for line in path.read_text(errors="replace").splitlines():
        stack, _, n = line.rpartition(" ")
        if not n.isdigit():
            continue
        count = int(n)
        total += count
        frames = [f.split(" (")[0] + " (" + f.split(" (")[1].split(":")[0].rsplit("/", 2)[-1] + ")"
                  if " (" in f else f for f in stack.split(";")]
        if frames:
            self_c[frames[-1]] += count
        for f in set(frames):
            incl[f] += count
    pct = (lambda c: round(100.0 * c / total, 1)) if total else (lambda c: 0.0)
    return {"samples": total, "file": str(path),
            "self_pct": {k: pct(v) for k, v in self_c.most_common(top)},
            "inclusive_pct": {k: pct(v) for k, v in incl.most_common(top * 2)}}
