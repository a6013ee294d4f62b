#!/usr/bin/env python3
"""A DNS server under benchmark as the tree of processes and threads it is.

    server_tree.py ticks PID      CPU time (clock ticks, utime + stime) of PID and all its
                                  descendants: NSD forks its main and server processes below
                                  the one started
    server_tree.py pin PID CPU    binds every thread of PID and its descendants to CPU and
                                  checks that each took it; prints how many threads

Pinning the started process with taskset is not enough: servers may set their threads'
affinity themselves. Knot binds each UDP worker to a CPU of its own choosing (worker i to CPU
i), which put its only UDP worker on dnsperf's CPU and made its queries per server
CPU-second look twice as good as they are (loopback delivery on one CPU, no wake-ups across).
"""
import os
import sys


def tree(root):
    parents = {}
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                with open(f"/proc/{entry}/stat") as f:
                    fields = f.read().rsplit(")", 1)[1].split()
            except OSError:
                continue
            parents[int(entry)] = int(fields[1])
    found, todo = [], [root]
    while todo:
        pid = todo.pop()
        found.append(pid)
        todo += [p for p, ppid in parents.items() if ppid == pid]
    return found


def ticks(pid):
    try:
        with open(f"/proc/{pid}/stat") as f:
            fields = f.read().rsplit(")", 1)[1].split()
    except OSError:
        return 0
    # After the command name: state, ppid, ... utime and stime are fields 14 and 15.
    return int(fields[11]) + int(fields[12])


def threads(pid):
    try:
        return [int(t) for t in os.listdir(f"/proc/{pid}/task")]
    except OSError:
        return []


def main():
    if len(sys.argv) == 3 and sys.argv[1] == "ticks":
        print(sum(ticks(pid) for pid in tree(int(sys.argv[2]))))
    elif len(sys.argv) == 4 and sys.argv[1] == "pin":
        cpu = int(sys.argv[3])
        tids = [tid for pid in tree(int(sys.argv[2])) for tid in threads(pid)]
        for tid in tids:
            os.sched_setaffinity(tid, {cpu})
        wrong = [tid for tid in tids if os.sched_getaffinity(tid) != {cpu}]
        if wrong or not tids:
            sys.exit(f"could not pin threads {wrong or tids} to CPU {cpu}")
        print(len(tids))
    else:
        sys.exit(__doc__)


main()
