"""Idle memory of the whole embedded default: start ``scripts/run.sh``, wait until it answers and sits idle, sum
the PSS of every process it started (web, workers, scheduler), then stop it with SIGTERM and time the shutdown.

Run by hand:  .venv/bin/python bench/footprint.py [--root TREE] [--demo] [--settle 30]

``--root`` points at another checkout (a before/after run); its run.sh is started with this repo's virtualenv
unless LABELGATE_VENV is set. Without ``--demo`` the demo projects are not loaded (LABELGATE_DEMO=0; a tree whose
run.sh ignores the switch loads them anyway). PSS counts a page shared by n processes as 1/n in each, so the
sum is what the processes together hold.
"""

import argparse
import os
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def children_of() -> dict[int, list[int]]:
    tree: dict[int, list[int]] = {}
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            stat = Path(f"/proc/{entry}/stat").read_text()
        except OSError:
            continue
        ppid = int(stat.rsplit(")", 1)[1].split()[1])
        tree.setdefault(ppid, []).append(int(entry))
    return tree


def descendants(pid: int) -> list[int]:
    tree = children_of()
    found, todo = [], [pid]
    while todo:
        current = todo.pop()
        for child in tree.get(current, []):
            found.append(child)
            todo.append(child)
    return found


def pss_kb(pid: int) -> int:
    for line in Path(f"/proc/{pid}/smaps_rollup").read_text().splitlines():
        if line.startswith("Pss:"):
            return int(line.split()[1])
    return 0


def cpu_ticks(pids: list[int]) -> int:
    total = 0
    for pid in pids:
        try:
            fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        total += int(fields[11]) + int(fields[12])
    return total


def cmdline(pid: int) -> str:
    try:
        raw = Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ").decode().strip()
    except OSError:
        return "?"
    return raw[:110]


def wait_healthy(url: str, proc: subprocess.Popen, deadline: float) -> None:
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            sys.exit(f"run.sh exited with {proc.returncode} before answering")
        try:
            with urllib.request.urlopen(url, timeout=2) as response:
                if response.status == 200:
                    return
        except OSError:
            pass
        time.sleep(1)
    sys.exit("run.sh did not answer in time")


def wait_idle(pid: int, settle: float, deadline: float) -> None:
    """Waits until the process tree used under 2 % of one core over ``settle`` seconds."""
    hz = os.sysconf("SC_CLK_TCK")
    while time.monotonic() < deadline:
        before = cpu_ticks(descendants(pid))
        time.sleep(settle)
        used = (cpu_ticks(descendants(pid)) - before) / hz
        if used < 0.02 * settle:
            return
    print("warning: never idle, measuring anyway")


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--root", type=Path, default=ROOT)
    parser.add_argument("--demo", action="store_true", help="load the demo projects as a first start does")
    parser.add_argument("--settle", type=float, default=20.0)
    args = parser.parse_args()

    var_dir = Path(tempfile.mkdtemp(prefix="labelgate-footprint-"))
    port = free_port()
    env = {
        **os.environ,
        "LABELGATE_VAR_DIR": str(var_dir),
        "LABELGATE_PORT": str(port),
        "LABELGATE_VENV": os.environ.get("LABELGATE_VENV", str(ROOT / ".venv")),
        "LABELGATE_DEMO": "1" if args.demo else "0",
    }
    log = open(var_dir / "run.log", "wb")
    started = time.monotonic()
    proc = subprocess.Popen(
        ["bash", str(args.root / "scripts/run.sh")],
        cwd=args.root,
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    try:
        wait_healthy(f"http://127.0.0.1:{port}/healthz/", proc, started + 600)
        print(f"healthy after {time.monotonic() - started:.1f} s")
        wait_idle(proc.pid, args.settle, time.monotonic() + 300)
        rows = []
        for pid in descendants(proc.pid):
            try:
                rows.append((pss_kb(pid), pid, cmdline(pid)))
            except OSError:
                continue
        python_rows = [
            row for row in rows if "python" in row[2] or "celery" in row[2] or "gunicorn" in row[2]
        ]
        for kb, pid, line in sorted(python_rows, reverse=True):
            print(f"{kb / 1024:8.1f} MB  {pid:>7}  {line}")
        total = sum(kb for kb, _, _ in rows)
        print(
            f"total PSS: {total / 1024:.1f} MB in {len(python_rows)} Python processes ({len(rows)} processes)"
        )
    finally:
        # SIGTERM to the whole group, as a terminal's Ctrl-C or a service manager does.
        stop_started = time.monotonic()
        tree = [proc.pid, *descendants(proc.pid)]
        try:
            os.killpg(proc.pid, signal.SIGTERM)
        except ProcessLookupError:
            pass
        deadline = stop_started + 120
        while time.monotonic() < deadline and any(Path(f"/proc/{pid}").exists() for pid in tree):
            proc.poll()
            time.sleep(0.2)
        left = [pid for pid in tree if Path(f"/proc/{pid}").exists()]
        print(
            f"stopped in {time.monotonic() - stop_started:.1f} s; still running after 120 s: {left or 'none'}"
        )
        for pid in left:
            try:
                os.killpg(os.getpgid(pid), signal.SIGKILL)
            except ProcessLookupError:
                pass
        log.close()
        print(f"log: {var_dir / 'run.log'}")


if __name__ == "__main__":
    main()
