#!/usr/bin/env python3
"""Writes the benchmark zone (about 400 records) and a dnsperf query file for it.

usage: make_zone.py ZONE_FILE QUERY_FILE
The zone has hosts with A and AAAA (addresses from 198.18.0.0/15 and 2001:db8::/32 only),
MX, TXT, CNAMEs and a wildcard. The queries mix positive answers of each type (most of
them), NODATA, NXDOMAIN and wildcard names, in a fixed order.
"""
import sys

zone_path, query_path = sys.argv[1], sys.argv[2]
lines = [
    "$ORIGIN example.org.",
    "$TTL 3600",
    "@ SOA ns1 hostmaster 2024010101 7200 1800 1209600 300",
    "  NS ns1",
    "  NS ns2",
    "  MX 10 mail",
    '  TXT "v=spf1 -all"',
    "ns1 A 198.18.0.53",
    "ns2 A 198.18.0.54",
    "mail A 198.18.0.25",
    "*.wild A 198.18.1.1",
]
queries = []
for i in range(130):
    host = f"host{i}"
    lines.append(f"{host} A 198.18.{2 + i // 250}.{i % 250}")
    lines.append(f"{host} AAAA 2001:db8::{i:x}")
    lines.append(f'{host} TXT "host number {i}"')
    queries += [f"{host}.example.org A", f"{host}.example.org AAAA"]
    if i % 3 == 0:
        queries.append(f"{host}.example.org TXT")
    if i % 10 == 0:
        lines.append(f"alias{i} CNAME {host}")
        queries.append(f"alias{i}.example.org A")
for i in range(20):
    queries.append(f"missing{i}.example.org A")      # NXDOMAIN
    queries.append(f"host{i}.example.org MX")       # NODATA
    queries.append(f"w{i}.wild.example.org A")      # wildcard
queries += ["example.org MX", "example.org NS", "example.org SOA", "example.org TXT"]
with open(zone_path, "w") as f:
    f.write("\n".join(lines) + "\n")
with open(query_path, "w") as f:
    f.write("\n".join(queries) + "\n")
print(f"{len(lines) - 2} records, {len(queries)} queries", file=sys.stderr)
