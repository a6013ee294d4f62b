#!/usr/bin/env python3
"""Writes the seed disks of disk_store_fuzz in fuzz/corpus/disk_store/: small stores in the
format of include/sarab/storage/disk_store.hpp (512-byte sectors), so that the fuzzer starts
past the CRCs. Run from anywhere: python3 fuzz/disk_store_corpus.py. The folder is rewritten.
"""
import pathlib
import struct

SECTOR = 512


def crc32c(data, previous=0):
    c = previous ^ 0xFFFFFFFF
    for b in data:
        c ^= b
        for _ in range(8):
            c = (c >> 1) ^ 0x82F63B78 if c & 1 else c >> 1
    return c ^ 0xFFFFFFFF


def area_header(area_sectors, generation):
    salt = (generation * 0x9E3779B97F4A7C15) & 0xFFFFFFFFFFFFFFFF  # any 8 bytes do
    head = b"sarab-kv" + struct.pack("<IIQQQ", 1, SECTOR, area_sectors, generation, salt)
    head += struct.pack("<I", crc32c(head))
    return head.ljust(SECTOR, b"\0"), crc32c(head[:40])


def record(kind, key, value, generation, sequence, chain):
    body = struct.pack("<QQB3xIII", generation, sequence, kind, len(key), len(value), 0) + key + value
    crc = crc32c(body, chain)
    raw = struct.pack("<II", 0x766B7273, crc) + body
    return raw.ljust(-(-len(raw) // SECTOR) * SECTOR, b"\0"), crc


def store(sectors, area, generation, changes, tail=b""):
    """A disk of `sectors` whose area `area` holds `changes` ((kind, key, value) in order)."""
    half = sectors // 2
    disk = bytearray(sectors * SECTOR)
    header, chain = area_header(half, generation)
    start = area * half * SECTOR
    disk[start:start + SECTOR] = header
    at = start + SECTOR
    for sequence, (kind, key, value) in enumerate(changes, 1):
        raw, chain = record(kind, key, value, generation, sequence, chain)
        disk[at:at + len(raw)] = raw
        at += len(raw)
    disk[at:at + len(tail)] = tail
    return bytes(disk)


def main():
    out = pathlib.Path(__file__).resolve().parent / "corpus" / "disk_store"
    out.mkdir(parents=True, exist_ok=True)
    for old in out.iterdir():
        old.unlink()
    seeds = {
        "empty": store(16, 0, 1, []),
        "three": store(32, 0, 1, [(1, b"greeting", b"hello"), (1, b"notes/1", b"x" * 600), (2, b"greeting", b"")]),
        "second_area": store(32, 1, 2, [(1, b"a", b"alpha"), (1, b"b", b"beta" * 100)]),
        "torn_tail": store(24, 0, 1, [(1, b"k", b"v" * 700)], tail=struct.pack("<II", 0x766B7273, 12345) + b"\x01" * 100),
    }
    # An older generation left in the other area, as a compaction leaves it.
    both = bytearray(store(32, 1, 3, [(1, b"new", b"1")]))
    both[:16 * SECTOR] = store(32, 0, 2, [(1, b"old", b"0"), (1, b"new", b"0")])[:16 * SECTOR]
    seeds["both_areas"] = bytes(both)
    for name, disk in seeds.items():
        (out / name).write_bytes(disk)
    print(f"{len(seeds)} seeds in {out}")


if __name__ == "__main__":
    main()
