// What the browser tests run against: real `chargemesh` nodes (each in its own process, its own
// data directory, SQLite) and simulated chargers (`chargemesh-dev sim`), and Debian's Chromium
// driven by playwright-core. Nothing of the API is mocked.
import { spawn, spawnSync } from 'node:child_process'
import { createServer } from 'node:net'
import { mkdtempSync, mkdirSync, openSync, readFileSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { chromium } from 'playwright-core'

export const ADMIN_PASSWORD = 'browser-test-admin-password'
export const SCREENSHOTS = new URL('../../screenshots/', import.meta.url).pathname
const children = []

function required(name) {
  const value = process.env[name]
  if (!value) throw new Error(`set ${name} (scripts/test does)`)
  return value
}

export function freePort() {
  return new Promise((resolve, reject) => {
    const server = createServer()
    server.once('error', reject)
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address()
      server.close(() => resolve(port))
    })
  })
}

/** Waits until `check` returns something truthy (or stops throwing), up to `millis`. */
export async function eventually(check, what, millis = 20000) {
  const until = Date.now() + millis
  let last
  for (;;) {
    try {
      const value = await check()
      if (value) return value
    } catch (error) {
      last = error
    }
    if (Date.now() > until) throw new Error(`timed out waiting for ${what}${last ? `: ${last.message}` : ''}`)
    await new Promise((resolve) => setTimeout(resolve, 100))
  }
}

/** A node of its own (in `dir`, or a new folder), with the `admin` account's password known. */
export async function startNode(name, { apiPort: chosenApi, dir: chosenDir, ...settings } = {}) {
  const dir = chosenDir ?? mkdtempSync(join(tmpdir(), `chargemesh-browser-${name}-`))
  const [apiPort, gatewayPort] = [chosenApi ?? (await freePort()), await freePort()]
  const log = openSync(join(dir, 'node.log'), 'a')
  const child = spawn(required('CHARGEMESH_BIN'), ['node'], {
    env: {
      ...process.env,
      CHARGEMESH_DATA_DIR: dir,
      CHARGEMESH_API__LISTEN: `127.0.0.1:${apiPort}`,
      CHARGEMESH_GATEWAY__LISTEN: `127.0.0.1:${gatewayPort}`,
      // A one-member consortium of its own, made at first start; p2p on a port of its choosing.
      CHARGEMESH_LEDGER__P2P_LISTEN: '127.0.0.1:0',
      CHARGEMESH_API__ADMIN_PASSWORD: ADMIN_PASSWORD,
      CHARGEMESH_LOG__FILTER: 'warn',
      ...settings,
    },
    stdio: ['ignore', log, log],
  })
  children.push(child)
  const node = { name, dir, url: `http://127.0.0.1:${apiPort}`, chargers: `ws://127.0.0.1:${gatewayPort}/ocpp`, child }
  node.api = api.bind(node)
  await eventually(async () => (await fetch(`${node.url}/health`)).ok, `node ${name} to answer`)
  node.token = (await node.api('POST', '/auth/login', { username: 'admin', password: ADMIN_PASSWORD }, null)).token
  node.log = () => readFileSync(join(dir, 'node.log'), 'utf8')
  return node
}

/** Members of one consortium, each a node of its own: a genesis made by `chargemesh ledger genesis`
 *  (keys), each member's federation endpoint set to its node's API and its validator given a free port. */
export async function startConsortium(count) {
  const dir = mkdtempSync(join(tmpdir(), 'chargemesh-browser-consortium-'))
  const p2p = await freePort()
  const made = spawnSync(required('CHARGEMESH_BIN'), ['ledger', 'genesis', '--chain-name', 'browser-test', '--members', String(count), '--p2p-base-port', String(p2p), '--out', dir])
  if (made.status !== 0) throw new Error(`ledger genesis failed: ${made.stderr}`)
  const genesis = JSON.parse(readFileSync(join(dir, 'genesis.json'), 'utf8'))
  const apis = []
  for (let i = 0; i < count; i++) apis.push(await freePort())
  genesis.members.forEach((member, i) => (member.endpoint = `http://127.0.0.1:${apis[i]}/ocpi`))
  // Each validator's port found free on its own: the ports after a free base port may be taken.
  for (const member of genesis.members) member.p2p_endpoint = `127.0.0.1:${await freePort()}`
  writeFileSync(join(dir, 'genesis.json'), JSON.stringify(genesis))
  return Promise.all(
    genesis.members.map((member, i) =>
      startNode(member.party_id.toLowerCase(), {
        CHARGEMESH_LEDGER__PARTY_ID: member.party_id,
        CHARGEMESH_LEDGER__GENESIS: join(dir, 'genesis.json'),
        CHARGEMESH_LEDGER__KEY: join(dir, 'keys', `${member.party_id}.key`),
        CHARGEMESH_LEDGER__P2P_LISTEN: member.p2p_endpoint,
        CHARGEMESH_LEDGER__FEED_INTERVAL_MS: '500',
        apiPort: apis[i],
      }),
    ),
  )
}

