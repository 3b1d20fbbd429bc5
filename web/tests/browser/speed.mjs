// The console with a fleet of 10,000 chargers (`scripts/web speed`; BENCHMARKS.md): a node and, in a
// process of its own, a simulated fleet of that size charging against it (`chargemesh-dev provision`
// registers it, `chargemesh-dev sim` runs it), then
//   A. the node alone for a while: its MeterValues handler time and rate, from its /metrics;
//   B. the same with the console open in Chromium, the dashboard (pushed overview) in one tab and the
//      charger list (a page of 50 read from the node every 5 s) in another: the handler time and rate
//      again, and how long the pages take from the data arriving to the next painted frame.
//   C. what ten open consoles ask of the node without a browser drawing them: ten pushed overviews
//      and ten charger lists read every 5 s, from one blank page.
// In each phase the node's own CPU time is read from /proc: what open consoles cost the node.
// Pass the release binaries in CHARGEMESH_BIN / CHARGEMESH_DEV_BIN; CHARGEMESH_SPEED_CHARGERS and
// CHARGEMESH_SPEED_SECONDS change the fleet and each phase's length.
import { spawn, spawnSync } from 'node:child_process'
import { mkdtempSync, openSync, readFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { ADMIN_PASSWORD, DESKTOP, browser as launch, consoleLogIn, eventually, startNode, stopAll } from './harness.mjs'

const CHARGERS = Number(process.env.CHARGEMESH_SPEED_CHARGERS ?? 10000)
const SECONDS = Number(process.env.CHARGEMESH_SPEED_SECONDS ?? 30)

/** The MeterValues handler's total seconds and count so far, from the node's Prometheus text. */
async function handled(node) {
  const text = await (await fetch(`${node.url}/metrics`)).text()
  const value = (suffix) => {
    const line = text.split('\n').find((l) => l.startsWith(`chargemesh_ocpp_handler_seconds_${suffix}{`) && l.includes('action="MeterValues"'))
    return line ? Number(line.split(' ').at(-1)) : 0
  }
  return { sum: value('sum'), count: value('count'), at: Date.now() }
}

const TICKS_PER_SECOND = Number(spawnSync('getconf', ['CLK_TCK']).stdout.toString().trim() || 100)

/** The CPU seconds (user and system) process `pid` has used so far. */
function cpuSeconds(pid) {
  const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1].split(' ')
  return (Number(fields[11]) + Number(fields[12])) / TICKS_PER_SECOND
}

/** Runs `during` for the phase's length and answers the handler's mean time and rate meanwhile, and
 *  the node's CPU use (in cores). */
async function phase(node, during = async () => {}) {
  const before = await handled(node)
  const cpuBefore = cpuSeconds(node.child.pid)
  await during()
  await new Promise((resolve) => setTimeout(resolve, SECONDS * 1000))
  const after = await handled(node)
  const seconds = (after.at - before.at) / 1000
  const count = after.count - before.count
  return {
    perSecond: count / seconds,
    meanMs: count ? ((after.sum - before.sum) / count) * 1000 : NaN,
    cores: (cpuSeconds(node.child.pid) - cpuBefore) / seconds,
  }
}

/** In the page, before its scripts: each overview pushed and each charger list read is timed from
 *  its arrival to the next painted frame. */
function timeRenders() {
  const rendered = (what, arrived) =>
    requestAnimationFrame(() => setTimeout(() => window.__renders.push([what, performance.now() - arrived])))
  window.__renders = []
  const NativeSocket = window.WebSocket
  window.WebSocket = class extends NativeSocket {
    constructor(...args) {
      super(...args)
      this.addEventListener('message', () => rendered('overview', performance.now()))
    }
  }
  const nativeFetch = window.fetch.bind(window)
  window.fetch = async (...args) => {
    const response = await nativeFetch(...args)
    if (String(args[0]).includes('/api/v1/fleet?')) {
      const text = response.text.bind(response)
      response.text = async () => {
        const body = await text()
        rendered('chargers', performance.now())
        return body
      }
    }
    return response
  }
}

const stats = (values) => {
  const sorted = [...values].sort((a, b) => a - b)
  const at = (q) => sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))]
  return sorted.length ? `${sorted.length} renders, median ${at(0.5).toFixed(0)} ms, p95 ${at(0.95).toFixed(0)} ms, max ${sorted.at(-1).toFixed(0)} ms` : 'none'
}

