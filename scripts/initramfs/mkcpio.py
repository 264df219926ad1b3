#!/usr/bin/env python3
"""Writes a directory tree as a gzip-compressed newc cpio archive, deterministically: entries in
sorted order, owner root, one fixed mtime, no gzip name or timestamp. Device nodes, which an
unprivileged build cannot create on disk, are added from --node arguments.

usage: mkcpio.py ROOT OUT.cpio.gz [--mtime N] [--node PATH:c|b:MAJOR:MINOR:MODE ...]"""
import argparse
import gzip
import os
import stat
import sys


def header(ino, mode, nlink, mtime, size, rdev_major, rdev_minor, name):
    """One newc header and its padded name (the kernel's initramfs format, 'new ASCII')."""
    namez = name.encode() + b"\0"
    fields = [ino, mode, 0, 0, nlink, mtime, size, 0, 0, rdev_major, rdev_minor, len(namez), 0]
    hdr = b"070701" + b"".join(b"%08x" % f for f in fields) + namez
    return hdr + b"\0" * (-len(hdr) % 4)


def pad(data):
    return data + b"\0" * (-len(data) % 4)


def entries(root):
    """(archive name, lstat, payload) for every path under root, parents before children."""
    out = []
    for dirpath, dirnames, filenames in os.walk(root):
        dirnames.sort()
        rel = os.path.relpath(dirpath, root)
        if rel != ".":
            out.append((rel, os.lstat(dirpath), b""))
        for name in sorted(filenames + [d for d in dirnames if os.path.islink(os.path.join(dirpath, d))]):
            path = os.path.join(dirpath, name)
            st = os.lstat(path)
            arc = os.path.normpath(os.path.join(rel, name))
            if stat.S_ISLNK(st.st_mode):
                out.append((arc, st, os.readlink(path).encode()))
            elif stat.S_ISREG(st.st_mode):
                with open(path, "rb") as f:
                    out.append((arc, st, f.read()))
            else:
                sys.exit(f"mkcpio: {path}: not a file, directory or symlink")
    return sorted(out, key=lambda e: e[0])


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("root")
    ap.add_argument("out")
    ap.add_argument("--mtime", type=int, default=0)
    ap.add_argument("--node", action="append", default=[])
    args = ap.parse_args()

    blob = bytearray()
    ino = 1
    for arc, st, data in entries(args.root):
        if stat.S_ISDIR(st.st_mode):
            mode, nlink = stat.S_IFDIR | 0o755, 2
        elif stat.S_ISLNK(st.st_mode):
            mode, nlink = stat.S_IFLNK | 0o777, 1
        else:
            mode, nlink = stat.S_IFREG | (0o755 if st.st_mode & 0o111 else 0o644), 1
        blob += header(ino, mode, nlink, args.mtime, len(data), 0, 0, arc) + pad(data)
        ino += 1
    for node in args.node:
        path, kind, major, minor, perm = node.split(":")
        ftype = stat.S_IFCHR if kind == "c" else stat.S_IFBLK
        blob += header(ino, ftype | int(perm, 8), 1, args.mtime, 0, int(major), int(minor), path)
        ino += 1
    blob += header(0, 0, 1, 0, 0, 0, 0, "TRAILER!!!")
    blob += b"\0" * (-len(blob) % 512)

    tmp = args.out + ".tmp"
    with open(tmp, "wb") as raw:
        with gzip.GzipFile(filename="", mode="wb", fileobj=raw, mtime=0, compresslevel=9) as gz:
            gz.write(bytes(blob))
    os.replace(tmp, args.out)


if __name__ == "__main__":
    main()
