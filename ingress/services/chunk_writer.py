"""Chunks of a file import written on a thread of their own (PostgreSQL text imports)."""

import queue
import sys
import threading

from django.db import connection

from ingress.services.import_rows import PendingRow, RowImporter


class ChunkWriter:
    """Writes chunks on a thread of its own (with its own database connection) while the job's thread reads and
    profiles the next chunk, so PostgreSQL's work on one chunk (COPY, index updates, the foreign-key checks at
    commit) overlaps Python's work on the next. At most one chunk waits, so memory grows by one chunk at most.

    Each chunk is still one transaction, written in file order, so a crash leaves whole chunks and a retry
    finds them (see the module docstring). The first error stops the writing: ``put`` and ``close`` raise it,
    and later chunks are dropped unwritten. Used only on PostgreSQL outside a transaction: a thread's
    connection would not see rows of an uncommitted outer transaction.
    """

    SWITCH_INTERVAL = 0.0002  # s; the writer waits on the socket often and must get the GIL back promptly

    def __init__(self, importer: RowImporter) -> None:
        self.importer = importer
        self.queue: queue.Queue[list[PendingRow] | None] = queue.Queue(maxsize=1)
        self.error: BaseException | None = None
        self.previous_interval = sys.getswitchinterval()
        sys.setswitchinterval(min(self.previous_interval, self.SWITCH_INTERVAL))
        self.thread = threading.Thread(target=self._run, name="import-writer", daemon=True)
        self.thread.start()

    def _run(self) -> None:
        try:
            while (chunk := self.queue.get()) is not None:
                if self.error is None:
                    try:
                        self.importer.write(chunk)
                    except BaseException as exc:  # noqa: BLE001 - handed to the job's thread by put/close
                        self.error = exc
        finally:
            connection.close()

    def put(self, chunk: list[PendingRow]) -> None:
        if self.error is not None:
            raise self.error
        self.queue.put(chunk)

    def close(self, *, raise_error: bool = True) -> None:
        """Wait for every chunk put so far to be written (or dropped after an error); then raise the error."""
        self.queue.put(None)
        self.thread.join()
        sys.setswitchinterval(self.previous_interval)
        if raise_error and self.error is not None:
            raise self.error
