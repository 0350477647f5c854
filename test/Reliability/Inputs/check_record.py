#!/usr/bin/env python3
"""Checks a module's integrity record independently of Loom's code: reads the
ELF section headers with struct, finds .note.loom.integrity, checks the note
(docs/abi.md, "Integrity record") and compares its digest with hashlib's
SHA-256 of the file with the digest's 32 bytes zeroed.

usage: check_record.py MODULE   (prints 'record ok: <digest>' or fails)
"""
import hashlib
import struct
import sys


def main(path):
    data = bytearray(open(path, "rb").read())
    assert data[:4] == b"\x7fELF" and data[4] == 2, "not a 64-bit ELF file"
    shoff, = struct.unpack_from("<Q", data, 0x28)
    shentsize, shnum, shstrndx = struct.unpack_from("<HHH", data, 0x3A)
    sections = [struct.unpack_from("<IIQQQQIIQQ", data, shoff + i * shentsize)
                for i in range(shnum)]
    names_offset = sections[shstrndx][4]
    found = []
    for name, stype, _, _, offset, size, _, _, _, _ in sections:
        end = data.index(b"\0", names_offset + name)
        if data[names_offset + name:end] == b".note.loom.integrity":
            found.append((stype, offset, size))
    assert len(found) == 1, "%d integrity sections" % len(found)
    stype, offset, size = found[0]
    assert stype == 7 and size == 60, "not the note (type %d, %d bytes)" % (stype, size)
    namesz, descsz, ntype = struct.unpack_from("<III", data, offset)
    assert (namesz, descsz, ntype) == (5, 40, 1), "note header"
    assert data[offset + 12:offset + 20] == b"Loom\0\0\0\0", "note owner"
    version, algorithm = struct.unpack_from("<II", data, offset + 20)
    assert (version, algorithm) == (1, 1), "record version/algorithm"
    digest = bytes(data[offset + 28:offset + 60])
    data[offset + 28:offset + 60] = bytes(32)
    actual = hashlib.sha256(data).digest()
    assert actual == digest, "digest %s, recorded %s" % (actual.hex(), digest.hex())
    print("record ok: " + digest.hex())


if __name__ == "__main__":
    main(sys.argv[1])
