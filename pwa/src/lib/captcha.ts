import { api } from '../api/client'
import type { CaptchaChallenge } from '../api/types'
import { solveChallenge, encodeSolution } from './pow'

/** Fetches a challenge and solves it in a Web Worker (on the main thread if workers are missing). */
export async function obtainCaptcha(onProgress?: (p: number) => void): Promise<string> {
  const c = await api<CaptchaChallenge>('/captcha')
  if (typeof Worker === 'undefined') {
    const n = await solveChallenge(c)
    if (n === null) throw new Error('captcha unsolved')
    return encodeSolution(c, n)
  }
  const worker = new Worker(new URL('../workers/pow.worker.ts', import.meta.url), { type: 'module' })
  try {
    return await new Promise<string>((resolve, reject) => {
      worker.onmessage = (e: MessageEvent<{ payload?: string; error?: string; progress?: number }>) => {
        if (e.data.progress !== undefined) onProgress?.(e.data.progress)
        else if (e.data.payload) resolve(e.data.payload)
        else reject(new Error(e.data.error ?? 'captcha failed'))
      }
      worker.onerror = (e) => reject(new Error(e.message))
      worker.postMessage(c)
    })
  } finally {
    worker.terminate()
  }
}
