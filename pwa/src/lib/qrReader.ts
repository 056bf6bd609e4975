// Reads QR codes from camera frames and photos. The browser's BarcodeDetector is used where it
// reads QR codes (Android, macOS, ChromeOS); elsewhere, desktop Chromium on Linux and Windows
// and Firefox among them, ZXing-C++ compiled to wasm does it. The wasm file is served by us
// and precached by the service worker, never fetched from a CDN, so scanning works offline.
import wasmUrl from 'zxing-wasm/reader/zxing_reader.wasm?url'

export type QrSource = HTMLVideoElement | Blob

export interface QrReader {
  /** `native` (BarcodeDetector) or `zxing` (wasm). */
  readonly kind: 'native' | 'zxing'
  /** The texts of the QR codes found; empty when there is none (or the frame is not ready). */
  read(src: QrSource): Promise<string[]>
}

interface Detector {
  detect(src: ImageBitmapSource): Promise<{ rawValue: string }[]>
}
interface DetectorCtor {
  new (o: { formats: string[] }): Detector
  getSupportedFormats?: () => Promise<string[]>
}

async function nativeReader(): Promise<QrReader | null> {
  const Ctor = (globalThis as unknown as { BarcodeDetector?: DetectorCtor }).BarcodeDetector
  if (!Ctor) return null
  try {
    const formats = (await Ctor.getSupportedFormats?.()) ?? ['qr_code']
    if (!formats.includes('qr_code')) return null
    const detector = new Ctor({ formats: ['qr_code'] })
    return {
      kind: 'native',
      async read(src) {
        const image = src instanceof Blob ? await createImageBitmap(src) : src
        return (await detector.detect(image)).map((c) => c.rawValue)
      },
    }
  } catch {
    return null
  }
}

let canvas: HTMLCanvasElement | null = null
/** The current video frame as pixels, or null while the video has no frame yet. */
function frameOf(video: HTMLVideoElement): ImageData | null {
  const w = video.videoWidth
  const h = video.videoHeight
  if (!w || !h) return null
  canvas ??= document.createElement('canvas')
  canvas.width = w
  canvas.height = h
  const ctx = canvas.getContext('2d', { willReadFrequently: true })
  if (!ctx) return null
  ctx.drawImage(video, 0, 0, w, h)
  return ctx.getImageData(0, 0, w, h)
}

async function zxingReader(): Promise<QrReader> {
  const zxing = await import('zxing-wasm/reader')
  zxing.prepareZXingModule({
    overrides: { locateFile: (path: string, prefix: string) => (path.endsWith('.wasm') ? wasmUrl : prefix + path) },
  })
  const options = { formats: ['QRCode' as const], tryHarder: true, maxNumberOfSymbols: 1 }
  return {
    kind: 'zxing',
    async read(src) {
      const input = src instanceof Blob ? src : frameOf(src)
      if (!input) return []
      const found = await zxing.readBarcodes(input, options)
      return found.filter((r) => r.isValid).map((r) => r.text)
    },
  }
}

let reader: Promise<QrReader> | null = null
/** The reader for this browser, chosen once. */
export function qrReader(): Promise<QrReader> {
  reader ??= nativeReader().then((r) => r ?? zxingReader())
  reader.catch(() => (reader = null))
  return reader
}

/** The permit among the codes read (a permit QR starts with `RP1:`), else the first code. */
export function pickPermit(codes: string[]): string | null {
  return codes.find((c) => c.startsWith('RP1:')) ?? codes[0] ?? null
}
