#!/usr/bin/env python3
"""Loads Sarab's home page (examples/www) in headless Chromium and checks that the 1280x800
screenshot shows the rendered page: the night-blue top bar, the sand background, the orange
button and the headline.

    check_screenshot.py URL WORK_DIR

Chromium (the Debian package) runs with the flags this machine needs (no sandbox as root, no
background networking), a new profile in WORK_DIR and a two-minute limit; the screenshot is
WORK_DIR/home.png. The PNG is decoded here (zlib and the five filters), so nothing beyond
Python is needed. Exits non-zero, saying what is missing, when the page is not there.
"""
import os, shutil, struct, subprocess, sys, zlib

url, work = sys.argv[1], sys.argv[2]
browser = shutil.which("chromium") or shutil.which("chromium-browser")
if not browser:
    sys.exit("chromium is missing (Debian package chromium)")
shot = os.path.join(work, "home.png")
run = subprocess.run([browser, "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                      "--disable-background-networking", "--disable-component-update", "--disable-sync",
                      "--user-data-dir=" + os.path.join(work, "chromium-profile"), "--screenshot=" + shot,
                      "--window-size=1280,800", url], capture_output=True, text=True, timeout=120)
if run.returncode != 0 or not os.path.exists(shot) or os.path.getsize(shot) == 0:
    sys.exit("chromium failed (status %d): %s" % (run.returncode, run.stderr[-500:]))

def decode_png(path):
    data = open(path, "rb").read()
    assert data[:8] == b"\x89PNG\r\n\x1a\n", "not a PNG"
    at, idat = 8, b""
    while at < len(data):
        n, kind = struct.unpack(">I4s", data[at:at + 8])
        body = data[at + 8:at + 8 + n]
        if kind == b"IHDR":
            width, height, depth, color, _, _, interlace = struct.unpack(">IIBBBBB", body)
        elif kind == b"IDAT":
            idat += body
        at += 12 + n
    assert depth == 8 and color in (2, 6) and interlace == 0, "unexpected PNG format"
    bpp = 3 if color == 2 else 4
    raw, stride = zlib.decompress(idat), width * bpp
    rows, prev = [], bytearray(stride)
    for y in range(height):
        f = raw[y * (stride + 1)]
        line = bytearray(raw[y * (stride + 1) + 1:(y + 1) * (stride + 1)])
        for i in range(stride):
            a = line[i - bpp] if i >= bpp else 0
            b, c = prev[i], prev[i - bpp] if i >= bpp else 0
            if f == 1: line[i] = (line[i] + a) & 255
            elif f == 2: line[i] = (line[i] + b) & 255
            elif f == 3: line[i] = (line[i] + (a + b) // 2) & 255
            elif f == 4:
                p = a + b - c
                pa, pb, pc = abs(p - a), abs(p - b), abs(p - c)
                line[i] = (line[i] + (a if pa <= pb and pa <= pc else b if pb <= pc else c)) & 255
        rows.append(bytes(line))
        prev = line
    return width, height, bpp, rows

w, h, bpp, rows = decode_png(shot)
assert (w, h) == (1280, 800), "screenshot is %dx%d" % (w, h)

def share(y0, y1, rgb, tol=12):
    hit = total = 0
    for y in range(y0, y1, 2):
        row = rows[y]
        for x in range(0, w, 2):
            px = row[x * bpp:x * bpp + 3]
            total += 1
            if all(abs(px[i] - rgb[i]) <= tol for i in range(3)):
                hit += 1
    return hit / total

night = share(0, 50, (0x14, 0x21, 0x3d), 10)      # the top bar
sand = share(560, 800, (0xf6, 0xef, 0xe2), 6)      # the page below the hero
sun = share(380, 480, (0xe3, 0x70, 0x2d), 10)      # the "Quick start" button
heading = share(120, 250, (0xf4, 0xa2, 0x59), 30)  # the headline's orange words
white = share(120, 250, (0xff, 0xff, 0xff), 40)    # the headline's white words
print("screenshot: night %.2f, sand %.2f, sun %.3f, heading orange %.3f, white %.3f" % (night, sand, sun, heading, white))
assert night > 0.6, "the night-blue top bar is missing"
assert sand > 0.4, "the sand background is missing"
assert sun > 0.005, "the orange button is missing"
assert heading > 0.01 and white > 0.01, "the headline is not rendered"
