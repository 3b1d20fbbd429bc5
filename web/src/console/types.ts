// The API's answers the console reads (a subset of each: the fields it shows).

export interface Connector {
  connector_id: number
  status: string
  error_code: string | null
  info: string | null
  status_at: string
}

export interface Charger {
  station_id: string
  operator_id: number | null
  site_id: number | null
  registration: string
  vendor: string | null
  model: string | null
  last_seen_at: string | null
  connected: boolean
  /** Its worst, as the dashboard counts it (the node decides). */
  condition: ChargerCondition
  connectors: Connector[]
}

export interface FleetCounts {
  online: number
  charging: number
  faulted: number
  offline: number
}

export type ChargerCondition = keyof FleetCounts

/** A page of the fleet, searched and filtered on the node (GET /fleet). */
export interface FleetPage {
  counts: FleetCounts
  total: number
  chargers: Charger[]
}

export interface Site {
  id: number
  operator_id: number
  name: string
  time_zone: string
  latitude: number | null
  longitude: number | null
  address: string | null
  city: string | null
}

export interface Operator {
  id: number
  name: string
  wallets_enabled: boolean
  driver_signup: boolean
  created_at: string
}

export interface Session {
  id: number
  station_id: string
  connector_id: number
  id_token: string
  state: string
  started_at: string
  stopped_at: string | null
  energy_mwh: number
  time_zone: string | null
}

export interface SessionDetail extends Session {
  meter_start_mwh: number
  stop_reason: string | null
  tariff_id: string | null
  tariff_version: number | null
  meter_values: import('../shared/curve').MeterValue[]
  cost: { currency: string; totals: { incl_tax: number; excl_tax: number; tax: number } } | null
}

export interface ReceiptLine {
  period: string
  kind: string
  label: string | null
  quantity: string
  unit_price: string
  amount_excl_tax: string
  tax: string
  amount_incl_tax: string
}

export interface Receipt {
  session_id: number
  station_id: string
  site: string | null
  time_zone: string
  started: string
  stopped: string
  energy_kwh: string
  tariff_id: string
  tariff_version: number
  currency: string
  tax_rate: string
  prices_include_tax: boolean
  lines: ReceiptLine[]
  totals: { electricity: string; service: string; excl_tax: string; tax: string; total: string }
  ledger: { cpo: string; cdr_id: string; height: number; cdr_hash: string; proof: string } | null
}

export interface SessionPayment {
  payment: { id: number; method: string; currency: string; state: string; captured: number; refunded: number; hold_amount: number }
  refunds: { id: number; amount: number; reason: string; state: string; created_at: string }[]
}

export interface SavedVersion {
  operator_id: number
  created_at: string
  tariff: { id: string; version: number; valid_from: string; tax: { rate: string; included: boolean }; elements: object[] }
}

/** A payment as the node keeps it (amounts in minor units). */
export interface Payment {
  id: number
  session_id: number
  operator_id: number
  currency: string
  state: string
  captured: number
  refunded: number
  settled_total: number | null
  updated_at: string
}

/** The dashboard's overview, pushed by the node. */
export interface Overview {
  chargers: { online: number; charging: number; faulted: number; offline: number }
  today: { since: string; sessions: number; energy_mwh: number; revenue: { currency: string; total_minor: number }[] }
  fault_count: number
  faults: { station_id: string; connector_id: number; error: string; at: string }[]
  owing_count: number
  owing: Payment[]
}

/** What the ledger feed waits for and cannot submit. */
export interface FeedStatus {
  last_round_at: string | null
  waiting: Record<string, string>
  problems: Record<string, { code: string; message: string; since: string }>
}

/** A federation message not yet delivered. */
export interface PendingMessage {
  peer: string
  method: string
  path: string
  attempts: number
  last_error: string | null
  created_at: string
  next_attempt_at: string
}
