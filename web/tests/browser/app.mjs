// The drivers' app on a phone (English): a driver finds a charger, starts, watches the cost rise,
// stops and reads the receipt; another driver sees none of it.
import assert from 'node:assert/strict'
import { ADMIN_PASSWORD, DESKTOP, accessible, appLogIn, consoleLogIn, eventually, lastCode, phone, screenshotPath, simulate } from './harness.mjs'

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
  await page.getByRole('tab', { name: 'Username & password' }).click()
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
  // The same chargers on a map, with the driver's position.
  await page.getByRole('tab', { name: 'Map' }).click()
  // Both chargers stand at one site: one marker says 2; the driver's position is the other.
  await eventually(async () => (await page.locator('[data-test^=marker-]').count()) === 2, 'the site and the driver on the map')
  assert.equal(await page.locator('[data-test=map] .count').textContent(), '2')
  await eventually(async () => (await page.locator('[data-test=map] image').count()) > 0, 'the tiles placed under the markers')
  assert.match(await page.getAttribute('[data-test=map] image >> nth=0', 'href'), /^https:\/\/tiles\.invalid\/\d+\/\d+\/\d+\.png$/)
  await page.locator('[data-test=map] .credit').filter({ hasText: '© test tiles' }).waitFor()
  await accessible(page, 'the app map')
  await page.screenshot({ path: screenshotPath('app-map-en') })
  await page.getByRole('tab', { name: 'List' }).click()
  await found.filter({ hasText: '120 kW' }).click()
  await page.waitForURL(/\/app\/charger\//)
  await page.locator('[data-test=price-now]').waitFor()
  await eventually(async () => /Available/.test(await page.locator('[data-test=charger-status]').textContent()), 'the charger available')
  // A favourite: marked here, the only one left when the list shows favourites only.
  await page.locator('[data-test=favourite]').click()
  await eventually(async () => (await page.locator('[data-test=favourite]').getAttribute('aria-pressed')) === 'true', 'the charger marked')
  await accessible(page, 'the app charger page')
  await page.screenshot({ path: screenshotPath('app-charger-en'), fullPage: true })
  await page.goBack()
  await page.locator('[data-test=only-favourites]').click()
  await eventually(async () => (await found.count()) === 1, 'the favourite alone')
  await found.first().click()
  await page.waitForURL(/\/app\/charger\//)
  await eventually(async () => /Available/.test(await page.locator('[data-test=charger-status]').textContent()), 'the favourite available')
  await page.locator('[data-test=start]').click()
  await page.waitForURL(/\/app\/charges\/session-\d+/)

  // Live: the cost rises with no reload; then stopped, and the receipt follows.
  const cost = page.locator('[data-test=charge-cost]')
  await eventually(async () => /¥/.test(await cost.textContent()), 'a cost so far')
  const first = await cost.textContent()
  await eventually(async () => (await cost.textContent()) !== first, 'the cost to rise', 30000)
  // The simulated car reports its battery: how full it is, and when it will be full.
  const battery = page.locator('[data-test=charge-battery]')
  await eventually(async () => /^Battery \d+% · full around \d\d:\d\d$/.test((await battery.textContent()).trim()), 'the estimated finish')
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
  await appLogIn(theirs, node, 'wang-wu', 'wang-wu-password-2026')
  await theirs.locator('[data-test=tab-charges]').click()
  await theirs.getByText('暂无充电记录').waitFor()
  await accessible(theirs, 'the app history in 简体中文')
  await theirs.screenshot({ path: screenshotPath('app-charges-zh') })
  await theirs.locator('[data-test=tab-find]').click()
  await theirs.locator('[data-test=charger]').first().waitFor()
  await theirs.screenshot({ path: screenshotPath('app-find-zh') })
  // The code printed on the charger, typed as a driver would, leads to it.
  await theirs.fill('input[name=charger-code]', 'cn m01 eweb 2')
  await theirs.locator('[data-test=open-code]').click()
  await theirs.waitForURL(/\/app\/charger\/.+\/WEB-2$/)
  await theirs.goBack()
  const charges = await theirs.evaluate(async () => (await fetch('/api/v1/driver/charges')).json())
  assert.deepEqual(charges, [])
  await other.close()
}

/** A new driver signs up in the app (简体中文) with their phone number, once the member's
 *  administrator opened sign-up for the operator in the console; a wrong code is refused first. */
export async function driverSignsUpWithTheirPhone(browser, node) {
  const [operator] = await node.api('GET', '/operators')
  const staff = await browser.newContext(DESKTOP)
  const console_ = await staff.newPage()
  await consoleLogIn(console_, node, 'admin', ADMIN_PASSWORD)
  await console_.getByRole('menuitem', { name: '运营商' }).click()
  const signup = console_.locator(`[data-test=signup-${operator.id}]`)
  await signup.click()
  await eventually(async () => (await node.api('GET', '/operators')).find((o) => o.id === operator.id).driver_signup, 'sign-up open')
  await accessible(console_, 'the operators page')
  await console_.screenshot({ path: screenshotPath('console-operators-zh') })
  await staff.close()

  const context = await phone(browser, undefined, 'zh-CN')
  const page = await context.newPage()
  await page.goto(`${node.url}/app/`)
  await page.waitForURL(/\/app\/login/)
  await accessible(page, 'the app login')
  await page.fill('input[name=phone]', '139 0000 0001')
  await page.getByRole('button', { name: '获取验证码' }).click()
  await page.getByRole('status').filter({ hasText: '+8613900000001' }).waitFor()
  assert.match(await page.getByRole('button', { name: /秒后重发/ }).textContent(), /\d+ 秒后重发/)
  const code = await eventually(() => lastCode(node), 'the code in the log')
  await page.fill('input[name=code]', code === '000000' ? '111111' : '000000')
  await page.getByRole('button', { name: '登录 / 注册' }).click()
  await page.getByRole('alert').filter({ hasText: '验证码错误' }).waitFor()
  await page.screenshot({ path: screenshotPath('app-login-zh') })
  await page.fill('input[name=code]', code)
  await page.fill('input[name=name]', '赵六')
  await page.getByRole('button', { name: '登录 / 注册' }).click()
  await page.waitForURL((url) => url.pathname === '/app/')
  const me = await page.evaluate(async () => (await fetch('/api/v1/driver/me')).json())
  assert.equal(me.username, '+8613900000001')
  assert.equal(me.name, '赵六')
  assert.equal(me.operator_id, operator.id)
  await context.close()

  // In English, a number that is no mobile number is refused before anything is sent.
  const english = await phone(browser)
  const second = await english.newPage()
  await second.goto(`${node.url}/app/`)
  await second.waitForURL(/\/app\/login/)
  await second.fill('input[name=phone]', '0755 1234')
  await second.getByRole('button', { name: 'Send code' }).click()
  await second.getByRole('alert').filter({ hasText: 'That is not a mobile number' }).waitFor()
  await accessible(second, 'the app login in English')
  await second.screenshot({ path: screenshotPath('app-login-en') })
  await english.close()
}
