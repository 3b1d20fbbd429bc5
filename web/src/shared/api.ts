// The node's API as the pages call it: the login is an HttpOnly cookie the browser sends by itself;
// a change carries the login's CSRF token, read from its readable twin cookie.

export type Realm = 'staff' | 'driver'

/** A problem the node found at one field of a request: `code` names its kind where it has one. */
export interface FieldProblem {
  field: string
  code?: string
  problem: string
}

/** An answer of the API that is not a success: its stable code, message and field problems. */
export class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
    readonly details: FieldProblem[] = [],
  ) {
    super(message)
  }
}

export function csrfToken(realm: Realm, cookies: string = document.cookie): string {
  const name = `cm_${realm}_csrf=`
  const found = cookies.split(';').map((c) => c.trim()).find((c) => c.startsWith(name))
  return found ? decodeURIComponent(found.slice(name.length)) : ''
}

/** Whether the browser holds a login of `realm` (its CSRF cookie lives exactly as long). */
export function loggedIn(realm: Realm): boolean {
  return csrfToken(realm) !== ''
}

export async function call<T>(realm: Realm, method: string, path: string, body?: unknown): Promise<T> {
  const headers: Record<string, string> = { accept: 'application/json' }
  if (body !== undefined) headers['content-type'] = 'application/json'
  if (method !== 'GET') headers['x-csrf-token'] = csrfToken(realm)
  let response: Response
  try {
    response = await fetch(`/api/v1${path}`, {
      method,
      headers,
      body: body === undefined ? undefined : JSON.stringify(body),
      credentials: 'same-origin',
    })
  } catch {
    throw new ApiError(0, 'network', 'the node cannot be reached')
  }
  if (response.status === 204) return undefined as T
  const text = await response.text()
  const parsed = text ? safeJson(text) : undefined
  if (!response.ok) {
    const error = parsed as { code?: string; message?: string; details?: FieldProblem[] }
    throw new ApiError(response.status, error?.code ?? 'internal', error?.message ?? text, error?.details ?? [])
  }
  return parsed as T
}

function safeJson(text: string): unknown {
  try {
    return JSON.parse(text)
  } catch {
    return undefined
  }
}

/** A WebSocket of the API (same origin: the browser sends the login cookie with the upgrade). */
export function live<T>(path: string, onMessage: (update: T) => void, onLost?: () => void): () => void {
  const scheme = location.protocol === 'https:' ? 'wss' : 'ws'
  const socket = new WebSocket(`${scheme}://${location.host}/api/v1${path}`)
  let closing = false
  socket.onmessage = (event) => onMessage(JSON.parse(event.data as string) as T)
  socket.onclose = () => {
    if (!closing) onLost?.()
  }
  return () => {
    closing = true
    socket.close()
  }
}
