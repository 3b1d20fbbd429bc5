// The car's battery as a DC charger reports it (OCPP's SoC measurand): how full it is now and, from
// how fast it filled over the last minutes, when it will be full. Charging slows near the top, so
// the estimate is to 100 % at the recent pace: a little early, never a promise.
import type { MeterValue } from './curve'

export interface Battery {
  /** Percent, as last reported. */
  soc: number
  /** When the battery is full at the recent pace (ms since the epoch); null while it is not filling. */
  fullAt: number | null
}

/** How far back the pace is measured. */
const WINDOW_MS = 10 * 60_000

export function battery(values: MeterValue[]): Battery | null {
  const readings = values
    .filter((v) => v.measurand === 'SoC')
    .map((v) => ({ at: Date.parse(v.sampled_at), soc: Number(v.value) }))
    .filter((r) => Number.isFinite(r.at) && Number.isFinite(r.soc))
    .sort((a, b) => a.at - b.at)
  const last = readings.at(-1)
  if (!last) return null
  if (last.soc >= 100) return { soc: 100, fullAt: last.at }
  const first = readings.find((r) => r.at >= last.at - WINDOW_MS) ?? last
  const perMs = last.at > first.at ? (last.soc - first.soc) / (last.at - first.at) : 0
  return { soc: last.soc, fullAt: perMs > 0 ? last.at + (100 - last.soc) / perMs : null }
}
