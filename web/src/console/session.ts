// The staff account the console is logged in as, and what its role may do (the API's access table
// in the roles' terms: a button a role may not use is not shown).
import { ref } from 'vue'
import { call } from '../shared/api'

export interface Staff {
  id: number
  username: string
  role: string
  operator_id: number | null
}

export const me = ref<Staff | null>(null)

export async function loadMe(): Promise<Staff> {
  me.value = await call<Staff>('staff', 'GET', '/me')
  return me.value
}

const WRITERS = ['member_admin', 'admin', 'operator']
const MEMBER_ROLES = ['member_admin', 'member_finance', 'member_readonly']

/** Whether the account may change operators' data (sites, chargers, tariffs, commands). */
export function canWrite(): boolean {
  return WRITERS.includes(me.value?.role ?? '')
}

/** Whether the account is one of the member's (sees every operator and the consortium's pages). */
export function isMemberRole(): boolean {
  return MEMBER_ROLES.includes(me.value?.role ?? '')
}

/** Whether the account administers staff accounts (the member's administrator, or an operator's). */
export function administersStaff(): boolean {
  return ['member_admin', 'admin'].includes(me.value?.role ?? '')
}

/** Whether the account speaks for the member (operators, partners, governance). */
export function isMemberAdmin(): boolean {
  return me.value?.role === 'member_admin'
}

/** Whether the account confirms the member's clearing transfers (the member's finance or administrator). */
export function isMemberFinance(): boolean {
  return ['member_admin', 'member_finance'].includes(me.value?.role ?? '')
}
