// A tariff version as the editor sends it, and the node's answer to it read back into the editor's
// fields.
import { ApiError } from '../../shared/api'
import { describeFieldProblem } from '../../shared/i18n'
import { PERIODS, fieldKey, toDraft, type TouModel } from './tou'

export interface Header {
  id: string
  operatorId: number | undefined
  taxRate: string
  taxIncluded: boolean
  validFrom: Date | undefined
}

const DECIMAL = /^-?\d+(\.\d{1,6})?$/

/** Problems the editor sees before asking the node: prices that are no decimal number. */
export function localProblems(model: TouModel, priceProblem: string): Record<string, string> {
  const used = new Set(model.schedules.flatMap((s) => s.slots.map((slot) => slot.period)))
  const problems: Record<string, string> = {}
  for (const period of PERIODS) {
    if (!used.has(period)) continue
    for (const part of ['electricity', 'service'] as const) {
      if (!DECIMAL.test(model.prices[period][part].trim())) problems[`prices.${period}.${part}`] = priceProblem
    }
  }
  if (model.idleFeePerHour.trim() && !DECIMAL.test(model.idleFeePerHour.trim())) problems.idleFeePerHour = priceProblem
  return problems
}

export function draftOf(header: Header, body: { time_of_use: unknown } | { elements: unknown }, creating: boolean) {
  return {
    ...(creating ? { id: header.id.trim(), operator_id: header.operatorId } : {}),
    currency: 'CNY',
    tax: { rate: header.taxRate.trim(), included: header.taxIncluded },
    ...(header.validFrom ? { valid_from: header.validFrom.toISOString() } : {}),
    ...body,
  }
}

export function touBody(model: TouModel) {
  return { time_of_use: toDraft(model) }
}

/** The node's field problems keyed by editor field; `null` when the error is not about fields. */
export function fieldProblems(error: unknown): Record<string, string> | null {
  if (!(error instanceof ApiError) || error.details.length === 0) return null
  return Object.fromEntries(error.details.map((d) => [fieldKey(d.field), describeFieldProblem(d)]))
}
