/**
 * How long the registration captcha waits before trying again after its challenge failed:
 * 5 s after the first failure, then twice as long each time up to a minute (a phone that is
 * offline should not ask every few seconds), and never less than the server's own wait (a 429's
 * Retry-After).
 */
export function captchaRetryDelayMs(failuresInARow: number, serverWaitSecs?: number): number {
  const backoff = Math.min(60, 5 * 2 ** Math.max(0, failuresInARow - 1))
  return Math.max(backoff, serverWaitSecs ?? 0) * 1000
}
