/**
 * The console in its AWS mode in a real browser: config.json says `cognito`, the page is served
 * from one origin, the API from another (CORS, as CloudFront and execute-api are), and sign-in goes
 * through a fake of Cognito's hosted login (test/helpers/fake-cognito.ts) with PKCE. The API is the
 * real router over the embedded platform's core services (sessions run as host processes with the
 * stub agent), behind a gate that does what API Gateway's Cognito authorizer does: refuse a
 * request without an ID token this pool issued, else pass its claims in
 * requestContext.authorizer.claims; responses get the Lambda's CORS header (withConsoleCors).
 * Two users: what Alice starts is hers (owner = `cognito:<her subject>`); Bob neither sees nor
 * opens it. The allow-list applies per owner: Alice may start on any repository (free text), Bob
 * picks from the stage's one repository. Carol, in the devflow-admins group, sees both users'
 * sessions in "All sessions"; Bob is refused there with the API's hint.
 */
import {mkdir, mkdtemp, readFile, rm, symlink} from 'node:fs/promises'
import {createServer, type Server} from 'node:http'
import type {AddressInfo} from 'node:net'
import {tmpdir} from 'node:os'
import {extname, join} from 'node:path'

import {expect} from 'chai'

import {withConsoleCors} from '../../src/api/console-cors.js'
import {type RunningHttpServer, startHttpServer} from '../../src/api/http-server.js'
import {type ApiRouter, createApiRouter} from '../../src/api/router.js'
import {createLocalPlatform, type LocalPlatform} from '../../src/composition/local.js'
import {CONSOLE_ADMIN_GROUP} from '../../src/core/admins.js'
import {launchBrowser, screenshot, type TestBrowser} from '../helpers/browser.js'
import {ROOT} from '../helpers/cli.js'
import {FakeCognito} from '../helpers/fake-cognito.js'
import {bareRepository, git} from '../helpers/local-platform.js'
import {freePort} from '../helpers/moto.js'

const CLIENT_ID = 'devflow-console-test'
const SITE = join(ROOT, 'dist', 'console')

