/**
 * The local console's sign-in: `devflow local open` asks the server (with the local token) for a
 * one-time code; following the link redeems it for an HttpOnly, SameSite=Strict session cookie
 * that authenticates the browser as the same local user as the token. State-changing requests
 * made with the cookie must carry the session's CSRF token in a header (double submit: a second,
 * readable cookie holds it) and, when the browser sends Origin, come from the server's own origin.
 * Everything is in memory: restarting the server signs browsers out.
 */
import {createHash, randomBytes, timingSafeEqual} from 'node:crypto'
import type {IncomingMessage} from 'node:http'

import {forbidden} from '../core/errors.js'
import type {DevflowError} from '../core/errors.js'

export const LOGIN_CODE_TTL_MS = 2 * 60 * 1000
export const CONSOLE_SESSION_TTL_MS = 12 * 60 * 60 * 1000
export const CSRF_HEADER = 'x-devflow-csrf'
const SAFE_METHODS = new Set(['GET', 'HEAD', 'OPTIONS'])

export interface ConsoleCookieNames {
  readonly session: string
  readonly csrf: string
}

/** Cookies are not scoped by port: the names carry it, so two local servers never mix theirs. */
export function cookieNames(port: number): ConsoleCookieNames {
  return {session: `devflow_console_${port}`, csrf: `devflow_csrf_${port}`}
}

interface BrowserSession {
  readonly csrf: string
  readonly expiresAt: number
}

function secret(): string {
  return randomBytes(32).toString('base64url')
}

function digest(value: string): string {
  return createHash('sha256').update(value).digest('hex')
}

function sameSecret(a: string, b: string): boolean {
  const left = Buffer.from(a)
  const right = Buffer.from(b)
  return left.length === right.length && timingSafeEqual(left, right)
}

export function parseCookies(header: string | undefined): Record<string, string> {
  const cookies: Record<string, string> = {}
  for (const part of (header ?? '').split(';')) {
    const index = part.indexOf('=')
    if (index <= 0) continue
    const name = part.slice(0, index).trim()
    const value = part.slice(index + 1).trim()
    try {
      cookies[name] = decodeURIComponent(value)
    } catch {
      cookies[name] = value
    }
  }
  return cookies
}

export class ConsoleLogins {
  /** sha256 of a code -> when it expires; a code is deleted when redeemed. */
  private readonly codes = new Map<string, number>()
  /** sha256 of a session cookie -> the session. */
  private readonly sessions = new Map<string, BrowserSession>()

  constructor(
    readonly cookies: ConsoleCookieNames,
    private readonly now: () => number = Date.now,
  ) {}

  mintCode(): {code: string; expiresAt: string} {
    this.sweep()
    const code = secret()
    const expiresAt = this.now() + LOGIN_CODE_TTL_MS
    this.codes.set(digest(code), expiresAt)
    return {code, expiresAt: new Date(expiresAt).toISOString()}
  }

  /** The new cookie values, or undefined for an unknown, used or expired code. */
  redeem(code: string): {session: string; csrf: string} | undefined {
    const key = digest(code)
    const expiresAt = this.codes.get(key)
    this.codes.delete(key)
    if (expiresAt === undefined || expiresAt < this.now()) return undefined
    const session = secret()
    const csrf = secret()
    this.sessions.set(digest(session), {csrf, expiresAt: this.now() + CONSOLE_SESSION_TTL_MS})
    return {session, csrf}
  }

  /** The browser session a request's cookie names, when it is current. */
  sessionOf(req: IncomingMessage): BrowserSession | undefined {
    const cookie = parseCookies(req.headers.cookie)[this.cookies.session]
    if (!cookie) return undefined
    const session = this.sessions.get(digest(cookie))
    if (!session || session.expiresAt < this.now()) return undefined
    return session
  }

  signOut(req: IncomingMessage): void {
    const cookie = parseCookies(req.headers.cookie)[this.cookies.session]
    if (cookie) this.sessions.delete(digest(cookie))
  }

  /**
   * Why a cookie-authenticated request may not change anything, or undefined when it may. Safe
   * methods pass; the others need the session's CSRF token in the header and, when the browser
   * names one, the server's own origin.
   */
  csrfFailure(req: IncomingMessage, session: BrowserSession, ownOrigins: readonly string[]): DevflowError | undefined {
    if (SAFE_METHODS.has(req.method ?? 'GET')) return undefined
    const origin = req.headers.origin
    if (origin !== undefined && !ownOrigins.includes(origin)) {
      return forbidden('CSRF_REJECTED', `A request from ${origin} may not change the local platform.`, 'Use the console at the address `devflow local open` prints.')
    }
    const header = req.headers[CSRF_HEADER]
    const given = Array.isArray(header) ? header[0] : header
    if (!given || !sameSecret(given, session.csrf)) {
      return forbidden('CSRF_REJECTED', 'The request does not carry the console\'s CSRF token.', `Reload the console; scripts should use the local token (Authorization: Bearer) instead of the cookie.`)
    }
    return undefined
  }

  private sweep(): void {
    const now = this.now()
    for (const [key, expiresAt] of this.codes) if (expiresAt < now) this.codes.delete(key)
    for (const [key, session] of this.sessions) if (session.expiresAt < now) this.sessions.delete(key)
  }
}
