#!/usr/bin/env python3
"""Asks two DNS servers the same generated questions with dig and compares the answers.

Each response is reduced to its rcode, its header flags and each section as a set of
records (names lower-case, since a server may answer in the question's case or the zone's),
so that record order, compression and case do not count as differences. Truncated answers
(TC) are compared by flags only: what a server puts in a truncated message is its own choice.

usage: differential.py ZONE_FILE ORIGIN PORT_A PORT_B [--count N] [--seed S]
"""
import argparse
import random
import re
import subprocess
import sys

TYPES = ["A", "AAAA", "NS", "CNAME", "SOA", "MX", "TXT", "PTR", "SRV", "CAA", "TYPE65280", "DS", "HINFO", "ANY"]


def zone_names(path, origin):
    """Owner names of the zone file, completed with the origin (a rough reading is enough)."""
    names = set()
    current_origin = origin
    last = origin
    with open(path) as f:
        for line in f:
            line = line.split(";", 1)[0].rstrip("\n")
            if not line.strip():
                continue
            if line.startswith("$ORIGIN"):
                current_origin = line.split()[1]
                continue
            if line.startswith("$") or line[0] in " \t" or line.strip().startswith(")") or line.strip()[0].isdigit():
                continue
            owner = line.split()[0]
            if owner == "@":
                owner = current_origin
            elif not owner.endswith("."):
                owner = owner + "." + current_origin
            last = owner
            names.add(owner.lower())
    del last
    return sorted(names)


def questions(names, origin, count, seed):
    rng = random.Random(seed)
    # Names that are not in the zone: below existing ones, beside them, under wildcards,
    # under the delegation, outside the zone.
    extra = ["nothing." + origin, "a.b.c.nothing." + origin, "x.www." + origin, "com.", "example.net.",
             "www.example.com.", "org.", "."]
    pool = names + extra
    out = []
    for i in range(count):
        name = rng.choice(pool)
        r = rng.random()
        if r < 0.25:
            name = rng.choice(["zz", "q1", "deep.er", "*"]) + "." + (name if name != "." else "")
        if rng.random() < 0.3:
            name = "".join(c.upper() if rng.random() < 0.5 else c for c in name)
        qtype = rng.choice(TYPES)
        opts = []
        t = rng.random()
        if t < 0.1:
            opts.append("+noedns")
        elif t < 0.2:
            opts.append("+tcp")
        elif t < 0.25:
            opts.append("+bufsize=512")
        out.append((name, qtype, opts))
    # Every name with the common types, plainly.
    for n in names:
        for qtype in ("A", "AAAA", "MX", "TXT"):
            out.append((n, qtype, []))
    return out


HEADER = re.compile(r";; ->>HEADER<<- opcode: (\S+), status: (\S+), id: (\d+)")
FLAGS = re.compile(r";; flags:([^;]*);")
SECTION = re.compile(r";; (ANSWER|AUTHORITY|ADDITIONAL) SECTION:")


def normalise(record):
    fields = record.split(None, 4)
    if len(fields) < 5:
        return record
    owner, ttl, klass, rtype, rdata = fields
    if rtype not in ("TXT", "CAA"):
        rdata = rdata.lower()
    return " ".join([owner.lower(), ttl, klass, rtype, rdata])


def ask(port, qs):
    """One dig process for all questions (batch mode); one parsed response per question."""
    batch = "\n".join(" ".join([name, qtype] + opts) for name, qtype, opts in qs) + "\n"
    result = subprocess.run(
        ["dig", "@127.0.0.1", "-p", str(port), "+norec", "+time=3", "+tries=2", "+nocookie", "+ignore",
         "+noall", "+comments", "+question", "+answer", "+authority", "+additional", "-f", "-"],
        input=batch, capture_output=True, text=True, timeout=300)
    responses = []
    current = None
    section = None
    for line in result.stdout.splitlines():
        m = HEADER.search(line)
        if m:
            current = {"status": m.group(2), "flags": set(), "ANSWER": set(), "AUTHORITY": set(), "ADDITIONAL": set()}
            responses.append(current)
            section = None
            continue
        if current is None:
            continue
        m = FLAGS.search(line)
        if m:
            current["flags"] = set(m.group(1).split())
            continue
        m = SECTION.search(line)
        if m:
            section = m.group(1)
            continue
        if line.startswith(";") or not line.strip():
            if line.startswith(";; QUESTION") or line.startswith(";; OPT"):
                section = None
            continue
        if section:
            current[section].add(normalise(line))
    if len(responses) != len(qs):
        sys.exit(f"port {port}: {len(responses)} responses to {len(qs)} questions:\n{result.stderr[-2000:]}")
    return responses


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("zone")
    ap.add_argument("origin")
    ap.add_argument("port_a", type=int)
    ap.add_argument("port_b", type=int)
    ap.add_argument("--count", type=int, default=300)
    ap.add_argument("--seed", type=int, default=5)
    ap.add_argument("--skip-sections", default="", help="comma-separated sections not compared")
    ap.add_argument("--exclude-types", default="", help="comma-separated query types not asked")
    args = ap.parse_args()

    names = zone_names(args.zone, args.origin)
    excluded = set(filter(None, args.exclude_types.split(",")))
    qs = [q for q in questions(names, args.origin, args.count, args.seed) if q[1] not in excluded]
    a = ask(args.port_a, qs)
    b = ask(args.port_b, qs)
    skip = set(filter(None, args.skip_sections.split(",")))
    differences = 0
    for (name, qtype, opts), x, y in zip(qs, a, b):
        what = []
        if x["status"] != y["status"]:
            what.append(f"rcode {x['status']} != {y['status']}")
        if x["flags"] != y["flags"]:
            what.append(f"flags {sorted(x['flags'])} != {sorted(y['flags'])}")
        if "tc" not in x["flags"] and "tc" not in y["flags"]:
            for s in ("ANSWER", "AUTHORITY", "ADDITIONAL"):
                if s not in skip and x[s] != y[s]:
                    what.append(f"{s}: only A {sorted(x[s] - y[s])}, only B {sorted(y[s] - x[s])}")
        if what:
            differences += 1
            print(f"DIFF {name} {qtype} {' '.join(opts)}: " + "; ".join(what))
    print(f"{len(qs)} questions, {differences} differences")
    return 1 if differences else 0


if __name__ == "__main__":
    sys.exit(main())
