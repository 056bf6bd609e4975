// A field is checked when it is left, but its error line must not appear or vanish under the
// finger that is leaving it: the tap that blurred the field lands on the next control only if
// the form does not move between the finger going down and up. So a blur's change to the page
// waits for that tap to finish (its click, or its release when it was no click), or a moment
// when the field was left from the keyboard.
const KEYBOARD_WAIT_MS = 300
const LONGEST_TAP_MS = 1500

export function afterTap(change: () => void): void {
  if (typeof document === 'undefined') return change()
  let done = false
  const run = () => {
    if (done) return
    done = true
    document.removeEventListener('click', run, true)
    document.removeEventListener('pointerup', run, true)
    clearTimeout(timer)
    // After the click's own handlers.
    setTimeout(change, 0)
  }
  document.addEventListener('click', run, true)
  document.addEventListener('pointerup', run, true)
  // A finger already down (the tap that blurred) holds the change until it lifts.
  const timer = setTimeout(run, pointerDown ? LONGEST_TAP_MS : KEYBOARD_WAIT_MS)
}

let pointerDown = false
if (typeof document !== 'undefined') {
  document.addEventListener('pointerdown', () => (pointerDown = true), true)
  document.addEventListener('pointerup', () => (pointerDown = false), true)
  document.addEventListener('pointercancel', () => (pointerDown = false), true)
}