const dir = mkdtempSync(join(tmpdir(), 'chargemesh-speed-'))
const registered = spawnSync(process.env.CHARGEMESH_DEV_BIN, ['provision', '--chargers', String(CHARGERS)], {
  env: { ...process.env, CHARGEMESH_DATA_DIR: dir, CHARGEMESH_LOG__FILTER: 'warn' },
})
if (registered.status !== 0) throw new Error(`provision failed: ${registered.stderr}`)
const node = await startNode('speed', { dir })
// The names `provision` gives; passed a thousand to a flag (an argument has at most 128 KiB).
const names = (prefix) => Array.from({ length: CHARGERS }, (_, i) => `${prefix}${String(i + 1).padStart(4, '0')}`)
const flags = (flag, values) => Array.from({ length: Math.ceil(values.length / 1000) }, (_, i) => [flag, values.slice(i * 1000, (i + 1) * 1000).join(',')]).flat()
const fleet = spawn(process.env.CHARGEMESH_DEV_BIN, ['sim', '--url', node.chargers, ...flags('--stations', names('SIM-')), ...flags('--cards', names('DEMO-CARD-'))], {
  env: { ...process.env, RUST_LOG: 'warn' },
  stdio: ['ignore', openSync(join(dir, 'sim.log'), 'a'), openSync(join(dir, 'sim.log'), 'a')],
})
const browser = await launch()
try {
  const overview = async () => (await fetch(`${node.url}/api/v1/overview`, { headers: { authorization: `Bearer ${node.token}` } })).json()
  await eventually(async () => {
    const { chargers } = await overview()
    return chargers.online + chargers.charging >= CHARGERS
  }, `all ${CHARGERS} chargers connected`, 600_000)
  const alone = await phase(node)

  const context = await browser.newContext(DESKTOP)
  await context.addInitScript(timeRenders)
  const dashboard = await context.newPage()
  const list = await context.newPage()
  const watched = await phase(node, async () => {
    await consoleLogIn(dashboard, node, 'admin', ADMIN_PASSWORD)
    await dashboard.locator('[data-test=count-charging] .value').filter({ hasText: /\d/ }).waitFor()
    await list.goto(`${node.url}/chargers`)
    await list.locator('[data-test=chargers] tbody tr').first().waitFor({ timeout: 60_000 })
  })
  // What one dashboard update and one page of the list cost the node, under the same load.
  const timed = async (path) => {
    const took = []
    for (let i = 0; i < 20; i++) {
      const started = performance.now()
      const response = await fetch(`${node.url}/api/v1${path}`, { headers: { authorization: `Bearer ${node.token}` } })
      await response.arrayBuffer()
      took.push(performance.now() - started)
    }
    return stats(took).replace('renders', 'requests')
  }
  const overviewTime = await timed('/overview')
  const pageTime = await timed('/fleet?limit=50')
  const renders = [...(await dashboard.evaluate(() => window.__renders)), ...(await list.evaluate(() => window.__renders))]
  const of = (what) => renders.filter(([kind]) => kind === what).map(([, ms]) => ms)
  const shown = await list.locator('[data-test=charger-pages] .el-pagination__total').textContent()

  console.log(`fleet: ${CHARGERS} simulated chargers charging (MeterValues every 5 s each), ${SECONDS} s per phase`)
  const line = (p) => `${p.perSecond.toFixed(0)} MeterValues/s, handler mean ${p.meanMs.toFixed(2)} ms, node CPU ${p.cores.toFixed(2)} cores`
  console.log(`A, node alone:        ${line(alone)}`)
  console.log(`B, console open:      ${line(watched)}`)
  console.log(`dashboard (pushed overview), arrival to painted: ${stats(of('overview'))}`)
  console.log(`GET /api/v1/overview meanwhile: ${overviewTime}`)
  console.log(`GET /api/v1/fleet?limit=50 meanwhile: ${pageTime}`)
  console.log(`charger list (${shown.trim()}, a page of 50 every 5 s), body read to painted: ${stats(of('chargers'))}`)

  await dashboard.close()
  await list.close()
  const quiet = await context.newPage()
  // The driver app's sign-in page: served with the pages' content policy, which lets a page reach its own node.
  await quiet.goto(`${node.url}/app/`)
  const CONSOLES = 10
  const ten = await phase(node, () =>
    quiet.evaluate((consoles) => {
      window.__pushed = 0
      for (let i = 0; i < consoles; i++) {
        const socket = new WebSocket(`ws://${location.host}/api/v1/overview/live?zone=Asia/Shanghai`)
        socket.onmessage = () => window.__pushed++
        setInterval(() => fetch('/api/v1/fleet?offset=0&limit=50').then((r) => r.json()), 5000)
      }
    }, CONSOLES),
  )
  const pushed = await quiet.evaluate(() => window.__pushed)
  console.log(`C, ${CONSOLES} consoles' data: ${line(ten)}; ${pushed} overviews pushed`)
  await context.close()
} finally {
  await browser.close()
  fleet.kill('SIGKILL')
  stopAll()
}
