/**
 * The local server's console side, in front of the API router: the built console (dist/console)
 * at `/`, the one-time-code sign-in (`/console/login-codes`, `/console/login`, `/console/logout`),
 * the CSRF check for cookie-authenticated changes, and the
 * identity of a request (the local token or the console cookie: the same local user). The session
 * routes themselves stay the API router's.
 */
import {readFile} from 'node:fs/promises'
import type {IncomingMessage, ServerResponse} from 'node:http'
import {extname, join} from 'node:path'

import {type DevflowError, unauthenticated} from '../core/errors.js'
import {localUserId} from '../composition/local.js'
import {CONSOLE_SESSION_TTL_MS, ConsoleLogins, cookieNames, CSRF_HEADER} from './console-login.js'
import type {HttpIdentity} from './http-server.js'
import {localIdentify} from './local-token.js'

export interface LocalConsoleOptions {
  readonly port: number
  /** The local API token (the bearer the CLI sends). */
  readonly token: string
  /** The built console: index.html, config.json is generated, assets/. */
  readonly consoleDir: string
  readonly logins?: ConsoleLogins
}

export interface LocalConsole {
  identify(req: IncomingMessage): Promise<HttpIdentity | undefined>
  /** Answers the request itself (true), or leaves it to the API router (false). */
  intercept(req: IncomingMessage, res: ServerResponse): Promise<boolean>
}

const STATIC_FILES: Record<string, string> = {'/': 'index.html', '/index.html': 'index.html', '/assets/console.js': 'assets/console.js', '/assets/console.css': 'assets/console.css'}
const CONTENT_TYPES: Record<string, string> = {'.html': 'text/html; charset=utf-8', '.js': 'text/javascript; charset=utf-8', '.css': 'text/css; charset=utf-8'}

/** The headers CloudFront's response headers policy sets on AWS, for the same page locally. */
export const CONSOLE_SECURITY_HEADERS: Record<string, string> = {
  'content-security-policy': "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; frame-ancestors 'none'; base-uri 'none'; form-action 'self'; object-src 'none'",
  'x-content-type-options': 'nosniff',
  'x-frame-options': 'DENY',
  'referrer-policy': 'no-referrer',
  'cache-control': 'no-store',
}

export function localConsole(options: LocalConsoleOptions): LocalConsole {
  const names = cookieNames(options.port)
  const logins = options.logins ?? new ConsoleLogins(names)
  const bearer = localIdentify(options.token)
  const hosts = [`127.0.0.1:${options.port}`, `localhost:${options.port}`]
  const origins = hosts.map((host) => `http://${host}`)
  const userArn = localUserId()

  const sendError = (res: ServerResponse, error: DevflowError, headers: Record<string, string> = {}) => {
    res.writeHead(error.httpStatus, {'content-type': 'application/json', ...headers})
    res.end(JSON.stringify(error.toJSON()))
  }

  const serveStatic = async (res: ServerResponse, file: string) => {
    let body: Buffer
    try {
      body = await readFile(join(options.consoleDir, file))
    } catch {
      res.writeHead(503, {'content-type': 'text/plain; charset=utf-8'})
      res.end('The DevFlow console is not built: run `npm run build` in the devflow package, then `devflow local down && devflow local up`.\n')
      return
    }
    res.writeHead(200, {'content-type': CONTENT_TYPES[extname(file)] ?? 'application/octet-stream', ...CONSOLE_SECURITY_HEADERS})
    res.end(body)
  }

  const maxAge = CONSOLE_SESSION_TTL_MS / 1000
  const cookie = (name: string, value: string, extra: string) => `${name}=${value}; Path=/; SameSite=Strict; Max-Age=${value === '' ? 0 : maxAge}${extra}`

  return {
    async identify(req) {
      const viaToken = await bearer(req)
      if (viaToken) return viaToken
      return logins.sessionOf(req) ? {userArn} : undefined
    },

    async intercept(req, res) {
      const url = new URL(req.url ?? '/', 'http://localhost')
      const path = url.pathname
      // The Host check (DNS rebinding) ran before: http-server.ts, loopbackHostsOnly.
      if (path.startsWith('/agent/')) return false
      const method = req.method ?? 'GET'
      if (path === '/console/login-codes' && method === 'POST') {
        if (!(await bearer(req))) {
          sendError(res, unauthenticated('LOCAL_TOKEN_REQUIRED', 'Only the local token can ask for a console sign-in link.', 'Run `devflow local open`.'))
          return true
        }
        const {code, expiresAt} = logins.mintCode()
        res.writeHead(201, {'content-type': 'application/json', 'cache-control': 'no-store'})
        res.end(JSON.stringify({url: `http://127.0.0.1:${options.port}/console/login?code=${code}`, expiresAt}))
        return true
      }
      if (path === '/console/login' && method === 'GET') {
        const redeemed = logins.redeem(url.searchParams.get('code') ?? '')
        if (!redeemed) {
          res.writeHead(401, {'content-type': 'text/html; charset=utf-8', ...CONSOLE_SECURITY_HEADERS})
          res.end('<!doctype html><title>DevFlow sign-in</title><h1>This sign-in link has expired or was already used</h1><p>Run <code>devflow local open</code> for a new one.</p>\n')
          return true
        }
        res.writeHead(303, {
          location: '/',
          'cache-control': 'no-store',
          'set-cookie': [cookie(names.session, redeemed.session, '; HttpOnly'), cookie(names.csrf, redeemed.csrf, '')],
        })
        res.end()
        return true
      }
      if (path === '/config.json' && method === 'GET') {
        res.writeHead(200, {'content-type': 'application/json', ...CONSOLE_SECURITY_HEADERS})
        res.end(JSON.stringify({mode: 'local', apiUrl: '', csrfCookie: names.csrf, csrfHeader: CSRF_HEADER}))
        return true
      }
      if (STATIC_FILES[path] && (method === 'GET' || method === 'HEAD')) {
        await serveStatic(res, STATIC_FILES[path])
        return true
      }
      const session = (await bearer(req)) ? undefined : logins.sessionOf(req)
      if (session) {
        const failure = logins.csrfFailure(req, session, origins)
        if (failure) {
          sendError(res, failure)
          return true
        }
      }
      if (path === '/console/logout' && method === 'POST') {
        logins.signOut(req)
        res.writeHead(204, {'set-cookie': [cookie(names.session, '', '; HttpOnly'), cookie(names.csrf, '', '')]})
        res.end()
        return true
      }
      return false
    },
  }
}
