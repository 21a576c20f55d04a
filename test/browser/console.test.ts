/**
 * The console in a real browser (headless Chromium) against the local platform, with the CLI as a
 * process, the container scripts on the host and a stub `claude` (container/test/fixtures/claude)
 * that edits a file, as in test/e2e/local.test.ts. A person's whole path: sign in with the one-time
 * link, start a session (after an error shown with its hint), send a prompt, watch its events
 * arrive, see the result and the branch, stop the session. Another user's session, written into the
 * platform's database, is neither listed nor opened, but the local user, the local platform's admin,
 * sees it in "All sessions" (and `session list --all`). The start form offers the allow-list
 * (DEVFLOW_REPOSITORIES) as suggestions. Screenshots land in test/artifacts/console/.
 */
import {join} from 'node:path'

import {expect} from 'chai'

import {openLocalDatabase, SqliteSessionStore} from '../../src/adapters/local/sqlite-store.js'
import {launchBrowser, screenshot, type TestBrowser} from '../helpers/browser.js'
import {CliSandbox} from '../helpers/cli.js'
import {bareRepository, git, LocalPlatform} from '../helpers/local-platform.js'

describe('browser: the console against the local platform', function () {
  this.timeout(240_000)
  let local: LocalPlatform
  let port: number
  let env: Record<string, string>
  let browser: TestBrowser
  let bare: string

  const run = (args: string[]) => local.run(args)
  const base = () => `http://127.0.0.1:${port}/`
  const signInLink = async () => {
    const open = await run(['local', 'open', '--no-browser', '--json'])
    expect(open.exitCode, open.stderr).to.equal(0)
    return open.json<{url: string; opened: boolean}>()
  }
  const api = async (path: string) => fetch(new URL(path, base()), {headers: {authorization: `Bearer ${await local.token()}`}})

  before(async function () {
    local = await LocalPlatform.create({
      prefix: 'devflow-console-browser-',
      // The bare repository registers as local/app; octo/* keeps free text in the start form.
      env: {DEVFLOW_REPOSITORIES: 'local/app,octo/*'},
    })
    ;({port, env} = local)
    bare = bareRepository(local.dir)
    const up = await local.up()
    expect(up.exitCode, up.stderr).to.equal(0)
    expect(up.json<{consoleLoginUrl: string}>().consoleLoginUrl).to.match(new RegExp(`^http://127\\.0\\.0\\.1:${port}/console/login\\?code=`))
    browser = await launchBrowser()
  })

  after(async function () {
    await browser?.close()
    await local.stop()
  })

  it('local open says how to start the platform when it is not running', async function () {
    const other = await CliSandbox.create()
    try {
      const open = await other.run(['local', 'open', '--json'], {env})
      expect(open.exitCode).to.equal(7)
      expect(open.json<{error: {code: string; hint: string}}>().error).to.include({code: 'LOCAL_NOT_RUNNING', hint: 'Start it with `devflow local up`.'})
    } finally {
      await other.cleanup()
    }
  })

  it('shows the sign-in page without the one-time link, and refuses a used link', async function () {
    const page = await browser.newPage()
    await page.goto(base())
    await page.locator('#sign-in').waitFor()
    expect(await page.locator('#sign-in').textContent()).to.include('devflow local open')
    await screenshot(page, '0-sign-in')
    const link = await signInLink()
    const other = await launchBrowser()
    try {
      const first = await other.newPage()
      expect((await first.goto(link.url))?.status()).to.equal(200)
      const second = await browser.newPage()
      const reused = await second.goto(link.url)
      expect(reused?.status()).to.equal(401)
      expect(await second.textContent('h1')).to.equal('This sign-in link has expired or was already used')
    } finally {
      await other.close()
    }
    await page.close()
  })

  it('signs in, starts a session, prompts it, shows its events, result and branch, and stops it', async function () {
    const link = await signInLink()
    expect(link.opened).to.equal(false)
    const page = await browser.newPage()
    await page.goto(link.url)
    expect(page.url()).to.equal(base())
    await page.locator('#sessions-page').waitFor()
    const cookies = await browser.context.cookies(base())
    const session = cookies.find((c) => c.name === `devflow_console_${port}`)
    expect(session).to.include({httpOnly: true, sameSite: 'Strict'})

    await page.click('#new-session')
    await page.locator('#start-page').waitFor()
    await page.locator('#repo-hint').waitFor()
    expect(await page.locator('#repo-hint').textContent()).to.equal('Also any repository of octo; or pick one of the suggestions.')
    expect(await page.locator('#repo-choices option').evaluateAll((options) => options.map((o) => o.getAttribute('value')))).to.deep.equal(['local/app'])
    await page.fill('input[name=repo]', bare)
    await page.fill('input[name=memory]', '999')
    await page.click('#start-session')
    const error = page.locator('#start-page .error')
    await error.waitFor()
    expect(await error.getAttribute('data-error-code')).to.equal('INVALID_CAPACITY')
    expect(await error.locator('.hint').textContent()).to.match(/^Try this: With 1 vCPU use \d+ to \d+ MiB/)
    await screenshot(page, '2-start-error')

    await page.fill('input[name=memory]', '4GB')
    await page.fill('input[name=ttl]', '2h')
    await page.click('#start-session')
    await page.locator('#session-page[data-session-id]').waitFor()
    const id = (await page.locator('#session-page').getAttribute('data-session-id')) as string
    expect(id).to.match(/^s-[a-z2-7]{20}$/)
    await page.locator('#session-page header [data-status=RUNNING]').waitFor({timeout: 60_000})
    await page.locator('#editor-unavailable').waitFor()
    expect(await page.locator('#editor-unavailable').textContent()).to.include('code-server is not installed')

    // The browser acted as the same local user as the CLI's token.
    const listed = await run(['session', 'list', '--stage', 'local', '--json'])
    expect(listed.json<{items: {id: string; repo: string; status: string}[]}>().items.map((s) => [s.id, s.repo, s.status])).to.deep.equal([[id, 'local/app', 'RUNNING']])
    await screenshot(page, '3-session-running')

    await page.fill('#prompt-text', 'write hello.txt Hello from DevFlow')
    await page.selectOption('#prompt-pr', 'none')
    await page.click('#send-prompt')
    const card = page.locator('article.prompt').first()
    await card.locator('li.event').first().waitFor({timeout: 60_000})
    await card.locator('.result-branch').waitFor({timeout: 90_000})
    expect(await card.locator('.result-branch').textContent()).to.equal(`devflow/${id}`)
    expect(await card.getAttribute('data-status')).to.equal('SUCCEEDED')
    const commit = git(['rev-parse', `devflow/${id}`], bare)
    expect(await card.locator('.result-commit').textContent()).to.equal(commit)
    expect(git(['show', `devflow/${id}:hello.txt`], bare)).to.equal('Hello from DevFlow')

    // Every event the API holds for the prompt is on the page, in order, as `logs` shows them.
    const promptId = (await card.getAttribute('data-prompt-id')) as string
    const events = (await (await api(`sessions/${id}/prompts/${promptId}/events?after=0`)).json()) as {items: {type: string}[]}
    expect(events.items.length).to.be.greaterThan(0)
    // At least that many events shown (a locator: the console's CSP forbids the eval a string predicate needs).
    await page.locator('article.prompt li.event').nth(events.items.length - 1).waitFor()
    expect(await card.locator('li.event .event-type').allTextContents()).to.deep.equal(events.items.map((e) => e.type))
    await screenshot(page, '4-prompt-result')

    await page.click('#stop-session')
    await page.locator('#session-page header [data-status=STOPPED]').waitFor({timeout: 60_000})
    expect(await page.isDisabled('#stop-session')).to.equal(true)
    await screenshot(page, '5-session-stopped')
    const stopped = (await (await api(`sessions/${id}`)).json()) as {status: string}
    expect(stopped.status).to.equal('STOPPED')

    await page.click('a[href="#/"]')
    const row = page.locator(`tr[data-session-id=${id}]`)
    await row.waitFor()
    expect(await row.locator('[data-status]').getAttribute('data-status')).to.equal('STOPPED')
    await screenshot(page, '1-sessions')
    await page.selectOption('#status-filter', 'RUNNING')
    await page.locator('#no-sessions').waitFor()
    await page.selectOption('#status-filter', 'STOPPED')
    await row.waitFor()
    await page.close()
  })

  it('neither lists nor opens another user\'s session', async function () {
    const now = new Date()
    const foreign = 's-zzzzzzzzzzzzzzzzzzzz'
    const db = openLocalDatabase(join(local.dataDir, 'devflow.db'))
    try {
      await new SqliteSessionStore(db).create({
        id: foreign,
        userId: 'local:someone-else',
        repo: 'octo/secret',
        branch: 'main',
        status: 'RUNNING',
        capacity: 'FARGATE',
        cpu: 1024,
        memory: 4096,
        createdAt: now.toISOString(),
        updatedAt: now.toISOString(),
        expiresAt: new Date(now.getTime() + 3_600_000).toISOString(),
        idleTimeoutSeconds: 1800,
        agentTokenHash: 'x'.repeat(64),
        version: 0,
      })
    } finally {
      db.close()
    }
    const page = await browser.newPage()
    await page.goto((await signInLink()).url)
    await page.locator('#sessions-page tbody tr').first().waitFor()
    expect(await page.locator(`tr[data-session-id=${foreign}]`).count()).to.equal(0)
    expect(await page.locator('#sessions-page').textContent()).not.to.include('octo/secret')

    await page.goto(`${base()}#/sessions/${foreign}`)
    const error = page.locator('#session-page .error')
    await error.waitFor()
    expect(await error.getAttribute('data-error-code')).to.equal('SESSION_NOT_FOUND')
    expect(await error.locator('.hint').textContent()).to.match(/^Try this: /)
    expect(await page.locator('#session-page').textContent()).not.to.include('octo/secret')
    await screenshot(page, '6-foreign-session')

    // The local user is the local platform's admin: "All sessions" shows the other user's too.
    await page.click('#all-sessions')
    const foreignRow = page.locator(`#all-sessions-page tr[data-session-id=${foreign}]`)
    await foreignRow.waitFor()
    expect(await foreignRow.getAttribute('data-owner')).to.equal('local:someone-else')
    expect(await foreignRow.textContent()).to.include('octo/secret')
    expect(await page.locator('#all-sessions-page tbody tr').count()).to.be.greaterThan(1)
    await screenshot(page, '7-all-sessions')
    await page.selectOption('#all-status-filter', 'STOPPED')
    // A locator, not a string predicate: the console's CSP forbids the eval a string needs.
    await foreignRow.waitFor({state: 'detached'})
    await page.close()

    const all = await run(['session', 'list', '--all', '--stage', 'local', '--json'])
    expect(all.exitCode, all.stderr).to.equal(0)
    expect(all.json<{items: {id: string; userId: string}[]}>().items.find((s) => s.id === foreign)?.userId).to.equal('local:someone-else')
    const own = await run(['session', 'list', '--stage', 'local', '--json'])
    expect(own.json<{items: {id: string}[]}>().items.map((s) => s.id)).not.to.include(foreign)
  })
})
