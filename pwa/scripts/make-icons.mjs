// Draws the app icons as PNG files with Node's built-in modules only (zlib for the IDAT stream).
// The motif: a white ID card with a blue photo box and three text lines on the theme blue.
import { deflateSync } from 'node:zlib'
import { writeFileSync, mkdirSync } from 'node:fs'

const BLUE = [11, 79, 163]
const WHITE = [255, 255, 255]
const LIGHT = [209, 225, 245]
const GOLD = [242, 183, 5]

const crcTable = new Uint32Array(256).map((_, n) => {
  let c = n
  for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1
  return c >>> 0
})
function crc32(buf) {
  let c = 0xffffffff
  for (const b of buf) c = crcTable[(c ^ b) & 0xff] ^ (c >>> 8)
  return (c ^ 0xffffffff) >>> 0
}
function chunk(type, data) {
  const len = Buffer.alloc(4)
  len.writeUInt32BE(data.length)
  const td = Buffer.concat([Buffer.from(type, 'ascii'), data])
  const crc = Buffer.alloc(4)
  crc.writeUInt32BE(crc32(td))
  return Buffer.concat([len, td, crc])
}
function png(size, paint) {
  const rows = []
  for (let y = 0; y < size; y++) {
    const row = Buffer.alloc(1 + size * 4)
    for (let x = 0; x < size; x++) {
      const [r, g, b, a] = paint(x / size, y / size)
      row.set([r, g, b, a], 1 + x * 4)
    }
    rows.push(row)
  }
  const ihdr = Buffer.alloc(13)
  ihdr.writeUInt32BE(size, 0)
  ihdr.writeUInt32BE(size, 4)
  ihdr.set([8, 6, 0, 0, 0], 8)
  return Buffer.concat([
    Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]),
    chunk('IHDR', ihdr),
    chunk('IDAT', deflateSync(Buffer.concat(rows), { level: 9 })),
    chunk('IEND', Buffer.alloc(0)),
  ])
}
const inRect = (x, y, x0, y0, x1, y1, r = 0) => {
  if (x < x0 || x > x1 || y < y0 || y > y1) return false
  const cx = Math.min(Math.max(x, x0 + r), x1 - r)
  const cy = Math.min(Math.max(y, y0 + r), y1 - r)
  return (x - cx) ** 2 + (y - cy) ** 2 <= r * r
}
// The card within a unit square; `s` scales it about the centre (maskable keeps it in the safe zone).
function card(x, y, s) {
  const u = (x - 0.5) / s + 0.5
  const v = (y - 0.5) / s + 0.5
  if (!inRect(u, v, 0.12, 0.24, 0.88, 0.76, 0.06)) return null
  if (inRect(u, v, 0.25, 0.4, 0.35, 0.5, 0.05)) return BLUE
  if (inRect(u, v, 0.22, 0.52, 0.38, 0.64, 0.04)) return BLUE
  if (inRect(u, v, 0.18, 0.33, 0.42, 0.67, 0.02)) return LIGHT
  for (const [a, b] of [[0.36, 0.42], [0.47, 0.53], [0.58, 0.64]])
    if (inRect(u, v, 0.48, a, 0.82, b, 0.02)) return a === 0.36 ? GOLD : LIGHT
  return WHITE
}
const plain = (x, y) => {
  if (!inRect(x, y, 0, 0, 1, 1, 0.18)) return [0, 0, 0, 0]
  return [...(card(x, y, 1) ?? BLUE), 255]
}
const maskable = (x, y) => [...(card(x, y, 0.72) ?? BLUE), 255]

mkdirSync(new URL('../public/icons/', import.meta.url), { recursive: true })
const out = (name, buf) => writeFileSync(new URL(`../public/icons/${name}`, import.meta.url), buf)
out('icon-192.png', png(192, plain))
out('icon-512.png', png(512, plain))
out('maskable-512.png', png(512, maskable))
out('favicon.png', png(48, plain))
console.log('icons written to public/icons/')
