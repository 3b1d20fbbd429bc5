// The commands the console sends a charger, each with the fields a person fills in, turned into the
// API's request (`POST /chargers/{id}/commands`).

export type CommandKind =
  | 'remote_start'
  | 'remote_stop'
  | 'reset'
  | 'unlock_connector'
  | 'change_availability'
  | 'get_configuration'
  | 'change_configuration'
  | 'trigger_message'
  | 'reserve_now'
  | 'cancel_reservation'
  | 'clear_cache'

export interface CommandForm {
  kind: CommandKind
  connector: number
  idToken: string
  transactionId: number | undefined
  hard: boolean
  operative: boolean
  key: string
  value: string
  message: string
  reservationId: number | undefined
  expiryMinutes: number
}

export const COMMANDS: CommandKind[] = [
  'remote_start',
  'remote_stop',
  'reset',
  'unlock_connector',
  'change_availability',
  'get_configuration',
  'change_configuration',
  'trigger_message',
  'reserve_now',
  'cancel_reservation',
  'clear_cache',
]

export const TRIGGERS = ['BootNotification', 'Heartbeat', 'MeterValues', 'StatusNotification', 'DiagnosticsStatusNotification', 'FirmwareStatusNotification']

/** Which fields a command needs, in the order the form shows them. */
export function fieldsOf(kind: CommandKind): (keyof CommandForm)[] {
  switch (kind) {
    case 'remote_start':
      return ['connector', 'idToken']
    case 'remote_stop':
      return ['transactionId']
    case 'reset':
      return ['hard']
    case 'unlock_connector':
      return ['connector']
    case 'change_availability':
      return ['connector', 'operative']
    case 'get_configuration':
      return ['key']
    case 'change_configuration':
      return ['key', 'value']
    case 'trigger_message':
      return ['message', 'connector']
    case 'reserve_now':
      return ['connector', 'idToken', 'reservationId', 'expiryMinutes']
    case 'cancel_reservation':
      return ['reservationId']
    case 'clear_cache':
      return []
  }
}

export function requestOf(form: CommandForm, now: Date): Record<string, unknown> {
  switch (form.kind) {
    case 'remote_start':
      return { command: form.kind, connector: form.connector, id_token: form.idToken.trim() }
    case 'remote_stop':
      return { command: form.kind, transaction_id: form.transactionId }
    case 'reset':
      return { command: form.kind, hard: form.hard }
    case 'unlock_connector':
      return { command: form.kind, connector: form.connector }
    case 'change_availability':
      return { command: form.kind, connector: form.connector, operative: form.operative }
    case 'get_configuration':
      return { command: form.kind, keys: form.key.trim() ? [form.key.trim()] : [] }
    case 'change_configuration':
      return { command: form.kind, key: form.key.trim(), value: form.value }
    case 'trigger_message':
      return { command: form.kind, message: form.message, connector: form.connector || null }
    case 'reserve_now':
      return {
        command: form.kind,
        connector: form.connector,
        id_token: form.idToken.trim(),
        reservation_id: form.reservationId,
        expiry: new Date(now.getTime() + form.expiryMinutes * 60_000).toISOString(),
      }
    case 'cancel_reservation':
      return { command: form.kind, reservation_id: form.reservationId }
    case 'clear_cache':
      return { command: form.kind }
  }
}

export function blankCommand(): CommandForm {
  return {
    kind: 'reset',
    connector: 1,
    idToken: '',
    transactionId: undefined,
    hard: false,
    operative: true,
    key: '',
    value: '',
    message: 'StatusNotification',
    reservationId: undefined,
    expiryMinutes: 15,
  }
}

/** A command's answer in a line: the charger's status, its configuration, or why there is none. */
export function answerOf(record: { state: string; outcome: Record<string, unknown> | null; error: string | null }): string {
  const outcome = record.outcome
  if (!outcome) return record.error ?? record.state
  if (outcome.outcome === 'configuration') {
    const known = (outcome.known as { key: string; value: string | null }[]).map((e) => `${e.key}=${e.value ?? ''}`)
    const unknown = outcome.unknown as string[]
    return [...known, ...unknown.map((k) => `${k}: ?`)].join(', ')
  }
  return String(outcome.status ?? outcome.outcome)
}
