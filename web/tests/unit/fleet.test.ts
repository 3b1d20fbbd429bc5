import { describe, expect, it } from 'vitest'
import { condition } from '../../src/console/fleet'
import { csrfToken } from '../../src/shared/api'
import type { Charger, Connector } from '../../src/console/types'

const connector = (id: number, status: string, error_code = 'NoError', at = '2026-12-06T01:00:00Z'): Connector => ({
  connector_id: id,
  status,
  error_code,
  info: null,
  status_at: at,
})

const charger = (station_id: string, connected: boolean, connectors: Connector[]): Charger => ({
  station_id,
  operator_id: 1,
  site_id: 1,
  registration: 'Accepted',
  vendor: null,
  model: null,
  last_seen_at: null,
  connected,
  connectors,
})

describe('the fleet', () => {
  const fleet = [
    charger('A', true, [connector(1, 'Available')]),
    charger('B', true, [connector(1, 'Charging'), connector(2, 'Available')]),
    charger('C', true, [connector(1, 'Charging'), connector(2, 'Faulted', 'GroundFailure', '2026-12-06T02:00:00Z')]),
    charger('D', false, [connector(1, 'Faulted', 'PowerMeterFailure')]),
  ]

  it('names each charger by its worst: offline, then faulted, then charging, else online', () => {
    expect(fleet.map(condition)).toEqual(['online', 'charging', 'faulted', 'offline'])
  })
})

describe('the CSRF cookie', () => {
  it('is read for the realm asked', () => {
    const cookies = 'x=1; cm_driver_csrf=dd; cm_staff_csrf=ss'
    expect(csrfToken('staff', cookies)).toBe('ss')
    expect(csrfToken('driver', cookies)).toBe('dd')
    expect(csrfToken('staff', 'cm_staff=abc')).toBe('')
  })
})
