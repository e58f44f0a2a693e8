"""Every file a program touches goes through here: `load`, `save` and `graph … to`.

An interpreter's `files` setting is its policy:
- False: no file at all (the Python API's default: untrusted input reaches nothing);
- True: any path (the command and the REPL); a relative name starts from the script's
  folder when a script runs, else from the working directory;
- a folder: only what is inside it; a name is relative to it, and an absolute name,
  a `..` or a symbolic link that leads out of it is refused.

`resolve` applies the policy to a name and gives the path; `read_text` reads a regular
text file, no larger than the limits allow (`max_elements` numbers, `max_memory`);
`write_text` writes one. Errors are DiffiErrors at the name's position, and no message
ever quotes what a file holds (a program could otherwise read a file it may not load
through an error message).
"""
from __future__ import annotations

import os
import stat

from ..errors import DiffiError, DiffiTypeError, LimitError
from .limits import size_text

BYTES_PER_NUMBER = 64   # room for one number of a CSV file, with its separator
HEADER_BYTES = 65_536   # and for a header line and blank lines
NAME_SHOWN = 80         # characters of a file name a message shows


class FilePolicy:
    """What files an interpreter may touch: none, any, or those inside one folder."""

    def __init__(self, files):
        self.enabled = files is not False
        self.root = None
        if isinstance(files, (str, os.PathLike)) and not isinstance(files, bool):
            self.root = _folder(files)
        elif files is not True and files is not False:
            raise DiffiTypeError(f"files must be False, True or a folder's path, not "
                                 f"{type(files).__name__}")

    def __repr__(self) -> str:
        return repr(self.root) if self.root else repr(self.enabled)


def _folder(files) -> str:
    try:
        path = os.fsdecode(files)
    except (TypeError, ValueError):
        raise DiffiTypeError("files must be False, True or a folder's path") from None
    if "\x00" in path or not os.path.isdir(path):
        raise DiffiTypeError(f"files={shown(path)!s} is not a folder")
    return os.path.realpath(path)


def shown(name: str) -> str:
    """A file name as messages quote it (a long one shortened)."""
    text = name if len(name) <= NAME_SHOWN else name[:NAME_SHOWN - 1] + "…"
    return text.replace("\n", "\\n")


def resolve(ev, name, span, writing: bool = False) -> str:
    """The path a program's file name stands for, under the interpreter's policy."""
    policy = ev.files
    if not isinstance(policy, FilePolicy):
        policy = ev.files = FilePolicy(policy)
    if not policy.enabled:
        verb = "writing" if writing else "reading"
        raise DiffiError(f"{verb} files is switched off in this interpreter (files=False)",
                         span)
    if not isinstance(name, str):
        raise DiffiTypeError("a file name is a string in quotes, like \"data.csv\"", span)
    if not name:
        raise DiffiError("a file name cannot be empty", span)
    if "\x00" in name:
        raise DiffiError("a file name cannot hold a NUL character", span)
    if policy.root is None:
        return os.path.join(ev.base_dir or os.getcwd(), name)
    return _inside(policy.root, name, span)


def _inside(root: str, name: str, span) -> str:
    """`name` within `root`, refused if it leads out (absolute, `..`, a link)."""
    if os.path.isabs(name) or os.path.splitdrive(name)[0]:
        raise DiffiError(f"{shown(name)} is outside the folder this interpreter may use: "
                         f"give a name relative to it", span)
    parts = name.replace("\\", "/").split("/")
    if ".." in parts:  # (refused even where it would come back in: one simple rule)
        also = ", even where it would stay inside" if _stays_inside(parts) else ""
        raise DiffiError(f"{shown(name)} leads out of the folder this interpreter may use "
                         f"('..' is not allowed{also})", span)
    real = os.path.realpath(os.path.join(root, name))
    if real != root and os.path.commonpath([real, root]) != root:
        raise DiffiError(f"{shown(name)} leads out of the folder this interpreter may use "
                         f"(through a symbolic link)", span)
    return real


def _stays_inside(parts: list) -> bool:
    depth = 0
    for part in parts:
        depth += -1 if part == ".." else 0 if part in ("", ".") else 1
        if depth < 0:
            return False
    return True


def max_bytes(ev) -> float:
    """The most of a file `read_text` reads: what max_elements numbers take, and never
    more than max_memory."""
    limits = ev.limits
    return min(limits.max_elements * BYTES_PER_NUMBER + HEADER_BYTES, limits.max_memory)


def read_text(ev, path: str, name: str, span) -> str:
    """A regular text file's text (UTF-8), read no further than max_bytes(ev) allows."""
    _regular(path, name, span)
    limit = max_bytes(ev)
    try:
        fd = os.open(path, os.O_RDONLY | getattr(os, "O_NONBLOCK", 0)
                     | getattr(os, "O_NOCTTY", 0) | getattr(os, "O_CLOEXEC", 0))
    except OSError as error:
        raise _os_error("read", name, error, span) from None
    try:
        if not stat.S_ISREG(os.fstat(fd).st_mode):  # (swapped in since the check above)
            raise DiffiError(f"cannot read {shown(name)}: not a regular file", span)
        data = _read_at_most(fd, limit + 1)
    except OSError as error:
        raise _os_error("read", name, error, span) from None
    finally:
        os.close(fd)
    if len(data) > limit:
        raise LimitError(f"{shown(name)} is larger than {size_text(limit)}, the most this "
                         f"interpreter reads (max_elements, max_memory)", span)
    return _decoded(data, name, span)


def _regular(path: str, name: str, span) -> None:
    """Refuse, without opening it, what is not a regular file (a device, a folder, a
    pipe): opening some of them waits forever or has effects."""
    try:
        mode = os.stat(path).st_mode
    except OSError as error:
        raise _os_error("read", name, error, span) from None
    if stat.S_ISDIR(mode):
        raise DiffiError(f"cannot read {shown(name)}: it is a folder", span)
    if not stat.S_ISREG(mode):
        raise DiffiError(f"cannot read {shown(name)}: not a regular file (a device or a "
                         f"pipe)", span)


def _read_at_most(fd: int, count: int) -> bytes:
    parts, left = [], count
    while left > 0:
        chunk = os.read(fd, min(left, 1 << 20))
        if not chunk:
            break
        parts.append(chunk)
        left -= len(chunk)
    return b"".join(parts)


def _decoded(data: bytes, name: str, span) -> str:
    if b"\x00" in data:
        raise DiffiError(f"cannot read {shown(name)}: it is not a text file (it holds a "
                         f"NUL byte)", span)
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError:
        raise DiffiError(f"cannot read {shown(name)}: it is not a text file (UTF-8)",
                         span) from None
    return text[1:] if text.startswith("\ufeff") else text


def write_text(path: str, name: str, text: str, span) -> None:
    """Write a text file (never over a device, a pipe or a folder)."""
    try:
        mode = os.stat(path).st_mode
    except OSError:
        mode = None
    if mode is not None and not stat.S_ISREG(mode):
        raise DiffiError(f"cannot write {shown(name)}: not a regular file", span)
    try:
        with open(path, "w", encoding="utf-8", newline="") as handle:
            handle.write(text)
    except OSError as error:
        raise _os_error("write", name, error, span) from None


def _os_error(verb: str, name: str, error: OSError, span) -> DiffiError:
    reason = error.strerror or type(error).__name__
    return DiffiError(f"cannot {verb} {shown(name)}: {reason}", span)
