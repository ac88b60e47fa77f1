"""A throwaway PostgreSQL server for benchmarks (same recipe as scripts/test.sh): initdb in a temp dir, free port."""

import contextlib
import glob
import os
import shutil
import socket
import subprocess
import tempfile
from collections.abc import Iterator


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@contextlib.contextmanager
def throwaway_postgres(extra_options: str = "") -> Iterator[str]:
    """Yield a DATABASE_URL; honours an existing BENCH_DATABASE_URL instead of starting a server.

    ``extra_options`` are more ``-c name=value`` server settings (e.g. a larger ``work_mem``)."""
    if os.environ.get("BENCH_DATABASE_URL"):
        yield os.environ["BENCH_DATABASE_URL"]
        return
    bindir = sorted(glob.glob("/usr/lib/postgresql/*/bin"))[-1]
    work = tempfile.mkdtemp(prefix="labelgate-bench-pg-")
    os.chmod(work, 0o755)
    data = os.path.join(work, "data")
    os.mkdir(data)
    shutil.chown(data, "postgres", "postgres")
    port = free_port()
    run = ["runuser", "-u", "postgres", "--"]
    subprocess.run(
        run + [f"{bindir}/initdb", "-D", data, "-A", "trust", "-U", "labelgate", "--no-sync"],
        check=True,
        stdout=subprocess.DEVNULL,
    )
    options = (
        f"-p {port} -k {data} -c listen_addresses=127.0.0.1 -c max_connections=300 -c shared_buffers=512MB "
        "-c synchronous_commit=off -c fsync=off -c full_page_writes=off " + extra_options
    )
    subprocess.run(
        run + [f"{bindir}/pg_ctl", "-D", data, "-l", f"{data}/log", "-w", "-o", options, "start"],
        check=True,
        stdout=subprocess.DEVNULL,
    )
    try:
        yield f"postgres://labelgate@127.0.0.1:{port}/postgres"
    finally:
        subprocess.run(
            run + [f"{bindir}/pg_ctl", "-D", data, "-m", "immediate", "stop"], stdout=subprocess.DEVNULL
        )
        shutil.rmtree(work, ignore_errors=True)
