// Logging in from a page: the login is kept in a cookie, then the page the user was sent away from
// (only a path of this site) is shown.
import { ref } from 'vue'
import { useRoute, useRouter } from 'vue-router'
import { call, type Realm } from './api'
import { describeError } from './i18n'

export function useLogin(realm: Realm) {
  const router = useRouter()
  const route = useRoute()
  const problem = ref('')
  const busy = ref(false)
  /** Logs in at `path` with `credentials` (a username and password, or a phone and its code). */
  async function logIn(path: string, credentials: Record<string, string | undefined>) {
    problem.value = ''
    busy.value = true
    try {
      await call(realm, 'POST', path, { ...credentials, cookie: true })
      const next = route.query.next
      await router.replace(typeof next === 'string' && next.startsWith('/') && !next.startsWith('//') ? next : '/')
    } catch (error) {
      problem.value = describeError(error)
    } finally {
      busy.value = false
    }
  }
  return { problem, busy, logIn }
}
