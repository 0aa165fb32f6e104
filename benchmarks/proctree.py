"""Memory of a process tree on Linux, for the benchmarks: proportional set size summed over the tree.

PSS, not resident size: pages shared between processes (the models a forked helper or worker inherits
copy-on-write) count once in the sum, where resident sizes would count them in every process.
"""

from __future__ import annotations

import os


def pss(pid: int) -> int:
    """Bytes of ``pid``'s proportional set size (0 when it is gone or unreadable)."""
    try:
        with open(f"/proc/{pid}/smaps_rollup", encoding="ascii") as handle:
            for line in handle:
                if line.startswith("Pss:"):
                    return int(line.split()[1]) * 1024
    except (OSError, ValueError, IndexError):
        pass
    return 0


def tree_memory(root: int) -> int:
    """Bytes held by ``root`` and every process below it (PSS)."""
    children: dict[int, list[int]] = {}
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/stat", "rb") as handle:
                ppid = int(handle.read().rsplit(b")", 1)[1].split()[1])
        except (OSError, IndexError, ValueError):
            continue
        children.setdefault(ppid, []).append(int(entry))
    total, todo = 0, [root]
    while todo:
        pid = todo.pop()
        total += pss(pid)
        todo.extend(children.get(pid, []))
    return total
