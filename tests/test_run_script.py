"""``scripts/run.sh``, the README's one command: a TERM to its process group (Ctrl-C in a terminal, a service
manager stopping it) stops the web server, both Celery workers and the scheduler, none left behind.

The script runs as a user starts it, on a fresh SQLite database and filesystem broker in a temporary directory,
without the demo projects (LABELGATE_DEMO=0), so what is stopped is the idle embedded default.
"""

import os
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
START_DEADLINE_S = 300
# A generous bound for the script's own stop sequence (TERM, a bounded wait, KILL); a worker that hangs in
# warm shutdown stays far longer.
STOP_DEADLINE_S = 90


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def process_tree(root_pid: int) -> set[int]:
    parents: dict[int, list[int]] = {}
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                stat = Path(f"/proc/{entry}/stat").read_text()
            except OSError:
                continue
            parents.setdefault(int(stat.rsplit(")", 1)[1].split()[1]), []).append(int(entry))
    found, todo = set(), [root_pid]
    while todo:
        for child in parents.get(todo.pop(), []):
            found.add(child)
            todo.append(child)
    return found


def alive(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except OSError:
        return False
    return state != "Z"


def cmdline(pid: int) -> str:
    try:
        return Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ").decode()
    except OSError:
        return ""


def test_term_to_the_run_script_group_stops_web_workers_and_scheduler(tmp_path):
    # Given run.sh started as a terminal starts it (a process group of its own), on a temporary var dir
    port = free_port()
    env = {
        "PATH": os.environ.get("PATH", ""),
        "HOME": os.environ.get("HOME", str(tmp_path)),
        "LABELGATE_VENV": sys.prefix,
        "LABELGATE_VAR_DIR": str(tmp_path / "var"),
        "LABELGATE_PORT": str(port),
        "LABELGATE_DEMO": "0",
    }
    log_path = tmp_path / "run.log"
    with open(log_path, "wb") as log:
        proc = subprocess.Popen(
            ["bash", str(ROOT / "scripts/run.sh")],
            cwd=ROOT,
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    tree: set[int] = set()
    try:
        # ... answering on its port, with both workers' pools and the scheduler up (the tree stops growing)
        deadline = time.monotonic() + START_DEADLINE_S
        healthy = False
        while time.monotonic() < deadline and not healthy:
            assert proc.poll() is None, log_path.read_text(errors="replace")[-4000:]
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz/", timeout=2) as response:
                    healthy = response.status == 200
            except OSError:
                time.sleep(0.5)
        assert healthy, log_path.read_text(errors="replace")[-4000:]
        stable_polls = 0
        while time.monotonic() < deadline and stable_polls < 5:
            current = process_tree(proc.pid)
            stable_polls = stable_polls + 1 if current == tree else 0
            tree = current
            time.sleep(1)
        celery = [pid for pid in tree if "celery" in cmdline(pid)]
        gunicorn = [pid for pid in tree if "gunicorn" in cmdline(pid)]
        # two worker main processes, each with a pool process, and the scheduler beside the jobs worker
        assert len(celery) >= 5, [cmdline(pid) for pid in tree]
        assert len(gunicorn) >= 2, [cmdline(pid) for pid in tree]

        # When the whole group gets TERM
        os.killpg(proc.pid, signal.SIGTERM)

        # Then the script and every process it started exit within the deadline
        deadline = time.monotonic() + STOP_DEADLINE_S
        while time.monotonic() < deadline and (proc.poll() is None or any(alive(pid) for pid in tree)):
            time.sleep(0.2)
        left = [cmdline(pid) for pid in tree if alive(pid)]
        log_text = log_path.read_text(errors="replace")
        assert proc.poll() is not None
        assert left == [], log_text[-4000:]
        # and no pool process was signalled behind its worker's back (the worker stops its own pool)
        assert "exited with 'signal 15" not in log_text, log_text[-4000:]
    finally:
        for pid in {proc.pid, *tree}:
            try:
                os.kill(pid, signal.SIGKILL)
            except (ProcessLookupError, PermissionError):
                pass
        proc.wait(timeout=30)
