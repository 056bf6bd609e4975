import { ref } from 'vue'
import { errorText } from './errors'

/**
 * A screen's action (a search, a submission): `busy` while it runs, and what went wrong, in
 * words, in `error`. `run` answers whether the action succeeded.
 */
export function useAction() {
  const busy = ref(false)
  const error = ref('')
  async function run(action: () => Promise<unknown>, explain: (e: unknown) => string = errorText): Promise<boolean> {
    busy.value = true
    error.value = ''
    try {
      await action()
      return true
    } catch (e) {
      error.value = explain(e)
      return false
    } finally {
      busy.value = false
    }
  }
  return { busy, error, run }
}
