/**
 * The local console's server side over real HTTP: the local server's composition (router behind
 * the local token, console in front) on 127.0.0.1 with the embedded platform in a temp dir. The
 * one-time code, the cookies, the Host and CSRF checks, and the cookie acting as the same local
 * user as the token.
 */
import {mkdir, mkdtemp, rm, writeFile} from 'node:fs/promises'
import {request} from 'node:http'
import {tmpdir} from 'node:os'
import {join} from 'node:path'

import {expect} from 'chai'

import {createApiRouter} from '../../../src/api/router.js'
import {type RunningHttpServer, startHttpServer} from '../../../src/api/http-server.js'
import {requireLocalToken} from '../../../src/api/local-token.js'
import {localConsole} from '../../../src/api/console-server.js'
import {createLocalPlatform, type LocalPlatform} from '../../../src/composition/local.js'
import {freePort} from '../../helpers/moto.js'

interface Answer {
  status: number
  headers: Record<string, string | string[] | undefined>
  body: string
}

const TOKEN = 'local-token-for-tests-0123456789abcdef'

describe('local console server: sign-in, cookies, Host and CSRF checks', function () {
  let dir: string
  let platform: LocalPlatform
  let server: RunningHttpServer
  let port: number

  function call(method: string, path: string, headers: Record<string, string> = {}, body?: string): Promise<Answer> {
    return new Promise((resolve, reject) => {
      const req = request({host: '127.0.0.1', port, method, path, headers: {host: `127.0.0.1:${port}`, ...headers}}, (res) => {
        let text = ''
        res.setEncoding('utf8')
        res.on('data', (chunk: string) => (text += chunk))
        res.on('end', () => resolve({status: res.statusCode ?? 0, headers: res.headers, body: text}))
      })
      req.on('error', reject)
      req.end(body)
    })
  }

  async function signIn(): Promise<{cookie: string; csrf: string; setCookies: string[]}> {
    const minted = await call('POST', '/console/login-codes', {authorization: `Bearer ${TOKEN}`})
    expect(minted.status, minted.body).to.equal(201)
    const {url} = JSON.parse(minted.body) as {url: string}
    const login = await call('GET', new URL(url).pathname + new URL(url).search)
    expect(login.status).to.equal(303)
    const setCookies = login.headers['set-cookie'] as string[]
    const pairs = setCookies.map((c) => c.split(';')[0])
    return {cookie: pairs.join('; '), csrf: pairs.find((p) => p.startsWith(`devflow_csrf_${port}=`))!.split('=')[1], setCookies}
  }

  before(async function () {
    dir = await mkdtemp(join(tmpdir(), 'devflow-console-server-'))
    const consoleDir = join(dir, 'console')
    await mkdir(join(consoleDir, 'assets'), {recursive: true})
    await writeFile(join(consoleDir, 'index.html'), '<!doctype html><title>DevFlow console</title>')
    await writeFile(join(consoleDir, 'assets', 'console.js'), 'export {}')
    port = await freePort()
    platform = createLocalPlatform({dataDir: join(dir, 'data'), apiUrl: `http://127.0.0.1:${port}`, env: {}, runtime: {kind: 'process'}})
    const web = localConsole({port, token: TOKEN, consoleDir})
    server = await startHttpServer({router: requireLocalToken(createApiRouter(platform.services)), host: '127.0.0.1', port, identify: web.identify, intercept: web.intercept, loopbackHostsOnly: true})
  })

  after(async function () {
    await server.close()
    platform.close()
    await rm(dir, {recursive: true, force: true})
  })

  it('serves the console with its security headers, and its config, to anyone on this machine', async function () {
    const page = await call('GET', '/')
    expect(page.status).to.equal(200)
    expect(page.body).to.include('DevFlow console')
    expect(page.headers['content-type']).to.equal('text/html; charset=utf-8')
    expect(page.headers['content-security-policy']).to.include("frame-ancestors 'none'").and.include("default-src 'self'")
    expect(page.headers['x-content-type-options']).to.equal('nosniff')
    const config = await call('GET', '/config.json')
    expect(JSON.parse(config.body)).to.deep.equal({mode: 'local', apiUrl: '', csrfCookie: `devflow_csrf_${port}`, csrfHeader: 'x-devflow-csrf'})
    expect((await call('GET', '/assets/console.js')).headers['content-type']).to.equal('text/javascript; charset=utf-8')
  })

  it('refuses a Host other than 127.0.0.1 or localhost (DNS rebinding), but not the agents\' callbacks', async function () {
    const rebound = await call('GET', '/', {host: `evil.example:${port}`})
    expect(rebound.status).to.equal(403)
    expect(JSON.parse(rebound.body).error.code).to.equal('HOST_NOT_ALLOWED')
    const api = await call('GET', '/sessions', {host: `evil.example:${port}`, authorization: `Bearer ${TOKEN}`})
    expect(JSON.parse(api.body).error.code).to.equal('HOST_NOT_ALLOWED')
    expect((await call('GET', '/', {host: `localhost:${port}`})).status).to.equal(200)
    const agent = await call('POST', '/agent/sessions/s-aaaaaaaaaaaaaaaaaaaa/heartbeat', {host: `host.docker.internal:${port}`}, '{}')
    expect(JSON.parse(agent.body).error.code).not.to.equal('HOST_NOT_ALLOWED')
  })

  it('hands out a sign-in code only for the local token', async function () {
    const anonymous = await call('POST', '/console/login-codes')
    expect(anonymous.status).to.equal(401)
    expect(JSON.parse(anonymous.body).error).to.include({code: 'LOCAL_TOKEN_REQUIRED', hint: 'Run `devflow local open`.'})
  })

  it('turns a one-time code into an HttpOnly, SameSite=Strict cookie, once', async function () {
    const minted = await call('POST', '/console/login-codes', {authorization: `Bearer ${TOKEN}`})
    const {url, expiresAt} = JSON.parse(minted.body) as {url: string; expiresAt: string}
    expect(url).to.match(new RegExp(`^http://127\\.0\\.0\\.1:${port}/console/login\\?code=[\\w-]{43}$`))
    expect(new Date(expiresAt).getTime() - Date.now()).to.be.within(60_000, 120_000)
    const path = new URL(url).pathname + new URL(url).search
    const login = await call('GET', path)
    expect(login.status).to.equal(303)
    expect(login.headers.location).to.equal('/')
    const [session, csrf] = login.headers['set-cookie'] as string[]
    expect(session).to.match(new RegExp(`^devflow_console_${port}=[\\w-]{43}; Path=/; SameSite=Strict; Max-Age=43200; HttpOnly$`))
    expect(csrf).to.match(new RegExp(`^devflow_csrf_${port}=[\\w-]{43}; Path=/; SameSite=Strict; Max-Age=43200$`))
    const again = await call('GET', path)
    expect(again.status).to.equal(401)
    expect(again.body).to.include('expired or was already used')
    expect((await call('GET', '/console/login?code=guessed')).status).to.equal(401)
  })

  it('lets the cookie act as the local user: the same sessions as the token, nothing without it', async function () {
    const {cookie} = await signIn()
    const withCookie = await call('GET', '/sessions', {cookie})
    const withToken = await call('GET', '/sessions', {authorization: `Bearer ${TOKEN}`})
    expect(withCookie.status).to.equal(200)
    expect(withCookie.body).to.equal(withToken.body)
    const anonymous = await call('GET', '/sessions', {cookie: `devflow_console_${port}=forged`})
    expect(anonymous.status).to.equal(401)
    // A CSRF token belongs to its own browser session: another sign-in's does not count.
    const crossed = await call('POST', '/sessions', {cookie, 'x-devflow-csrf': (await signIn()).csrf}, JSON.stringify({repo: 'a/b'}))
    expect(JSON.parse(crossed.body).error.code).to.equal('CSRF_REJECTED')
  })

  it('refuses a cookie-authenticated change without the CSRF token or from another origin', async function () {
    const {cookie, csrf} = await signIn()
    const body = JSON.stringify({repo: 'not a repo'})
    const missing = await call('POST', '/sessions', {cookie, 'content-type': 'application/json'}, body)
    expect(missing.status).to.equal(403)
    expect(JSON.parse(missing.body).error.code).to.equal('CSRF_REJECTED')
    const foreign = await call('POST', '/sessions', {cookie, 'x-devflow-csrf': csrf, origin: 'https://evil.example'}, body)
    expect(foreign.status).to.equal(403)
    expect(JSON.parse(foreign.body).error.message).to.include('https://evil.example')
    const stop = await call('DELETE', '/sessions/s-aaaaaaaaaaaaaaaaaaaa', {cookie, 'x-devflow-csrf': 'wrong'})
    expect(stop.status).to.equal(403)
    // With its token and its own origin the request reaches the core, which judges the input.
    const allowed = await call('POST', '/sessions', {cookie, 'x-devflow-csrf': csrf, origin: `http://127.0.0.1:${port}`, 'content-type': 'application/json'}, body)
    expect(allowed.status).to.equal(400)
    expect(JSON.parse(allowed.body).error.code).not.to.equal('CSRF_REJECTED')
    // The token itself needs no CSRF token: scripts and the CLI are not browsers.
    const viaToken = await call('POST', '/sessions', {authorization: `Bearer ${TOKEN}`, 'content-type': 'application/json'}, body)
    expect(viaToken.status).to.equal(400)
  })

  it('signs the browser out', async function () {
    const {cookie, csrf} = await signIn()
    const out = await call('POST', '/console/logout', {cookie, 'x-devflow-csrf': csrf})
    expect(out.status).to.equal(204)
    expect((out.headers['set-cookie'] as string[])[0]).to.include('Max-Age=0')
    expect((await call('GET', '/sessions', {cookie})).status).to.equal(401)
  })
})
