import { describe, it, expect } from 'vitest'
import { useAction } from '../src/lib/action'
import { ApiError } from '../src/api/client'

describe('useAction', () => {
  it('is busy while the action runs, and clears the last error when it succeeds', async () => {
    const { busy, error, run } = useAction()
    error.value = 'earlier failure'
    let release!: () => void
    const done = run(() => new Promise<void>((r) => (release = r)))
    expect(busy.value).toBe(true)
    expect(error.value).toBe('')
    release()
    expect(await done).toBe(true)
    expect(busy.value).toBe(false)
  })
  it("puts a failure into words, with the screen's own wording when it gives one", async () => {
    const { busy, error, run } = useAction()
    expect(await run(() => Promise.reject(new Error('boom')), () => '找不到该账号')).toBe(false)
    expect(error.value).toBe('找不到该账号')
    expect(busy.value).toBe(false)
    expect(await run(() => Promise.reject(new ApiError(409, 'already_revoked', '该居住证已注销')))).toBe(false)
    expect(error.value).toBe('该居住证已注销')
  })
})
