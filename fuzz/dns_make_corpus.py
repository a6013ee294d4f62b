#!/usr/bin/env python3
"""Writes the seed corpora of the DNS fuzz targets: fuzz/corpus/dns_message/ (queries of each
kind, and responses as examples/dns gave them) and fuzz/corpus/dns_zone/ (small zone files
using each feature of the master format). Deterministic; run from anywhere."""
import os
import struct

HERE = os.path.dirname(os.path.abspath(__file__))


def name(text):
    out = b""
    for label in text.rstrip(".").split("."):
        if label:
            out += bytes([len(label)]) + label.encode()
    return out + b"\0"


def query(qname, qtype, ident=0x1234, flags=0x0100, edns=None, do=False, qdcount=1, opcode=0):
    header = struct.pack(">HHHHHH", ident, flags | (opcode << 11), qdcount, 0, 0, 1 if edns else 0)
    body = name(qname) + struct.pack(">HH", qtype, 1)
    if edns:
        body += b"\0" + struct.pack(">HHIH", 41, edns, 0x8000 if do else 0, 0)
    return header + body


def response_with_pointers():
    # www.example.org A with the owner compressed, and an MX whose exchange points back.
    header = struct.pack(">HHHHHH", 1, 0x8400, 1, 2, 0, 0)
    q = name("www.example.org") + struct.pack(">HH", 1, 1)
    a = b"\xc0\x0c" + struct.pack(">HHIH", 1, 1, 3600, 4) + bytes([198, 18, 0, 80])
    mx = b"\xc0\x10" + struct.pack(">HHIH", 15, 1, 60, 9) + b"\x00\x0a\x04mail\xc0\x10"
    return header + q + a + mx


messages = {
    "query_a": query("www.example.org", 1),
    "query_mixed_case_edns": query("WwW.ExAmPlE.oRg", 28, edns=1232, do=True),
    "query_mx": query("example.org", 15, edns=4096),
    "query_wildcard": query("x.wild.example.org", 16),
    "query_referral": query("www.child.example.org", 1),
    "query_refused": query("www.example.net", 1),
    "query_axfr": query("example.org", 252),
    "query_any": query("example.org", 255),
    "query_notify": query("example.org", 6, opcode=4),
    "query_two_questions": query("example.org", 1, qdcount=2),
    "query_unknown_type": query("unknown.example.org", 65280),
    "response_pointers": response_with_pointers(),
    "pointer_loop": struct.pack(">HHHHHH", 1, 0, 1, 0, 0, 0) + b"\x01a\xc0\x0c\x00\x01\x00\x01",
}

zones = {
    "basic.zone": """$ORIGIN example.org.
$TTL 1h
@ SOA ns1 hostmaster ( 1 2h 30m 2w 5m )
  NS ns1
ns1 A 198.18.0.53
www A 198.18.0.80
    AAAA 2001:db8::80
""",
    "types.zone": """$ORIGIN example.org.
$TTL 60
@ IN SOA ns1.example.org. h.example.org. 1 2 3 4 5
@ IN NS ns1
ns1 IN 300 A 198.18.0.1
mx MX 10 ns1
txt TXT "a \\"quoted\\" string" unquoted \\065
srv SRV 1 2 53 ns1
caa CAA 0 issue "ca.example.net"
cn CNAME ns1
ptr PTR ns1.example.org.
u TYPE65280 \\# 3 abcdef
g A \\# 4 c6120001
*.w A 198.18.0.2
a.b.ent A 198.18.0.3
child NS ns.child
ns.child A 198.18.0.4
""",
    "escapes.zone": """$TTL 60
example.org. SOA ns.example.org. h.example.org. 1 2 3 4 5
example.org. NS ns.example.org.
a\\.b.example.org. TXT "x;y" ; a comment
\\065\\066.example.org. A 198.18.0.5
""",
    "bad_paren.zone": "$TTL 60\n@ SOA ns h ( 1 2 3 4 5\n",
    # RDATA in the generic form of known types: an SOA whose timers use all 32 bits, and a CAA.
    "generic.zone": """$ORIGIN example.org.
@ 60 SOA \\# 22 00 00 ffffffff ffffffff ffffffff ffffffff ffffffff
@ 60 NS ns
caa 60 CAA \\# 8 00 05 6973737565 61
""",
    # Long names full of bytes that are written escaped (\\DDD), near the 255-byte limit.
    "long_names.zone": "$ORIGIN " + ".".join(["\\255" * 60] * 3) + ".org.\n$TTL 60\n"
    + "@ SOA ns\\000\\000 host\\255 1 2 3 4 5\n@ NS ns\\000\\000\n",
}

for directory, files, mode in (("dns_message", messages, "wb"), ("dns_zone", zones, "w")):
    path = os.path.join(HERE, "corpus", directory)
    os.makedirs(path, exist_ok=True)
    for file_name, content in files.items():
        with open(os.path.join(path, file_name), mode) as f:
            f.write(content)
