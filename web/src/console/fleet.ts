// What the dashboard counts of a fleet: a charger is offline when not connected, faulted when a
// connector reports Faulted, charging when one charges, online otherwise.
import type { Charger } from './types'

export interface FleetCounts {
  online: number
  charging: number
  faulted: number
  offline: number
}

export type ChargerCondition = keyof FleetCounts

export function condition(charger: Charger): ChargerCondition {
  if (!charger.connected) return 'offline'
  if (charger.connectors.some((c) => c.status === 'Faulted')) return 'faulted'
  if (charger.connectors.some((c) => c.status === 'Charging')) return 'charging'
  return 'online'
}

export function countFleet(chargers: Charger[]): FleetCounts {
  const counts: FleetCounts = { online: 0, charging: 0, faulted: 0, offline: 0 }
  for (const charger of chargers) counts[condition(charger)] += 1
  return counts
}

/** Connectors reporting an error, most recent first. */
export function chargerProblems(chargers: Charger[], limit = 10) {
  return chargers
    .flatMap((charger) =>
      charger.connectors
        .filter((c) => c.status === 'Faulted' || (c.error_code && c.error_code !== 'NoError'))
        .map((c) => ({ station: charger.station_id, connector: c.connector_id, error: c.error_code ?? c.status, at: c.status_at })),
    )
    .sort((a, b) => b.at.localeCompare(a.at))
    .slice(0, limit)
}
