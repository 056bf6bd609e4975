// Solves the captcha off the main thread so the page stays responsive on slow phones.
import { solveChallenge, encodeSolution } from '../lib/pow'
import type { CaptchaChallenge } from '../api/types'

self.onmessage = async (e: MessageEvent<CaptchaChallenge>) => {
  try {
    const n = await solveChallenge(e.data, (p) => self.postMessage({ progress: p / e.data.maxnumber }))
    if (n === null) self.postMessage({ error: 'unsolved' })
    else self.postMessage({ payload: encodeSolution(e.data, n) })
  } catch (err) {
    self.postMessage({ error: String(err) })
  }
}
