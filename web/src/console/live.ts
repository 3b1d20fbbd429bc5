// Data a page keeps fresh while it is shown: loaded at once, then again every few seconds, and no
// longer once the page is left.
import { onMounted, onUnmounted, ref, type Ref } from 'vue'
import { live } from '../shared/api'
import { describeError, i18n } from '../shared/i18n'

export function useRefreshed<T>(load: () => Promise<T>, everyMillis = 5000): {
  data: Ref<T | undefined>
  problem: Ref<string>
  refresh: () => Promise<void>
} {
  const data = ref<T>()
  const problem = ref('')
  let timer: ReturnType<typeof setInterval> | undefined
  // Only the newest load is shown: an older answer arriving late (the query changed meanwhile) is dropped.
  let latest = 0
  async function refresh() {
    const mine = ++latest
    try {
      const loaded = await load()
      if (mine !== latest) return
      data.value = loaded
      problem.value = ''
    } catch (error) {
      if (mine === latest) problem.value = describeError(error)
    }
  }
  onMounted(() => {
    void refresh()
    timer = setInterval(() => void refresh(), everyMillis)
  })
  onUnmounted(() => clearInterval(timer))
  return { data: data as Ref<T | undefined>, problem, refresh }
}

/** Data the node pushes over a WebSocket while the page is shown; after a drop (the node
 *  restarted, the network went) it says so and connects again a few seconds later. */
export function usePushed<T>(path: string, retryMillis = 3000): { data: Ref<T | undefined>; problem: Ref<string> } {
  const data = ref<T>()
  const problem = ref('')
  let stop: (() => void) | undefined
  let retry: ReturnType<typeof setTimeout> | undefined
  function connect() {
    stop = live<T>(
      path,
      (update) => {
        data.value = update
        problem.value = ''
      },
      () => {
        problem.value = i18n.global.t('errors.network')
        retry = setTimeout(connect, retryMillis)
      },
    )
  }
  onMounted(connect)
  onUnmounted(() => {
    clearTimeout(retry)
    stop?.()
  })
  return { data: data as Ref<T | undefined>, problem }
}
