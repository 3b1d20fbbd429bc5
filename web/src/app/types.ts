// The driver API's answers the app reads (the fields it shows).
import type { MeterValue } from '../shared/curve'

export interface Found {
  operator: string
  location_id: string
  name: string | null
  address: string
  city: string
  latitude: string
  longitude: string
  distance_m: number | null
  evse_uid: string
  status: string
  max_power_kw: number
  connectors: string[]
  price_per_kwh_now: string | null
  tariff_explained: string | null
}

export interface ChargerDetail extends Found {
  location: { evses: { uid: string; connectors: { id: string; standard: string; max_electric_power?: number }[] }[] }
  tariff: { elements: object[] } | null
}

export interface Charge {
  id: string | null
  operator: string
  location_id: string | null
  evse_uid: string
  state: string
  message: string | null
  at: string
}

export interface OwnDetail {
  kind: 'own'
  id: number
  state: string
  started_at: string
  stopped_at: string | null
  energy_mwh: number
  meter_start_mwh: number
  time_zone: string | null
  meter_values: MeterValue[]
  cost: { currency: string; totals: { incl_tax: number } } | null
}

export interface RoamingDetail {
  kind: 'roaming'
  id: string
  cpo: string
  state: string
  created_at: string
  session: {
    kwh?: number | string
    total_cost?: { incl_vat?: number | string }
    currency?: string
    start_date_time?: string
    end_date_time?: string | null
  } | null
  cdr: object | null
}

export type ChargeDetail = OwnDetail | RoamingDetail

export interface ReceiptLine {
  period: string
  kind: string
  label: string | null
  quantity: string
  amount_incl_tax: string
}

export interface DriverReceipt {
  kind: 'own' | 'roaming'
  site: string | null
  time_zone: string
  started: string
  stopped: string
  energy_kwh: string
  currency: string
  tax_rate: string
  lines: ReceiptLine[]
  totals: { total: string; tax: string }
  ledger: { height?: number; cdr_hash?: string; proof?: unknown; cdr?: string } | null
}
