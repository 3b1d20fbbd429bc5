// A charger's condition as the dashboard counts it (the node counts the fleet: /overview): offline
// when not connected, faulted when a connector reports Faulted, charging when one charges, online
// otherwise.
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
