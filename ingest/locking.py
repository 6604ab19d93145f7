"""Cross-process guard for the embedded Chroma store: one process at a time per folder.

Two processes opening the same persistent Chroma folder can corrupt it, so the store takes an
exclusive `fcntl.flock` on `<chroma_dir>/.xrag.lock` (holding the owner's PID) before creating
the client, and keeps it until `close()`. Within one process the lock is shared (reference
counted), so threads and repeated opens of the same folder are fine.
"""

from __future__ import annotations

import fcntl
import json
import os
import socket
import sys
import threading
import time
from dataclasses import dataclass
from pathlib import Path

from ingest.errors import StoreBusyError

LOCK_FILE_NAME = ".xrag.lock"


@dataclass
class _Held:
    fd: int
    count: int


_held: dict[str, _Held] = {}
_guard = threading.Lock()


class StoreLock:
    """This process's hold on a store folder; `release()` once per `acquire()`."""

    def __init__(self, path: Path, first: bool) -> None:
        self.path = path
        self.first = first  # True for the acquisition that took the OS lock
        self._released = False

    @classmethod
    def acquire(cls, directory: Path) -> StoreLock:
        """Locks `directory` for this process.

        Raises:
            StoreBusyError: another process holds it (the message names its PID).
            OSError: the folder cannot be created or locked (read-only, no flock support).
        """
        directory.mkdir(parents=True, exist_ok=True)
        path = (directory / LOCK_FILE_NAME).resolve()
        with _guard:
            held = _held.get(str(path))
            if held is not None:
                held.count += 1
                return cls(path, first=False)
            fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o644)
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                os.close(fd)
                raise StoreBusyError(_busy_message(directory, read_owner(path))) from None
            except OSError:
                os.close(fd)
                raise
            os.ftruncate(fd, 0)
            os.write(fd, json.dumps(_owner_info()).encode())
            _held[str(path)] = _Held(fd=fd, count=1)
            return cls(path, first=True)

    def release(self) -> None:
        """Gives this hold back; the OS lock goes when the process's last hold does."""
        if self._released:
            return
        self._released = True
        with _guard:
            held = _held.get(str(self.path))
            if held is None:
                return
            held.count -= 1
            if held.count == 0:
                del _held[str(self.path)]
                fcntl.flock(held.fd, fcntl.LOCK_UN)
                os.close(held.fd)

    def owner(self) -> dict:
        """Who holds the lock: pid, host, command, started (epoch seconds)."""
        return read_owner(self.path)

    @property
    def pid(self) -> int | None:
        """PID of the holding process (this one while held)."""
        return self.owner().get("pid")


def read_owner(path: Path) -> dict:
    """The owner record in a lock file ({} when absent or unreadable)."""
    try:
        return json.loads(path.read_text(encoding="utf-8") or "{}")
    except (OSError, ValueError):
        return {}


def _owner_info() -> dict:
    return {
        "pid": os.getpid(),
        "host": socket.gethostname(),
        "command": " ".join(sys.argv)[:200],
        "started": round(time.time(), 3),
    }


def _busy_message(directory: Path, owner: dict) -> str:
    pid = owner.get("pid", "unknown")
    command = f" ({owner['command']})" if owner.get("command") else ""
    return (
        f"the store at {directory} is in use by PID {pid}{command}; stop it or use the Chroma "
        "server (CHROMA_HOST/CHROMA_PORT) to share it"
    )
