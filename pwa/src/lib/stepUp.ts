// Fresh step-up: some operations (adding or deleting a passkey, binding a device key,
// claiming a permit, the full QR on a new device) answer `403 step_up_required` until the
// session has confirmed who it is again. `withStepUp` asks the person (StepUpDialog, mounted
// once in App.vue) and then runs the operation once more.
import { reactive } from 'vue'
import { ApiError } from '../api/client'

/** Whether the step-up dialog is open. */
export const stepUpPrompt = reactive({ show: false })
let waiting: ((ok: boolean) => void) | null = null

export function isStepUpRequired(e: unknown): e is ApiError {
  return e instanceof ApiError && e.status === 403 && e.code === 'step_up_required'
}

/** Opens the dialog; true once the session stepped up, false when the person closed it. */
export function askForStepUp(): Promise<boolean> {
  waiting?.(false)
  stepUpPrompt.show = true
  return new Promise((resolve) => (waiting = resolve))
}

/** The dialog's answer: stepped up, or closed. */
export function finishStepUp(ok: boolean) {
  stepUpPrompt.show = false
  const w = waiting
  waiting = null
  w?.(ok)
}

/** Runs `op`; when the server asks for a fresh step-up, asks for it and runs `op` again. */
export async function withStepUp<T>(op: () => Promise<T>): Promise<T> {
  try {
    return await op()
  } catch (e) {
    if (!isStepUpRequired(e)) throw e
    if (!(await askForStepUp())) throw e
    return op()
  }
}
