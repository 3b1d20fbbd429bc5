// The operators' console, as staff of an operator use it (zh-CN, desktop).
import assert from 'node:assert/strict'
import { ADMIN_PASSWORD, DESKTOP, accessible, consoleLogIn as logIn, eventually, screenshotPath, simulate } from './harness.mjs'

/** Waits until no dialog is open or closing (its fading overlay would be checked for contrast). */
async function dialogsClosed(page) {
  await eventually(async () => (await page.locator('.el-overlay:visible').count()) === 0, 'dialogs to close')
}

/** Picks `option` in the Element Plus select marked `data-test=<test>`. */
async function choose(page, test, option) {
  await page.locator(`[data-test=${test}]`).click()
  await page.locator('.el-select-dropdown__item:visible', { hasText: option }).first().click()
}

export async function operatorRunsTheirNetwork(browser, node) {
  const operator = await node.api('POST', '/operators', { name: '珠江充电 Pearl River' })
  const context = await browser.newContext(DESKTOP)
  const page = await context.newPage()
  await logIn(page, node, 'admin', ADMIN_PASSWORD)

  const cookies = await context.cookies()
  const login = cookies.find((c) => c.name === 'cm_staff')
  assert.ok(login?.httpOnly, 'the login cookie is HttpOnly')
  assert.equal(login.sameSite, 'Strict')
  assert.equal(await page.evaluate(() => document.cookie.includes('cm_staff=')), false, 'scripts cannot read the login')

  await page.locator('[data-test=count-online] .value').filter({ hasText: '0' }).waitFor()
  await accessible(page, 'the dashboard')

  // A site, whose name is shown as text however it looks.
  await page.getByRole('menuitem', { name: '场站' }).click()
  await page.locator('[data-test=new-site]').click()
  await choose(page, 'site-operator', '珠江充电')
  const siteName = '南山 P2 <img src=x onerror="window.__pwned=1">'
  await page.fill('input[name=name]', siteName)
  await page.fill('input[name=city]', '深圳')
  await page.fill('input[name=latitude]', '22.531')
  await page.fill('input[name=longitude]', '113.934')
  await page.locator('[data-test=save-site]').click()
  await page.getByRole('cell', { name: siteName }).waitFor()
  assert.equal(await page.evaluate(() => window.__pwned), undefined, 'a name typed by a user is never run as HTML')
  await dialogsClosed(page)
  const [site] = await node.api('GET', '/sites')
  assert.equal(site.operator_id, operator.id)
  assert.deepEqual([site.latitude, site.longitude], [22.531, 113.934])
  await page.locator(`[data-test=marker-${site.id}]`).waitFor()
  await accessible(page, 'the sites page')
  await page.screenshot({ path: screenshotPath('console-sites-zh') })

  // A charger, offline until a simulated one connects with its station id.
  await page.getByRole('menuitem', { name: '充电桩' }).click()
  await page.locator('[data-test=new-charger]').click()
  await page.fill('input[name=station_id]', 'WEB-1')
  await choose(page, 'charger-site', '南山 P2')
  await page.locator('[data-test=save-charger]').click()
  await dialogsClosed(page)
  const status = page.locator('[data-test=status-WEB-1]')
  await eventually(async () => (await status.textContent()).trim() === '离线', 'the new charger shown offline')

  // A time-of-use tariff built in the editor: flat until 08:00, then peak; a wrong price is shown
  // at its field, then fixed; saved, assigned to the site, and a charge previewed.
  await page.getByRole('menuitem', { name: '资费' }).click()
  await page.locator('[data-test=new-tariff]').click()
  await page.fill('input[name=tariff-id]', 'nanshan-tou')
  await choose(page, 'tariff-operator', '珠江充电')
  await page.getByRole('button', { name: '拆分' }).click()
  const firstEnd = page.locator('input[name=slot-0-0-end]')
  await firstEnd.fill('08:00')
  await firstEnd.press('Enter')
  await choose(page, 'slot-0-1-period', '高峰')
  await page.fill('input[name=flat-electricity]', '0.6')
  await page.fill('input[name=flat-service]', '0.8')
  await page.fill('input[name=peak-electricity]', '-1')
  await page.fill('input[name=peak-service]', '0.8')
  await page.locator('[data-test=validate-tariff]').click()
  const peakProblem = page.locator('[data-test=field-peak-electricity] .el-form-item__error')
  await eventually(async () => /不能为负数/.test(await peakProblem.textContent()), 'the problem shown at the peak price, in 简体中文')
  await page.screenshot({ path: screenshotPath('console-tariff-problem-zh') })
  await page.fill('input[name=peak-electricity]', '1.02')
  await page.locator('[data-test=validate-tariff]').click()
  await page.getByText('资费有效').waitFor()
  await page.locator('[data-test=save-tariff]').click()
  await page.waitForURL(/\/tariffs\/nanshan-tou$/)
  const [saved] = await node.api('GET', '/tariffs/nanshan-tou')
  assert.deepEqual(
    saved.tariff.elements.map((e) => [e.label, e.restrictions.start_time, e.restrictions.end_time]),
    [['flat', '00:00', '08:00'], ['peak', '08:00', '24:00']],
  )
  await choose(page, 'assign-site', '南山 P2')
  await page.locator('[data-test=assign-tariff]').click()
  await page.getByText('资费已应用').waitFor()
  // And to the charger, found by typing part of its id (searched on the node).
  await page.getByText('资费已应用').waitFor({ state: 'detached' })
  await page.locator('.el-radio', { hasText: '充电桩' }).click()
  await page.locator('[data-test=assign-charger]').click()
  await page.keyboard.type('web')
  await page.locator('.el-select-dropdown__item:visible', { hasText: 'WEB-1' }).click()
  await page.locator('[data-test=assign-tariff]').click()
  await page.getByText('资费已应用').waitFor()
  await page.locator('[data-test=preview-tariff]').click()
  await page.locator('[data-test=preview-total]').waitFor()
  await accessible(page, 'the tariff page')
  await page.screenshot({ path: screenshotPath('console-tariff-zh'), fullPage: true })

  // A driver of this member, paying by card, charges at the new charger: it comes online.
  await node.api('POST', '/drivers', {
    username: 'zhang-san',
    password: 'zhang-san-password-2026',
    operator_id: operator.id,
    payment_method: 'sandbox:visa-4242',
  })
  const [driver] = (await node.api('GET', '/drivers')).filter((d) => d.username === 'zhang-san')
  const card = (await node.api('GET', `/drivers/${driver.id}`)).tokens[0].id_token
  simulate(node, ['WEB-1'], [card], ['--sample-secs', '1', '--samples', '600'])
  await page.getByRole('menuitem', { name: '充电桩' }).click()
  await eventually(async () => ['在线', '充电中'].includes((await status.textContent()).trim()), 'the charger shown online', 30000)
  // Searched and filtered on the node: offline chargers hold none now; a search finds it by its site.
  await page.locator('[data-test=condition-offline]').click()
  await status.waitFor({ state: 'detached' })
  assert.match(await page.locator('[data-test=condition-offline]').textContent(), /离线（0）/)
  await page.locator('[data-test=condition-all]').click()
  await page.fill('input[aria-label="按桩编号、厂商、型号或场站搜索"]', '没有这个')
  await status.waitFor({ state: 'detached' })
  await page.fill('input[aria-label="按桩编号、厂商、型号或场站搜索"]', '南山')
  await status.waitFor()
  await accessible(page, 'the chargers page')
  await page.screenshot({ path: screenshotPath('console-chargers-zh') })
  // In service: what drivers of the whole consortium find (the commissioning page is still to come).
  await node.api('PUT', '/chargers/WEB-1/commissioning', {
    evse_id: 'CN*M01*EWEB-1',
    max_power_watts: 60000,
    connectors: ['gbt_dc'],
    metering_certificate: 'CPA-2025-0001',
    calibration_certificate: 'CAL-2026-17',
    calibration_expires_at: '2027-06-30T00:00:00+08:00',
  })

  // The charger's page: its connectors and history, a command with the charger's answer, and its
  // commissioning.
  await page.locator('[data-test=charger-WEB-1]').click()
  await page.locator('[data-test=commissioning]').getByText('CN*M01*EWEB-1').waitFor()
  await choose(page, 'command-kind', '读取配置')
  await page.locator('[data-test=send-command]').click()
  await page.locator('[data-test=command-answers]').getByText('HeartbeatInterval=300').waitFor()
  await page.locator('[data-test=charger-messages]').getByText('MeterValues').first().waitFor()
  await accessible(page, 'the charger page')
  await page.screenshot({ path: screenshotPath('console-charger-zh'), fullPage: true })

  // Its session: energy, curve and cost grow live (pushed by the node, no reload); stopped from
  // here, it shows the receipt and the payment, of which part is refunded.
  await page.getByRole('menuitem', { name: '充电订单' }).click()
  await page.locator('[data-test^=session-]').first().click()
  const energy = page.locator('[data-test=session-energy]')
  const cost = page.locator('[data-test=session-cost]')
  await energy.waitFor()
  const before = [await energy.textContent(), await cost.textContent()]
  await eventually(async () => (await energy.textContent()) !== before[0], 'the energy to grow live')
  await eventually(async () => /¥/.test(await cost.textContent()) && (await cost.textContent()) !== before[1], 'the cost to grow live')
  const curve = page.locator('[data-test=curve]')
  await eventually(async () => Number(await curve.getAttribute('data-points')) >= 3, 'the charging curve to grow')
  await accessible(page, 'the session page')
  await page.screenshot({ path: screenshotPath('console-session-live-zh') })
  await page.locator('[data-test=stop-session]').click()
  await eventually(async () => (await page.locator('[data-test=session-state]').textContent()).trim() === '已完成', 'the session to end', 30000)
  await page.locator('[data-test=receipt-total]').waitFor()
  await page.locator('[data-test=payment]').waitFor()
  await eventually(async () => (await page.locator('[data-test=refund]').count()) === 1, 'the payment captured')
  await page.locator('[data-test=refund]').click()
  await page.fill('input[name=refund_amount]', '0.01')
  await page.fill('input[name=refund_reason]', '测试部分退款')
  await page.locator('[data-test=send-refund]').click()
  await eventually(async () => (await page.locator('[data-test=refunded]').textContent()).trim() === '¥0.01', 'the refund shown')
  await dialogsClosed(page)
  await accessible(page, 'the ended session page')
  await page.screenshot({ path: screenshotPath('console-session-receipt-zh'), fullPage: true })

  // The dashboard, pushed by the node over a WebSocket: the charger counted, today's energy and
  // revenue include the session just ended.
  await page.getByRole('menuitem', { name: '概览' }).click()
  // (The simulated driver taps the card again: the charger is online or charging again.)
  const count = async (tile) => Number((await page.locator(`[data-test=count-${tile}] .value`).textContent()).trim())
  await eventually(async () => (await count('online')) + (await count('charging')) === 1, 'the charger counted, online or charging')
  assert.equal((await count('offline')) + (await count('faulted')), 0)
  await eventually(async () => /[1-9]/.test(await page.locator('[data-test=energy-today] .value').textContent()), "today's energy")
  assert.match(await page.locator('[data-test=revenue-today] .value').textContent(), /¥\d+\.\d\d/)
  assert.notEqual(await page.locator('[data-test=revenue-today] .value').textContent(), '¥0.00')
  await accessible(page, 'the dashboard with a day behind it')
  await page.screenshot({ path: screenshotPath('console-dashboard-zh') })
  await page.getByRole('menuitem', { name: '充电桩' }).click()

  // English, remembered across a reload.
  await page.locator('[data-test=locale]').click()
  await page.locator('.el-select-dropdown__item:visible', { hasText: 'English' }).click()
  await page.getByRole('menuitem', { name: 'Chargers' }).waitFor()
  await page.reload()
  await page.getByRole('menuitem', { name: 'Chargers' }).waitFor()
  await page.screenshot({ path: screenshotPath('console-chargers-en') })

  // Logging out ends the login on the node too.
  await page.getByRole('button', { name: 'Log out' }).click()
  await page.waitForURL(/\/login/)
  const stale = await context.request.get(`${node.url}/api/v1/me`, { headers: { cookie: `cm_staff=${login.value}` } })
  assert.equal(stale.status(), 401)
  await context.close()
}

