// The drivers' app on a phone (English): a driver finds a charger, starts, watches the cost rise,
// stops and reads the receipt; another driver sees none of it.
import assert from 'node:assert/strict'
import { accessible, eventually, phone, screenshotPath, simulate } from './harness.mjs'

async function logIn(page, node, username, password) {
  await page.goto(`${node.url}/app/`)
  await page.waitForURL(/\/app\/login/)
  await page.fill('input[name=username]', username)
  await page.fill('input[name=password]', password)
  await page.getByRole('button', { name: /^(Log in|登录)$/ }).click()
  await page.waitForURL((url) => url.pathname === '/app/')
}

export async function driverChargesFromTheApp(browser, node) {
  // A charger that waits for drivers' apps (no card taps), at the site of the console's test.
  const [site] = await node.api('GET', '/sites')
  await node.api('POST', '/chargers', { station_id: 'WEB-2', operator_id: site.operator_id, site_id: site.id })
  await node.api('PUT', '/chargers/WEB-2/commissioning', {
    evse_id: 'CN*M01*EWEB-2',
    max_power_watts: 120000,
    connectors: ['gbt_dc'],
    metering_certificate: 'CPA-2025-0002',
    calibration_certificate: 'CAL-2026-18',
    calibration_expires_at: '2027-06-30T00:00:00+08:00',
  })
  simulate(node, ['WEB-2'], [], ['--sample-secs', '1', '--samples', '600'])
  for (const username of ['li-wei', 'wang-wu']) {
    await node.api('POST', '/drivers', {
      username,
      password: `${username}-password-2026`,
      operator_id: site.operator_id,
      payment_method: 'sandbox:visa-4242',
    })
  }

  const context = await phone(browser)
  const page = await context.newPage()
  await page.goto(`${node.url}/app/`)
  await page.waitForURL(/\/app\/login/)
  await accessible(page, 'the app login')
  await page.screenshot({ path: screenshotPath('app-login-en') })
  await page.fill('input[name=username]', 'li-wei')
  await page.fill('input[name=password]', 'wrong-password-entirely')
  await page.getByRole('button', { name: 'Log in' }).click()
  await page.getByRole('alert').filter({ hasText: 'Not logged in' }).waitFor()
  await page.fill('input[name=password]', 'li-wei-password-2026')
  await page.getByRole('button', { name: 'Log in' }).click()
  await page.waitForURL((url) => url.pathname === '/app/')
  const cookies = await context.cookies()
  assert.ok(cookies.find((c) => c.name === 'cm_driver')?.httpOnly)
  assert.equal(cookies.find((c) => c.name === 'cm_staff'), undefined)

  // Nearest first, with what a kWh costs now; the idle charger is the one to take.
  const found = page.locator('[data-test=charger]')
  await eventually(async () => (await found.count()) >= 2, 'both chargers listed')
  assert.match(await found.first().textContent(), /南山 P2/)
  // Filters: at least 120 kW leaves the 120 kW charger alone; a connector nobody has, none.
  await page.locator('[data-test=min-power]').selectOption('120')
  await eventually(async () => (await found.count()) === 1, 'the powerful charger alone')
  assert.match(await found.first().textContent(), /120 kW/)
  await page.locator('[data-test=connector]').selectOption('CHADEMO')
  await page.getByText('Nothing here yet').waitFor()
  await page.locator('[data-test=connector]').selectOption('')
  await page.locator('[data-test=min-power]').selectOption('')
  await eventually(async () => (await found.count()) >= 2, 'both chargers again')
  await accessible(page, 'the app charger list')
  await page.screenshot({ path: screenshotPath('app-find-en') })
  await found.filter({ hasText: '120 kW' }).click()
  await page.waitForURL(/\/app\/charger\//)
  await page.locator('[data-test=price-now]').waitFor()
  await eventually(async () => /Available/.test(await page.locator('[data-test=charger-status]').textContent()), 'the charger available')
  await accessible(page, 'the app charger page')
  await page.screenshot({ path: screenshotPath('app-charger-en'), fullPage: true })
  await page.locator('[data-test=start]').click()
  await page.waitForURL(/\/app\/charges\/session-\d+/)

  // Live: the cost rises with no reload; then stopped, and the receipt follows.
  const cost = page.locator('[data-test=charge-cost]')
  await eventually(async () => /¥/.test(await cost.textContent()), 'a cost so far')
  const first = await cost.textContent()
  await eventually(async () => (await cost.textContent()) !== first, 'the cost to rise', 30000)
  await accessible(page, 'the app charge page')
  await page.screenshot({ path: screenshotPath('app-charge-live-en') })
  await page.locator('[data-test=stop]').click()
  await page.locator('[data-test=receipt-total]').waitFor({ timeout: 30000 })
  assert.match(await page.locator('[data-test=charge-state]').textContent(), /Completed/)
  await page.screenshot({ path: screenshotPath('app-receipt-en'), fullPage: true })
  await page.getByRole('button', { name: 'Back' }).click()
  await page.waitForURL(/\/app\/charges$/)
  await page.locator('[data-test=charge]').first().waitFor()
  assert.equal(await page.locator('[data-test=charge]').count(), 1, 'one charge, listed once')
  await accessible(page, 'the app history')
  await context.close()

  // Another driver of the same operator, in 简体中文, sees none of it.
  const other = await phone(browser, undefined, 'zh-CN')
  const theirs = await other.newPage()
  await logIn(theirs, node, 'wang-wu', 'wang-wu-password-2026')
  await theirs.locator('[data-test=tab-charges]').click()
  await theirs.getByText('暂无充电记录').waitFor()
  await accessible(theirs, 'the app history in 简体中文')
  await theirs.screenshot({ path: screenshotPath('app-charges-zh') })
  await theirs.locator('[data-test=tab-find]').click()
  await theirs.locator('[data-test=charger]').first().waitFor()
  await theirs.screenshot({ path: screenshotPath('app-find-zh') })
  const charges = await theirs.evaluate(async () => (await fetch('/api/v1/driver/charges')).json())
  assert.deepEqual(charges, [])
  await other.close()
}
