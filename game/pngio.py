"""A tiny PNG writer and reader (zlib only): 8-bit grey or RGB images as numpy arrays.

The simulation needs no image library: ``lumen snapshot`` and the screenshot tests write PNGs with this.
"""

from __future__ import annotations

import struct
import zlib
from pathlib import Path

import numpy as np

_SIGNATURE = b"\x89PNG\r\n\x1a\n"
_COLOUR_TYPE = {1: 0, 3: 2, 4: 6}  # channels -> PNG colour type (grey, RGB, RGBA)


def _chunk(kind: bytes, data: bytes) -> bytes:
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF)


def encode_png(image: np.ndarray, compression: int = 6) -> bytes:
    """PNG bytes of a uint8 image: (H, W) grey, (H, W, 3) RGB or (H, W, 4) RGBA."""
    a = np.asarray(image)
    if a.dtype != np.uint8:
        raise ValueError(f"PNG images must be uint8, not {a.dtype}")
    if a.ndim == 2:
        a = a[:, :, None]
    if a.ndim != 3 or a.shape[2] not in _COLOUR_TYPE:
        raise ValueError(f"PNG images must be (H, W), (H, W, 3) or (H, W, 4), not {image.shape}")
    height, width, channels = a.shape
    header = struct.pack(">IIBBBBB", width, height, 8, _COLOUR_TYPE[channels], 0, 0, 0)
    rows = np.concatenate([np.zeros((height, 1), dtype=np.uint8), a.reshape(height, width * channels)], axis=1)
    data = zlib.compress(rows.tobytes(), compression)
    return _SIGNATURE + _chunk(b"IHDR", header) + _chunk(b"IDAT", data) + _chunk(b"IEND", b"")


def write_png(path: str | Path, image: np.ndarray) -> None:
    """Write a uint8 grey (H, W) or RGB (H, W, 3) image to ``path``."""
    Path(path).write_bytes(encode_png(image))


def read_png(path: str | Path) -> np.ndarray:
    """Read an 8-bit, non-interlaced grey/RGB/RGBA PNG (as this module writes) into a uint8 array."""
    data = Path(path).read_bytes()
    if not data.startswith(_SIGNATURE):
        raise ValueError(f"{path}: not a PNG file")
    pos = len(_SIGNATURE)
    idat = b""
    width = height = channels = 0
    while pos < len(data):
        (length,) = struct.unpack(">I", data[pos : pos + 4])
        kind = data[pos + 4 : pos + 8]
        body = data[pos + 8 : pos + 8 + length]
        pos += 12 + length
        if kind == b"IHDR":
            width, height, depth, colour, _, _, interlace = struct.unpack(">IIBBBBB", body)
            inverse = {v: k for k, v in _COLOUR_TYPE.items()}
            if depth != 8 or colour not in inverse or interlace:
                raise ValueError(f"{path}: only 8-bit non-interlaced grey/RGB/RGBA PNGs are supported")
            channels = inverse[colour]
        elif kind == b"IDAT":
            idat += body
        elif kind == b"IEND":
            break
    raw = np.frombuffer(zlib.decompress(idat), dtype=np.uint8).reshape(height, 1 + width * channels)
    out = np.zeros((height, width * channels), dtype=np.int32)
    previous = np.zeros(width * channels, dtype=np.int32)
    for y in range(height):
        kind, line = raw[y, 0], raw[y, 1:].astype(np.int32)
        if kind == 0:
            row = line
        elif kind == 2:
            row = (line + previous) & 0xFF
        else:
            row = _unfilter_slow(kind, line, previous, channels)
        out[y] = row
        previous = row
    image = out.astype(np.uint8).reshape(height, width, channels)
    return image[:, :, 0] if channels == 1 else image


def _unfilter_slow(kind: int, line: np.ndarray, previous: np.ndarray, bpp: int) -> np.ndarray:
    row = np.zeros_like(line)
    for i in range(len(line)):
        left = row[i - bpp] if i >= bpp else 0
        up = previous[i]
        up_left = previous[i - bpp] if i >= bpp else 0
        if kind == 1:
            pred = left
        elif kind == 3:
            pred = (left + up) // 2
        elif kind == 4:
            p = left + up - up_left
            pa, pb, pc = abs(p - left), abs(p - up), abs(p - up_left)
            pred = left if pa <= pb and pa <= pc else (up if pb <= pc else up_left)
        else:
            raise ValueError(f"unknown PNG filter {kind}")
        row[i] = (line[i] + pred) & 0xFF
    return row
