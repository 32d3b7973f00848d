"""Signed checkpoints of the audit chain's head, appended to a file outside the hub store.

After each batch it commits, the audit writer appends one line: the chain position and MAC of the
batch's last entry, when, which writer, and an HMAC of those with the audit key. The store holds
neither the key nor this file, so whoever can write to the store can neither cut checkpointed
entries (their positions or MACs no longer match a line) nor forge a line.

Each line is one `write` to a file opened for appending, so processes sharing the file (the
workers of one host) interleave whole lines; replicas on other hosts keep a file each, and
`hub audit verify` is given every file.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import os
import socket
from collections.abc import Iterable, Iterator
from pathlib import Path

from hub.store.db import utcnow


def _mac(key: bytes, position: int, digest: str, at: str, writer: str) -> str:
    text = f"audit-checkpoint\n{position}\n{digest}\n{at}\n{writer}"
    return hmac.new(key, text.encode(), hashlib.sha256).hexdigest()


class CheckpointFile:
    """The file this process appends its checkpoints to (created, mode 0600, with its directory)."""

    def __init__(self, path: Path, key: bytes) -> None:
        self.path = path
        self.key = key
        self.writer = f"{socket.gethostname()}:{os.getpid()}"
        path.parent.mkdir(parents=True, exist_ok=True)
        self._fd = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o600)

    def append(self, position: int, digest: str) -> None:
        """Append the signed head (position, MAC) of the chain as one line, in one write."""
        at = utcnow().isoformat(timespec="milliseconds")
        line = {"id": position, "hash": digest, "at": at, "writer": self.writer,
                "mac": _mac(self.key, position, digest, at, self.writer)}
        data = (json.dumps(line) + "\n").encode()
        if os.write(self._fd, data) != len(data):
            raise OSError(f"short write to {self.path}")

    def close(self) -> None:
        """Close the file."""
        os.close(self._fd)


class CheckpointProblem(Exception):
    """A checkpoint line is not signed with the audit key."""


class CheckpointMissing(CheckpointProblem):
    """A checkpoint file does not exist."""


def read_checkpoints(paths: Iterable[Path], key: bytes) -> Iterator[tuple[int, str]]:
    """(chain position, MAC) of each checkpoint line, file by file.

    Raises CheckpointMissing for a file that does not exist, CheckpointProblem for a line not
    signed with `key`.
    """
    for path in paths:
        if not path.exists():
            raise CheckpointMissing(f"检查点文件缺失 / checkpoint file {path} is missing")
        with path.open(encoding="utf-8") as lines:
            for number, text in enumerate(lines, 1):
                try:
                    line = json.loads(text)
                    position, digest = int(line["id"]), str(line["hash"])
                    good = hmac.compare_digest(str(line["mac"]), _mac(key, position, digest, str(line["at"]), str(line["writer"])))
                except (ValueError, KeyError, TypeError):
                    good = False
                if not good:
                    raise CheckpointProblem(f"检查点 {path}:{number} 签名不符 / checkpoint {path}:{number} is not signed with this key")
                yield position, digest
