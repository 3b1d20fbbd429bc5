// How much a browser downloads to show the console's and the app's first screens, as the node serves
// it (gzip): `scripts/web weigh`. The figures go to BENCHMARKS.md.
import { ADMIN_PASSWORD, browser as launch, startNode, stopAll } from './harness.mjs'

async function weigh(browser, url, act) {
  const context = await browser.newContext({ viewport: { width: 1366, height: 900 } })
  const page = await context.newPage()
  const sizes = { js: 0, css: 0, other: 0 }
  page.on('response', async (response) => {
    const type = response.headers()['content-type'] ?? ''
    const length = Number(response.headers()['content-length'] ?? (await response.body().catch(() => Buffer.alloc(0))).length)
    const kind = type.includes('javascript') ? 'js' : type.includes('css') ? 'css' : 'other'
    sizes[kind] += length
  })
  await page.goto(url, { waitUntil: 'networkidle' })
  const first = { ...sizes }
  if (act) {
    await act(page)
    await page.waitForLoadState('networkidle')
  }
  await context.close()
  return { first, after: sizes }
}

const kb = (bytes) => `${(bytes / 1024).toFixed(1)} KB`
const browser = await launch()
try {
  const node = await startNode('weigh')
  const consoleLoad = await weigh(browser, `${node.url}/`, async (page) => {
    await page.fill('input[name=username]', 'admin')
    await page.fill('input[name=password]', ADMIN_PASSWORD)
    await page.locator('button[type=submit]').click()
    await page.waitForURL((url) => !url.pathname.startsWith('/login'))
  })
  const appLoad = await weigh(browser, `${node.url}/app/`)
  console.log(`console, log-in screen: ${kb(consoleLoad.first.js)} JS, ${kb(consoleLoad.first.css)} CSS (compressed, as served)`)
  console.log(`console, log-in then dashboard: ${kb(consoleLoad.after.js)} JS, ${kb(consoleLoad.after.css)} CSS in all`)
  console.log(`driver app, first screen: ${kb(appLoad.first.js)} JS, ${kb(appLoad.first.css)} CSS`)
} finally {
  await browser.close()
  stopAll()
}