export async function readonlyStaffSeeButCannotChange(browser, node) {
  await node.api('POST', '/staff', { username: 'watcher', password: 'watcher-password-2026', role: 'readonly', operator_id: 1 })
  const context = await browser.newContext(DESKTOP)
  const page = await context.newPage()
  await logIn(page, node, 'watcher', 'watcher-password-2026')
  await page.getByRole('menuitem', { name: '场站' }).click()
  await page.getByRole('cell', { name: /南山 P2/ }).waitFor()
  assert.equal(await page.locator('[data-test=new-site]').count(), 0, 'no button to create a site')
  await page.getByRole('menuitem', { name: '充电桩' }).click()
  await page.locator('[data-test=status-WEB-1]').waitFor()
  assert.equal(await page.locator('[data-test=new-charger]').count(), 0, 'no button to register a charger')

  assert.equal(await page.getByRole('menuitem', { name: '支付对账' }).count(), 0, "the member's pages are not shown")
  await page.getByRole('menuitem', { name: '资费' }).click()
  await page.getByRole('link', { name: 'nanshan-tou' }).click()
  await page.locator('[data-test=projection]').waitFor()
  assert.equal(await page.locator('[data-test=save-tariff]').count(), 0, 'no button to save a tariff')
  assert.equal(await page.locator('[data-test=assign-tariff]').count(), 0, 'no button to assign it')
  await page.getByRole('menuitem', { name: '充电订单' }).click()
  await page.locator('.el-radio-button', { hasText: '已完成' }).click()
  await page.locator('[data-test=session-1]').click()
  await page.locator('[data-test=receipt-total]').waitFor()
  assert.equal(await page.locator('[data-test=refund]').count(), 0, 'no button to refund')

  // Even a request made by hand with the browser's login is refused: without the CSRF header as
  // another site's form would send it, and with it because the role may not.
  const csrf = (await context.cookies()).find((c) => c.name === 'cm_staff_csrf').value
  const forged = await page.evaluate(async () => (await fetch('/api/v1/sites', { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{"name":"x"}' })).status)
  assert.equal(forged, 403)
  const asked = await page.evaluate(
    async (token) => (await fetch('/api/v1/sites', { method: 'POST', headers: { 'content-type': 'application/json', 'x-csrf-token': token }, body: '{"name":"x"}' })).json(),
    csrf,
  )
  assert.equal(asked.code, 'forbidden')
  await context.close()
}

export async function staffManageDriversAndWallets(browser, node) {
  const context = await browser.newContext(DESKTOP)
  const page = await context.newPage()
  await logIn(page, node, 'admin', ADMIN_PASSWORD)
  await page.getByRole('menuitem', { name: '司机' }).click()
  await page.locator('[data-test=block-li-wei]').click()
  await page.locator('[data-test=unblock-li-wei]').waitFor()
  const refused = await fetch(`${node.url}/api/v1/driver/login`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ username: 'li-wei', password: 'li-wei-password-2026' }),
  })
  assert.equal(refused.status, 403, 'a blocked driver cannot log in')
  await accessible(page, 'the drivers page')
  await page.screenshot({ path: screenshotPath('console-drivers-zh') })
  await page.locator('[data-test=unblock-li-wei]').click()
  await page.locator('[data-test=block-li-wei]').waitFor()

  const [driver] = (await node.api('GET', '/drivers')).filter((d) => d.username === 'li-wei')
  const app = (await node.api('GET', `/drivers/${driver.id}`)).tokens[0].id_token
  // Wallets are the operator's choice (no page for it yet).
  await node.api('PUT', `/operators/${driver.operator_id}/wallets`, { enabled: true })
  await page.getByRole('menuitem', { name: '卡与钱包' }).click()
  await page.locator(`[data-test=wallet-${app}]`).click()
  await page.locator('[data-test=wallet-balance]').waitFor()
  await page.fill('input[name=wallet-amount]', '50')
  await page.locator('[data-test=top-up]').click()
  await eventually(async () => (await page.locator('[data-test=wallet-balance]').textContent()).trim() === '¥50.00', 'the balance topped up')
  await accessible(page, 'the wallet')
  await page.screenshot({ path: screenshotPath('console-wallet-zh') })
  await page.keyboard.press('Escape')

  // A staff account and an API key, each working at once.
  await page.getByRole('menuitem', { name: '员工与密钥' }).click()
  await page.locator('[data-test=new-staff]').click()
  await page.fill('input[name=staff-username]', 'op-chen')
  await page.fill('input[name=staff-password]', 'op-chen-password-2026')
  await choose(page, 'staff-role', '运营人员')
  await page.locator('[data-test=save-staff]').click()
  await page.locator('[data-test=staff]').getByText('op-chen').waitFor()
  const login = await fetch(`${node.url}/api/v1/auth/login`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ username: 'op-chen', password: 'op-chen-password-2026' }),
  })
  assert.equal(login.status, 200)
  await accessible(page, 'the staff page')
  await page.getByRole('tab', { name: 'API 密钥' }).click()
  await page.fill('input[name=key-name]', 'billing-export')
  await page.locator('[data-test=create-key]').click()
  const key = (await page.locator('[data-test=new-key] code').textContent()).trim()
  const withKey = await fetch(`${node.url}/api/v1/me`, { headers: { 'x-api-key': key } })
  assert.equal(withKey.status, 200, 'the new key works')
  await page.screenshot({ path: screenshotPath('console-staff-zh') })
  await page.getByRole('menuitem', { name: '运营商' }).click()
  await page.getByRole('cell', { name: '珠江充电 Pearl River' }).waitFor()
  await accessible(page, 'the operators page')

  // The books agree after the charges, the refund and the top-up.
  await page.getByRole('menuitem', { name: '支付对账' }).click()
  await page.locator('[data-test=books-agree]').waitFor()
  await accessible(page, 'the payments page')

  // The ledger: this node's status, the blocks its feed filled with the tariff and chargers, and a
  // proposal the chain refuses (the only validator cannot be removed), with the chain's reason.
  await page.getByRole('menuitem', { name: '联盟账本' }).click()
  await page.locator('[data-test=ledger-status]').getByText('CN-M01').first().waitFor()
  await accessible(page, 'the ledger page')
  await page.screenshot({ path: screenshotPath('console-ledger-zh') })
  await page.getByRole('tab', { name: '区块' }).click()
  await eventually(async () => (await page.locator('.el-tab-pane:visible .el-table__row').count()) > 0, 'blocks on the ledger', 30000)
  await page.getByRole('tab', { name: '治理' }).click()
  await page.fill('textarea[name=proposal]', '{"remove_member": {"party_id": "CN-M01"}}')
  await page.locator('[data-test=propose]').click()
  await page.locator('.el-form-item__error', { hasText: '联盟规则不允许此操作' }).getByText('last validator').waitFor()
  await page.screenshot({ path: screenshotPath('console-governance-zh') })
  await context.close()
}
