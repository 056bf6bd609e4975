// The scanner read through a camera: Chromium's fake capture device plays a Y4M video whose
// frames show a QR code, so the page's getUserMedia → frame → QR reader → verify path runs
// exactly as on a phone (on Debian's Chromium, without BarcodeDetector, through zxing-wasm).
import fs from 'node:fs'
import path from 'node:path'
import zlib from 'node:zlib'
import { encode } from 'uqr'

/** A grey picture (`luma`, one byte a pixel, dark 16, light 235) showing `text` as a QR code. */
export function qrPicture(text, width, height) {
  const qr = encode(text, { ecc: 'M', border: 0 })
  const quiet = 4
  const scale = Math.floor(Math.min(width, height) / (qr.size + 2 * quiet))
  if (scale < 2) throw new Error(`QR of ${qr.size} modules does not fit ${width}x${height}`)
  const x0 = Math.floor((width - qr.size * scale) / 2)
  const y0 = Math.floor((height - qr.size * scale) / 2)
  const luma = Buffer.alloc(width * height, 235)
  for (let y = 0; y < qr.size * scale; y++)
    for (let x = 0; x < qr.size * scale; x++)
      if (qr.data[Math.floor(y / scale)][Math.floor(x / scale)]) luma[(y0 + y) * width + x0 + x] = 16
  return luma
}

/** A PNG of `width`×`height` whose pixel (x, y) is the RGB triple `rgbAt(x, y)`. */
export function png(width, height, rgbAt) {
  const crcT = new Uint32Array(256).map((_, n) => { let c = n; for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1; return c >>> 0 })
  const crc = (b) => { let c = 0xffffffff; for (const x of b) c = crcT[(c ^ x) & 0xff] ^ (c >>> 8); return (c ^ 0xffffffff) >>> 0 }
  const chunk = (t, d) => { const l = Buffer.alloc(4); l.writeUInt32BE(d.length); const td = Buffer.concat([Buffer.from(t), d]); const c = Buffer.alloc(4); c.writeUInt32BE(crc(td)); return Buffer.concat([l, td, c]) }
  const rows = Buffer.concat(Array.from({ length: height }, (_, y) => Buffer.concat([Buffer.from([0]), Buffer.from(Array.from({ length: width }, (_, x) => rgbAt(x, y)).flat())])))
  const ihdr = Buffer.alloc(13); ihdr.writeUInt32BE(width, 0); ihdr.writeUInt32BE(height, 4); ihdr.set([8, 2, 0, 0, 0], 8)
  return Buffer.concat([Buffer.from([0x89, 80, 78, 71, 13, 10, 26, 10]), chunk('IHDR', ihdr), chunk('IDAT', zlib.deflateSync(rows)), chunk('IEND', Buffer.alloc(0))])
}

/** A photo (PNG) of `text` as a QR code, as a resident would choose from the gallery. */
export function qrPhoto(text, size = 600) {
  const luma = qrPicture(text, size, size)
  return png(size, size, (x, y) => { const l = luma[y * size + x]; return [l, l, l] })
}

/** Writes a Y4M (4:2:0) video of `frames` identical frames showing `text` as a QR code. */
export function qrVideo(text, file, { width = 640, height = 480, frames = 5 } = {}) {
  const luma = qrPicture(text, width, height)
  const chroma = Buffer.alloc((width / 2) * (height / 2) * 2, 128)
  const frame = Buffer.concat([Buffer.from('FRAME\n'), luma, chroma])
  const header = Buffer.from(`YUV4MPEG2 W${width} H${height} F10:1 Ip A1:1 C420jpeg\n`)
  fs.writeFileSync(file, Buffer.concat([header, ...Array(frames).fill(frame)]))
}

/**
 * Opens the scanner in a browser whose camera shows `text`, presses 扫码, and returns the
 * verdict the page shows. `now`: the page's clock (the server's, when tests shift it). A separate browser because the fake video is chosen at launch.
 */
export async function scanWithCamera({ chromium, executablePath, device, base, text, out, name, now }) {
  const video = path.join(out, `${name}.y4m`)
  qrVideo(text, video)
  const browser = await chromium.launch({
    executablePath,
    args: ['--no-sandbox', '--disable-dev-shm-usage', '--use-fake-device-for-media-stream', `--use-file-for-fake-video-capture=${video}`],
  })
  try {
    const ctx = await browser.newContext({ ...device, locale: 'zh-CN', permissions: ['camera'] })
    const page = await ctx.newPage()
    // The scanner verifies on the device with its own clock: it must agree with the server's.
    if (now) await page.clock.install({ time: now })
    await page.goto(base + '/scan')
    const reader = await page.evaluate(() => ('BarcodeDetector' in window ? 'BarcodeDetector' : 'zxing-wasm'))
    await page.getByTestId('scan-camera').click()
    const v = page.getByTestId('verdict')
    await v.waitFor({ timeout: 30_000 })
    await page.screenshot({ path: path.join(out, `${name}.png`), fullPage: true })
    return { reader, valid: await v.getAttribute('data-valid'), verdict: await v.getAttribute('data-verdict'), text: await v.innerText() }
  } finally {
    await browser.close().catch(() => null)
    fs.rmSync(video, { force: true })
  }
}
