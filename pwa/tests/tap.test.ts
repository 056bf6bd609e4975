// A blur's error line waits for the tap that caused the blur, so that tap is not lost.
import { describe, it, expect, vi, afterEach } from 'vitest'
import { afterTap } from '../src/lib/tap'

afterEach(() => vi.useRealTimers())

describe('afterTap', () => {
  it('changes the page only after the click that left the field', async () => {
    vi.useFakeTimers()
    const change = vi.fn()
    document.dispatchEvent(new Event('pointerdown'))
    afterTap(change)
    // The finger is still down: no change, however long the press.
    vi.advanceTimersByTime(1000)
    expect(change).not.toHaveBeenCalled()
    document.dispatchEvent(new Event('pointerup'))
    document.dispatchEvent(new Event('click'))
    expect(change).not.toHaveBeenCalled()
    vi.advanceTimersByTime(0)
    expect(change).toHaveBeenCalledTimes(1)
    // Once only.
    document.dispatchEvent(new Event('click'))
    vi.advanceTimersByTime(2000)
    expect(change).toHaveBeenCalledTimes(1)
  })
  it('changes it after a moment when the field was left from the keyboard', () => {
    vi.useFakeTimers()
    const change = vi.fn()
    afterTap(change)
    vi.advanceTimersByTime(299)
    expect(change).not.toHaveBeenCalled()
    vi.advanceTimersByTime(2)
    expect(change).toHaveBeenCalledTimes(1)
  })
})