/** Calls a node's API as its admin, or with `token` (`null`: none): the tests' own setup and
 *  checks, not what the browser does. */
async function api(method, path, body, token) {
  const response = await fetch(`${this.url}/api/v1${path}`, {
    method,
    headers: { 'content-type': 'application/json', ...(token !== null ? { authorization: `Bearer ${token ?? this.token}` } : {}) },
    body: body === undefined ? undefined : JSON.stringify(body),
  })
  const text = await response.text()
  if (!response.ok) throw new Error(`${method} ${path}: ${response.status} ${text}`)
  return text ? JSON.parse(text) : undefined
}

/** Simulated chargers of a node: they connect, boot and, with cards, charge. */
export function simulate(node, stations, cards, extra = []) {
  const log = openSync(join(node.dir, 'sim.log'), 'a')
  const child = spawn(
    required('CHARGEMESH_DEV_BIN'),
    ['sim', '--url', node.chargers, '--stations', stations.join(','), ...(cards.length ? ['--cards', cards.join(',')] : []), ...extra],
    { env: { ...process.env, RUST_LOG: 'warn' }, stdio: ['ignore', log, log] },
  )
  children.push(child)
  return child
}

/** A phone in English (or `language`), at `geolocation` in Shenzhen. */
export async function phone(browser, geolocation = { latitude: 22.53, longitude: 113.93 }, language = 'en') {
  const context = await browser.newContext({
    viewport: { width: 390, height: 844 },
    deviceScaleFactor: 2,
    isMobile: true,
    hasTouch: true,
    locale: 'en-GB',
    timezoneId: 'Asia/Shanghai',
    geolocation,
    permissions: ['geolocation'],
  })
  await context.addInitScript((chosen) => localStorage.setItem('chargemesh.locale', chosen), language)
  return context
}

export async function browser() {
  return chromium.launch({ executablePath: process.env.CHARGEMESH_CHROMIUM ?? '/usr/bin/chromium', args: ['--no-sandbox'] })
}

export function screenshotPath(name) {
  mkdirSync(SCREENSHOTS, { recursive: true })
  return join(SCREENSHOTS, `${name}.png`)
}

/** Runs axe-core on the page and fails on serious or critical violations. */
export async function accessible(page, what) {
  // Drop-downs, dialogs and messages that are opening or closing are measured mid-fade: wait until
  // no transition runs.
  await eventually(
    () =>
      page.evaluate(
        () =>
          document.querySelectorAll('[class*="-enter-active"], [class*="-leave-active"]').length === 0 &&
          [...document.querySelectorAll('.el-message, .el-overlay, .van-toast')].every((shown) => getComputedStyle(shown).opacity === '1'),
      ),
    `${what} to settle`,
  )
  const source = readFileSync(new URL('../../node_modules/axe-core/axe.min.js', import.meta.url), 'utf8')
  await page.evaluate(source)
  const result = await page.evaluate(() => globalThis.axe.run({ resultTypes: ['violations'] }))
  const serious = result.violations.filter((v) => v.impact === 'serious' || v.impact === 'critical')
  if (serious.length > 0) {
    const listed = serious.map((v) => `${v.id} (${v.impact}): ${v.help} — ${v.nodes.slice(0, 3).map((n) => `${n.target.join(' ')} ${n.any?.[0]?.message ?? ''}`).join('; ')}`)
    throw new Error(`${what}: accessibility violations:\n  ${listed.join('\n  ')}`)
  }
}

export function stopAll() {
  for (const child of children) child.kill('SIGKILL')
}

/** Logs in to the driver app at `node` with a username and password (the login page's second way). */
export async function appLogIn(page, node, username, password) {
  await page.goto(`${node.url}/app/`)
  await page.waitForURL(/\/app\/login/)
  await page.getByRole('tab', { name: /Username & password|账号密码登录/ }).click()
  await page.fill('input[name=username]', username)
  await page.fill('input[name=password]', password)
  await page.getByRole('button', { name: /^(Log in|登录)$/ }).click()
  await page.waitForURL((url) => url.pathname === '/app/')
}

/** The one-time code the node's development SMS provider last wrote to its log. */
export function lastCode(node) {
  const codes = [...node.log().matchAll(/验证码 (\d{6})/g)]
  return codes.at(-1)?.[1]
}

/** A desktop browser in 简体中文, as an operator's staff use the console. */
export const DESKTOP = { viewport: { width: 1366, height: 900 }, locale: 'zh-CN', timezoneId: 'Asia/Shanghai' }

/** Logs in to the console at `node` (its login page in 简体中文). */
export async function consoleLogIn(page, node, username, password) {
  await page.goto(`${node.url}/`)
  await page.waitForURL(/\/login/)
  await page.fill('input[name=username]', username)
  await page.fill('input[name=password]', password)
  await page.getByRole('button', { name: '登录' }).click()
  await page.waitForURL((url) => !url.pathname.startsWith('/login'))
}
