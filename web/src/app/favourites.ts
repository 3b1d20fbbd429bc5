// The driver's favourite chargers, kept by their member: read once per page, changed one at a time.
import { ref } from 'vue'
import { call } from '../shared/api'

export interface Favourite {
  operator: string
  evse_uid: string
}

const key = (f: Favourite) => `${f.operator}/${f.evse_uid}`

export function useFavourites() {
  const marked = ref(new Set<string>())
  async function load() {
    const listed = await call<Favourite[]>('driver', 'GET', '/driver/favourites')
    marked.value = new Set(listed.map(key))
  }
  const isFavourite = (charger: Favourite) => marked.value.has(key(charger))
  async function toggle(charger: Favourite) {
    const path = `/driver/favourites/${encodeURIComponent(charger.operator)}/${encodeURIComponent(charger.evse_uid)}`
    const on = !isFavourite(charger)
    await call('driver', on ? 'PUT' : 'DELETE', path)
    const next = new Set(marked.value)
    if (on) next.add(key(charger))
    else next.delete(key(charger))
    marked.value = next
  }
  return { load, isFavourite, toggle }
}
