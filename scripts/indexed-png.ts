/**
 * Re-encodes a truecolour PNG (as Chromium's screenshots are: 8-bit RGB, not interlaced) with a
 * palette of its 256 most frequent colours, each other colour drawn as the nearest of them. A
 * page of text has a few hundred colours, almost all anti-aliasing shades, so the picture looks
 * the same at about half the size.
 */
import { crc32, deflateSync, inflateSync } from "node:zlib";

const SIGNATURE = Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]);

export function indexedPng(png: Buffer): Buffer {
  if (!png.subarray(0, 8).equals(SIGNATURE)) throw new Error("not a PNG");
  let width = 0;
  let height = 0;
  const data: Buffer[] = [];
  for (let at = 8; at < png.length; ) {
    const length = png.readUInt32BE(at);
    const type = png.toString("latin1", at + 4, at + 8);
    const body = png.subarray(at + 8, at + 8 + length);
    if (type === "IHDR") {
      width = body.readUInt32BE(0);
      height = body.readUInt32BE(4);
      // 8 bits, RGB, no interlacing.
      if (body[8] !== 8 || body[9] !== 2 || body[12] !== 0) throw new Error("not 8-bit RGB");
    } else if (type === "IDAT") data.push(body);
    at += 12 + length;
  }
  const pixels = unfilter(inflateSync(Buffer.concat(data)), width, height);

  const counts = new Map<number, number>();
  for (let at = 0; at < pixels.length; at += 3) {
    const colour = pixels.readUIntBE(at, 3);
    counts.set(colour, (counts.get(colour) ?? 0) + 1);
  }
  const palette = [...counts.entries()]
    .sort((a, b) => b[1] - a[1])
    .slice(0, 256)
    .map(([colour]) => colour);
  const indexOf = new Map<number, number>();
  for (const colour of counts.keys()) indexOf.set(colour, nearest(colour, palette));

  // Filter type 0 on every row: palette indices compress best unfiltered.
  const rows = Buffer.alloc(height * (width + 1));
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      rows[y * (width + 1) + 1 + x] = indexOf.get(pixels.readUIntBE((y * width + x) * 3, 3)) ?? 0;
    }
  }
  const header = Buffer.alloc(13);
  header.writeUInt32BE(width, 0);
  header.writeUInt32BE(height, 4);
  header.set([8, 3, 0, 0, 0], 8);
  const plte = Buffer.alloc(palette.length * 3);
  for (const [at, colour] of palette.entries()) plte.writeUIntBE(colour, at * 3, 3);
  return Buffer.concat([
    SIGNATURE,
    chunk("IHDR", header),
    chunk("PLTE", plte),
    chunk("IDAT", deflateSync(rows, { level: 9 })),
    chunk("IEND", Buffer.alloc(0)),
  ]);
}

/** The RGB bytes of every row, undoing the PNG filters (RFC 2083, 6). */
function unfilter(filtered: Buffer, width: number, height: number): Buffer {
  const stride = width * 3;
  const out = Buffer.alloc(height * stride);
  for (let y = 0; y < height; y++) {
    const filter = filtered[y * (stride + 1)];
    for (let x = 0; x < stride; x++) {
      const at = y * stride + x;
      const left = x >= 3 ? (out[at - 3] ?? 0) : 0;
      const up = y > 0 ? (out[at - stride] ?? 0) : 0;
      const upLeft = x >= 3 && y > 0 ? (out[at - stride - 3] ?? 0) : 0;
      const value = filtered[y * (stride + 1) + 1 + x] ?? 0;
      const predictor =
        filter === 1
          ? left
          : filter === 2
            ? up
            : filter === 3
              ? (left + up) >> 1
              : filter === 4
                ? paeth(left, up, upLeft)
                : 0;
      out[at] = (value + predictor) & 0xff;
    }
  }
  return out;
}

function paeth(left: number, up: number, upLeft: number): number {
  const estimate = left + up - upLeft;
  const [toLeft, toUp, toUpLeft] = [left, up, upLeft].map((value) => Math.abs(estimate - value));
  if (toLeft !== undefined && toUp !== undefined && toUpLeft !== undefined) {
    if (toLeft <= toUp && toLeft <= toUpLeft) return left;
    if (toUp <= toUpLeft) return up;
  }
  return upLeft;
}

function nearest(colour: number, palette: readonly number[]): number {
  let best = 0;
  let bestDistance = Number.POSITIVE_INFINITY;
  palette.forEach((candidate, at) => {
    const distance =
      ((colour >> 16) - (candidate >> 16)) ** 2 +
      (((colour >> 8) & 0xff) - ((candidate >> 8) & 0xff)) ** 2 +
      ((colour & 0xff) - (candidate & 0xff)) ** 2;
    if (distance < bestDistance) {
      best = at;
      bestDistance = distance;
    }
  });
  return best;
}

function chunk(type: string, body: Buffer): Buffer {
  const head = Buffer.alloc(8);
  head.writeUInt32BE(body.length, 0);
  head.write(type, 4, "latin1");
  const crc = Buffer.alloc(4);
  crc.writeUInt32BE(crc32(Buffer.concat([head.subarray(4), body])), 0);
  return Buffer.concat([head, body, crc]);
}
