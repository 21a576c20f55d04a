/**
 * Headless Chromium for the console's browser tests: Debian's `chromium` package (.ci/run installs
 * it when missing) driven by playwright-core, which never downloads a browser. Each launch gets a
 * fresh profile directory and no background traffic: the tests talk to 127.0.0.1 only.
 */
import {existsSync} from 'node:fs'
import {mkdir, mkdtemp, rm} from 'node:fs/promises'
import {tmpdir} from 'node:os'
import {join} from 'node:path'

import {type BrowserContext, chromium, type Page} from 'playwright-core'

import {ROOT} from './cli.js'

export const CHROMIUM = process.env.DEVFLOW_TEST_CHROMIUM ?? '/usr/bin/chromium'
/** Screenshots of each page; gitignored (README shows a committed copy). */
export const ARTIFACTS = join(ROOT, 'test', 'artifacts', 'console')

const ARGS = ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync']

export interface TestBrowser {
  readonly context: BrowserContext
  newPage(): Promise<Page>
  close(): Promise<void>
}

export async function launchBrowser(): Promise<TestBrowser> {
  if (!existsSync(CHROMIUM)) throw new Error(`${CHROMIUM} is missing: apt-get install -y chromium (.ci/run does it)`)
  const profile = await mkdtemp(join(tmpdir(), 'devflow-chromium-'))
  const context = await chromium.launchPersistentContext(profile, {executablePath: CHROMIUM, headless: true, args: ARGS, viewport: {width: 1200, height: 860}})
  return {
    context,
    newPage: () => context.newPage(),
    async close() {
      await context.close()
      await rm(profile, {recursive: true, force: true})
    },
  }
}

export async function screenshot(page: Page, name: string): Promise<string> {
  await mkdir(ARTIFACTS, {recursive: true})
  const file = join(ARTIFACTS, `${name}.png`)
  await page.screenshot({path: file, fullPage: true})
  return file
}