/** The built console with the config.json `devflow deploy` writes, as the bucket holds it. */
async function serveSite(config: {value: unknown}): Promise<{server: Server; url: string}> {
  const types: Record<string, string> = {'.html': 'text/html', '.js': 'text/javascript', '.css': 'text/css'}
  const server = createServer((req, res) => {
    const path = new URL(req.url ?? '/', 'http://x').pathname
    if (path === '/config.json') {
      res.writeHead(200, {'content-type': 'application/json'})
      res.end(JSON.stringify(config.value))
      return
    }
    const file = path === '/' ? 'index.html' : path.slice(1)
    readFile(join(SITE, file)).then(
      (body) => {
        res.writeHead(200, {'content-type': types[extname(file)] ?? 'application/octet-stream'})
        res.end(body)
      },
      () => {
        res.writeHead(404)
        res.end()
      },
    )
  })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', () => resolve()))
  return {server, url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/`}
}

/** API Gateway with the Cognito authorizer in front of the router, and the Lambda's CORS header. */
function cognitoGate(router: ApiRouter, cognito: FakeCognito, origin: string): ApiRouter {
  return {
    async handle(event) {
      if (event.path.startsWith('/agent/')) return router.handle(event)
      const authorization = Object.entries(event.headers ?? {}).find(([name]) => name.toLowerCase() === 'authorization')?.[1]
      const claims = cognito.claimsOf(authorization)
      if (!claims) {
        return {
          statusCode: 401,
          headers: {'content-type': 'application/json', 'access-control-allow-origin': origin},
          body: '{"error": {"code": "CONSOLE_SIGN_IN_REQUIRED", "message": "The console is not signed in, or its sign-in expired.", "hint": "Sign in again."}}',
        }
      }
      const authorized = {...event, requestContext: {...event.requestContext, authorizer: {claims}}}
      return withConsoleCors(authorized, await router.handle(authorized), origin)
    },
  }
}

describe('browser: the console signed in through Cognito (AWS mode)', function () {
  this.timeout(240_000)
  let dir: string
  let cognito: FakeCognito
  let site: {server: Server; url: string}
  let api: RunningHttpServer
  let platform: LocalPlatform
  let browser: TestBrowser
  let bare: string

  before(async function () {
    dir = await mkdtemp(join(tmpdir(), 'devflow-console-cognito-'))
    const bin = join(dir, 'bin')
    await mkdir(bin)
    await symlink(join(ROOT, 'container', 'test', 'fixtures', 'claude'), join(bin, 'claude'))
    bare = bareRepository(dir)
    const apiPort = await freePort()
    const apiUrl = `http://127.0.0.1:${apiPort}`
    const config = {value: {}}
    site = await serveSite(config)
    cognito = await FakeCognito.start({clientId: CLIENT_ID, callbackUrls: [site.url]})
    // The page's config points at the hosted login and the API, as the stack's config.json does.
    config.value = {mode: 'cognito', apiUrl, cognito: {domain: cognito.url, clientId: CLIENT_ID, redirectUri: site.url}}
    cognito.groups.set('carol', [CONSOLE_ADMIN_GROUP])
    // The stage's allow-list names console users by their owner id, `cognito:<sub>`.
    const repositories = {default: ['local/app'], principals: {[`cognito:${cognito.subjectOf('alice')}`]: ['*']}}
    platform = createLocalPlatform({
      dataDir: join(dir, 'data'),
      apiUrl,
      env: {
        ...process.env,
        PATH: `${bin}:${process.env.PATH}`,
        ANTHROPIC_API_KEY: 'sk-ant-test',
        POLL_WAIT_SECONDS: '2',
        CODE_SERVER_BIN: join(dir, 'no-code-server'),
        GITHUB_TOKEN: '',
        DEVFLOW_REPOSITORIES: JSON.stringify(repositories),
      },
      runtime: {kind: 'process'},
      stopGraceMs: 5000,
      admins: {consoleGroups: [CONSOLE_ADMIN_GROUP]},
    })
    const consoleOrigin = site.url.replace(/\/$/, '')
    api = await startHttpServer({
      router: cognitoGate(createApiRouter(platform.services), cognito, consoleOrigin),
      host: '127.0.0.1',
      port: apiPort,
      identify: async () => undefined,
      // API Gateway's CORS preflight (a mock integration) for the console's origin.
      async intercept(req, res) {
        if (req.method !== 'OPTIONS') return false
        res.writeHead(204, {'access-control-allow-origin': consoleOrigin, 'access-control-allow-headers': 'authorization,content-type', 'access-control-allow-methods': 'GET,POST,DELETE,OPTIONS'})
        res.end()
        return true
      },
    })
    browser = await launchBrowser()
  })

  after(async function () {
    await browser?.close()
    await platform?.stopAllSessions().catch(() => undefined)
    await api?.close()
    platform?.close()
    await new Promise<void>((resolve) => (site ? site.server.close(() => resolve()) : resolve()))
    await cognito?.close()
    await rm(dir, {recursive: true, force: true})
  })

  it('signs Alice in with PKCE, runs her session and prompt, and keeps it from Bob', async function () {
    cognito.signedInAs = 'alice'
    const page = await browser.newPage()
    await page.goto(site.url)
    await page.locator('#sign-in-button').waitFor()
    await page.click('#sign-in-button')
    await page.locator('#sessions-page').waitFor()
    expect(page.url()).to.equal(site.url)
    await page.locator('#no-sessions').waitFor()

    await page.click('#new-session')
    // Alice may start on any repository: a text field that suggests the stage's own.
    await page.locator('#repo-hint').waitFor()
    expect(await page.locator('#repo-hint').textContent()).to.equal('Any repository is allowed; or pick one of the suggestions.')
    expect(await page.locator('#repo-choices option').evaluateAll((options) => options.map((o) => o.getAttribute('value')))).to.deep.equal(['local/app'])
    await page.fill('input[name=repo]', bare)
    await page.click('#start-session')
    await page.locator('#session-page[data-session-id]').waitFor()
    const id = (await page.locator('#session-page').getAttribute('data-session-id')) as string
    await page.locator('#session-page header [data-status=RUNNING]').waitFor({timeout: 60_000})
    // On AWS the editor is reached with the CLI's port forward: the page gives the command.
    expect(await page.locator('#open-command').textContent()).to.equal(`devflow session open ${id}`)

    await page.fill('#prompt-text', 'write notes.txt Written from the console')
    await page.click('#send-prompt')
    const card = page.locator('article.prompt').first()
    await card.locator('li.event').first().waitFor({timeout: 60_000})
    await card.locator('.result-branch').waitFor({timeout: 90_000})
    expect(await card.locator('.result-branch').textContent()).to.equal(`devflow/${id}`)
    expect(git(['show', `devflow/${id}:notes.txt`], bare)).to.equal('Written from the console')
    await screenshot(page, 'cognito-1-session')

    // The owner is Alice's Cognito subject, prefixed, as the API reports it.
    const alice = `cognito:${cognito.subjectOf('alice')}`
    const session = (await platform.services.sessions.get({userId: alice}, id)) as {userId: string}
    expect(session.userId).to.equal(alice)

    const bobBrowser = await launchBrowser()
    try {
      cognito.signedInAs = 'bob'
      const bob = await bobBrowser.newPage()
      await bob.goto(site.url)
      await bob.click('#sign-in-button')
      await bob.locator('#no-sessions').waitFor()
      await bob.goto(`${site.url}#/sessions/${id}`)
      const error = bob.locator('#session-page .error')
      await error.waitFor()
      expect(await error.getAttribute('data-error-code')).to.equal('SESSION_NOT_FOUND')
      await screenshot(bob, 'cognito-2-other-user')

      // Bob may only start on the stage's one repository: a choice, no free text.
      await bob.goto(`${site.url}#/new`)
      await bob.locator('#repo-select').waitFor()
      expect(await bob.locator('#repo-select option').allTextContents()).to.deep.equal(['local/app'])
      expect(await bob.locator('input[name=repo]').count()).to.equal(0)
      await screenshot(bob, 'cognito-4-repository-choices')

      // Every user's sessions are for admins only: Bob gets the API's refusal and its hint.
      await bob.click('#all-sessions')
      const refused = bob.locator('#all-sessions-page .error')
      await refused.waitFor()
      expect(await refused.getAttribute('data-error-code')).to.equal('ADMIN_ONLY')
      expect(await refused.locator('.hint').textContent()).to.include(CONSOLE_ADMIN_GROUP)
      expect(await bob.locator('#all-sessions-page').textContent()).not.to.include(id)
      await screenshot(bob, 'cognito-5-all-sessions-refused')
    } finally {
      await bobBrowser.close()
    }

    const carolBrowser = await launchBrowser()
    try {
      cognito.signedInAs = 'carol'
      const carol = await carolBrowser.newPage()
      await carol.goto(site.url)
      await carol.click('#sign-in-button')
      await carol.locator('#no-sessions').waitFor()
      await carol.click('#all-sessions')
      const row = carol.locator(`#all-sessions-page tr[data-session-id=${id}]`)
      await row.waitFor()
      expect(await row.getAttribute('data-owner')).to.equal(alice)
      expect(await row.locator('[data-status]').getAttribute('data-status')).to.equal('RUNNING')
      await screenshot(carol, 'cognito-3-all-sessions')
    } finally {
      await carolBrowser.close()
    }

    await page.click('#stop-session')
    await page.locator('#session-page header [data-status=STOPPED]').waitFor({timeout: 60_000})
    await page.close()
  })

  it('sends a browser whose token the authorizer refuses back to sign in', async function () {
    const page = await browser.newPage()
    await page.goto(site.url)
    await page.locator('#sign-in-button').waitFor()
    // A token of the right shape that this pool never issued (or that expired): API Gateway says 401.
    await page.evaluate(`sessionStorage.setItem('devflow.idToken', JSON.stringify({idToken: 'eyJ.forged.token', expiresAt: Date.now() + 3600000}))`)
    await page.reload()
    await page.locator('#sign-in-button').waitFor()
    expect(await page.evaluate('sessionStorage.getItem("devflow.idToken")')).to.equal(null)
    await page.close()
  })
})
