// Data a page keeps fresh while it is shown: loaded at once, then again every few seconds, and no
// longer once the page is left.
import { onMounted, onUnmounted, ref, type Ref } from 'vue'
import { describeError } from '../shared/i18n'

export function useRefreshed<T>(load: () => Promise<T>, everyMillis = 5000): {
  data: Ref<T | undefined>
  problem: Ref<string>
  refresh: () => Promise<void>
} {
  const data = ref<T>()
  const problem = ref('')
  let timer: ReturnType<typeof setInterval> | undefined
  async function refresh() {
    try {
      data.value = await load()
      problem.value = ''
    } catch (error) {
      problem.value = describeError(error)
    }
  }
  onMounted(() => {
    void refresh()
    timer = setInterval(() => void refresh(), everyMillis)
  })
  onUnmounted(() => clearInterval(timer))
  return { data: data as Ref<T | undefined>, problem, refresh }
}
