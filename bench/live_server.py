"""What the browser benchmarks share besides dashboard/local_server.py (the server, chromium's
options and the wait for a script run): the server's memory (read from /proc, no psutil), and the
headline tiles' values.

Not a benchmark itself; bench_upload_memory.py and load_sessions.py import it.
"""

from __future__ import annotations

import os
import threading
import time
from pathlib import Path


def _status(pid: int, field: str) -> int:
    """A /proc/<pid>/status field in kB (0 once the process is gone)."""
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith(field + ":"):
                return int(line.split()[1])
    except (OSError, ValueError):
        pass
    return 0


def _tree(pid: int) -> list[int]:
    pids, todo = [], [pid]
    while todo:
        p = todo.pop()
        pids.append(p)
        for task in Path(f"/proc/{p}/task").glob("*/children") if Path(f"/proc/{p}").exists() else []:
            try:
                todo += [int(c) for c in task.read_text().split()]
            except OSError:
                pass
    return pids


def rss_mb(pid: int) -> float:
    """Resident memory of a process and its children, in MB."""
    return sum(_status(p, "VmRSS") for p in _tree(pid)) / 1024


def cpu_seconds(pids: list[int]) -> float:
    """CPU time (user + system) the processes have used so far."""
    total = 0
    for p in pids:
        try:
            fields = Path(f"/proc/{p}/stat").read_text().rsplit(")", 1)[1].split()
            total += int(fields[11]) + int(fields[12])  # utime, stime (fields 14 and 15 of stat)
        except (OSError, IndexError, ValueError):
            pass
    return total / os.sysconf("SC_CLK_TCK")


def tree(pid: int) -> list[int]:
    """The process and all its descendants."""
    return _tree(pid)


def peak_rss_mb(pid: int) -> float:
    """The kernel's high-water mark of the process's resident memory (VmHWM), in MB."""
    return _status(pid, "VmHWM") / 1024


class RssSampler:
    """Polls the resident memory of a process tree in the background; .peak is the highest seen."""

    def __init__(self, pid: int, every: float = 0.02):
        self.pid, self.every, self.peak = pid, every, 0.0
        self.samples: list[tuple[float, float]] = []  # (seconds since start, MB), each sample
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _run(self) -> None:
        start = time.perf_counter()
        while not self._stop.is_set():
            mb = rss_mb(self.pid)
            self.samples.append((time.perf_counter() - start, mb))
            self.peak = max(self.peak, mb)
            time.sleep(self.every)

    def __enter__(self) -> "RssSampler":
        self._thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self._stop.set()
        self._thread.join()


def tile_values(page) -> dict[str, str]:
    labels = page.locator("[data-testid='stMetricLabel']").all_inner_texts()
    values = page.locator("[data-testid='stMetricValue']").all_inner_texts()
    return {label.strip(): value.strip() for label, value in zip(labels, values)}
