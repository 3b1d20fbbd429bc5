// The time-of-use tariff as the editor holds it: the four periods' prices, and schedules of slots
// covering the day, edited by moving the boundaries between slots. Pure functions, so that each rule
// is tested without a browser; the node validates again whatever is sent.

export const PERIODS = ['sharp', 'peak', 'flat', 'valley'] as const
export type Period = (typeof PERIODS)[number]

export interface Slot {
  /** Minutes after local midnight, 0 to 1440. */
  start: number
  end: number
  period: Period
}

export interface Schedule {
  /** `MM-DD`, both set or both empty: the schedule applies in that part of every year. */
  seasonFrom: string
  seasonTo: string
  slots: Slot[]
}

export interface TouModel {
  prices: Record<Period, { electricity: string; service: string }>
  schedules: Schedule[]
  idleFeePerHour: string
}

/** Boundaries move in steps of a quarter hour (YKC carries half hours; the node says so when projecting). */
export const STEP = 15
const DAY = 1440

export function clock(minutes: number): string {
  return `${String(Math.floor(minutes / 60)).padStart(2, '0')}:${String(minutes % 60).padStart(2, '0')}`
}

export function minutesOf(text: string): number | null {
  const match = /^(\d{1,2}):(\d{2})$/.exec(text.trim())
  if (!match) return null
  const minutes = Number(match[1]) * 60 + Number(match[2])
  return Number(match[2]) < 60 && minutes <= DAY ? minutes : null
}

export function blankModel(): TouModel {
  return {
    prices: {
      sharp: { electricity: '', service: '' },
      peak: { electricity: '', service: '' },
      flat: { electricity: '', service: '' },
      valley: { electricity: '', service: '' },
    },
    schedules: [{ seasonFrom: '', seasonTo: '', slots: [{ start: 0, end: DAY, period: 'flat' }] }],
    idleFeePerHour: '',
  }
}

/** Moves the boundary between slot `index` and the next to `minutes`, snapped to the step and kept
 *  strictly inside the two slots (neither may vanish by dragging). */
export function moveBoundary(slots: Slot[], index: number, minutes: number): Slot[] {
  if (index < 0 || index >= slots.length - 1) return slots
  const low = slots[index].start + STEP
  const high = slots[index + 1].end - STEP
  const snapped = Math.min(high, Math.max(low, Math.round(minutes / STEP) * STEP))
  return slots.map((slot, i) =>
    i === index ? { ...slot, end: snapped } : i === index + 1 ? { ...slot, start: snapped } : slot,
  )
}

/** Splits slot `index` in two at its middle (on a step); a slot of one step cannot be split. */
export function splitSlot(slots: Slot[], index: number): Slot[] {
  const slot = slots[index]
  const middle = Math.round((slot.start + slot.end) / 2 / STEP) * STEP
  if (middle <= slot.start || middle >= slot.end) return slots
  return [...slots.slice(0, index), { ...slot, end: middle }, { ...slot, start: middle }, ...slots.slice(index + 1)]
}

/** Removes slot `index`, its time going to the slot before it (or after it, for the first). */
export function removeSlot(slots: Slot[], index: number): Slot[] {
  if (slots.length < 2) return slots
  const rest = slots.filter((_, i) => i !== index)
  if (index === 0) rest[0] = { ...rest[0], start: slots[0].start }
  else rest[index - 1] = { ...rest[index - 1], end: slots[index].end }
  return rest
}

/** Neighbouring slots of the same period, as one. */
export function mergeAlike(slots: Slot[]): Slot[] {
  return slots.reduce<Slot[]>((merged, slot) => {
    const last = merged[merged.length - 1]
    if (last && last.period === slot.period && last.end === slot.start) merged[merged.length - 1] = { ...last, end: slot.end }
    else merged.push({ ...slot })
    return merged
  }, [])
}

/** The draft's `time_of_use` as the API takes it; a period no slot uses is left out. */
export function toDraft(model: TouModel) {
  const used = new Set(model.schedules.flatMap((s) => s.slots.map((slot) => slot.period)))
  const draft: Record<string, unknown> = {
    schedules: model.schedules.map((schedule) => ({
      ...(schedule.seasonFrom || schedule.seasonTo ? { season: { from: schedule.seasonFrom, to: schedule.seasonTo } } : {}),
      slots: schedule.slots.map((slot) => ({ start: clock(slot.start), end: clock(slot.end), period: slot.period })),
    })),
  }
  for (const period of PERIODS) if (used.has(period)) draft[period] = { ...model.prices[period] }
  if (model.idleFeePerHour.trim()) draft.idle_fee_per_hour = model.idleFeePerHour.trim()
  return draft
}

interface SavedElement {
  label?: string
  components: { kind: string; price: string }[]
  restrictions?: { start_time?: string; end_time?: string; season?: { from: string; to: string }; [other: string]: unknown }
}

/** A saved version's elements read back as the time-of-use shape, when they are one (every element a
 *  labelled period priced by energy and service fee, restricted by time of day and season only). */
export function fromElements(elements: SavedElement[]): TouModel | null {
  const model = blankModel()
  model.schedules = []
  const bySeason = new Map<string, Schedule>()
  for (const element of elements) {
    const { start_time, end_time, season, ...other } = element.restrictions ?? {}
    const kinds = element.components.map((c) => c.kind)
    if (kinds.length === 1 && kinds[0] === 'idle_time' && (element.label ?? 'idle') === 'idle') {
      model.idleFeePerHour = element.components[0].price
      continue
    }
    const period = element.label as Period
    if (!PERIODS.includes(period) || Object.keys(other).length > 0) return null
    const energy = element.components.find((c) => c.kind === 'energy')
    const service = element.components.find((c) => c.kind === 'service_fee')
    if (!energy || !service || element.components.length > 2) return null
    model.prices[period] = { electricity: energy.price, service: service.price }
    const key = season ? `${season.from}/${season.to}` : ''
    let schedule = bySeason.get(key)
    if (!schedule) {
      schedule = { seasonFrom: season?.from ?? '', seasonTo: season?.to ?? '', slots: [] }
      bySeason.set(key, schedule)
      model.schedules.push(schedule)
    }
    const start = minutesOf(start_time ?? '00:00') ?? 0
    const end = minutesOf(end_time ?? '00:00') ?? 0
    if (end > start) schedule.slots.push({ start, end, period })
    else {
      // A slot across midnight is saved as one element; the editor's day runs 00:00–24:00.
      if (end > 0) schedule.slots.push({ start: 0, end, period })
      schedule.slots.push({ start, end: DAY, period })
    }
  }
  if (model.schedules.length === 0) return null
  for (const schedule of model.schedules) schedule.slots = mergeAlike(schedule.slots.sort((a, b) => a.start - b.start))
  return model
}

/** The editor field a problem of the node names, e.g. `time_of_use.schedules[0].slots[2].end`
 *  → `schedules.0.slots.2.end`; `time_of_use.peak.electricity` → `prices.peak.electricity`. */
export function fieldKey(apiField: string): string {
  const path = apiField.replace(/^time_of_use\./, '').replace(/\[(\d+)\]/g, '.$1')
  const [first, ...rest] = path.split('.')
  if ((PERIODS as readonly string[]).includes(first)) return ['prices', first, ...rest].join('.')
  if (first === 'idle_fee_per_hour') return 'idleFeePerHour'
  return path
}
