/**
 * Page tokens the API hands out: the store's own cursor, sealed with an HMAC key the platform holds
 * and bound to what it pages (whose sessions, which session's prompts). A token that was forged,
 * altered, issued to another caller or for another list is refused with one 400, before any store
 * sees it.
 *
 * Where the key comes from: on AWS, the generated secret `devflow/page-token-key` (the functions,
 * `api serve` and admin mode read it); locally, random bytes drawn when the server starts.
 */
import {createHmac, timingSafeEqual} from 'node:crypto'

import {invalidInput} from './errors.js'

/** Longer than any token we issue: refused before it is decoded. */
const MAX_TOKEN_LENGTH = 2048
const VERSION = 'v1'

export interface PageTokens {
  /** undefined in, undefined out: the last page has no token. */
  seal(scope: string, cursor: string | undefined): Promise<string | undefined>
  /** The store cursor of a token sealed for `scope`; throws INVALID_NEXT_TOKEN otherwise. */
  open(scope: string, token: string | undefined): Promise<string | undefined>
}

export function invalidPageToken() {
  return invalidInput('INVALID_NEXT_TOKEN', 'The page token is not one this API issued for this list.', 'Pass the nextToken of the previous page unchanged, or drop it to start from the first page.')
}

export function createPageTokens(key: () => Promise<Uint8Array>): PageTokens {
  const mac = async (payload: string) => createHmac('sha256', await key()).update(payload).digest()
  return {
    async seal(scope, cursor) {
      if (cursor === undefined) return undefined
      const payload = Buffer.from(JSON.stringify({s: scope, c: cursor}), 'utf8').toString('base64url')
      return `${VERSION}.${payload}.${(await mac(`${VERSION}.${payload}`)).toString('base64url')}`
    },
    async open(scope, token) {
      if (token === undefined || token === '') return undefined
      if (token.length > MAX_TOKEN_LENGTH) throw invalidPageToken()
      const [version, payload, signature, ...rest] = token.split('.')
      if (version !== VERSION || !payload || !signature || rest.length > 0) throw invalidPageToken()
      const expected = await mac(`${version}.${payload}`)
      const given = Buffer.from(signature, 'base64url')
      if (given.length !== expected.length || !timingSafeEqual(given, expected)) throw invalidPageToken()
      const decoded = JSON.parse(Buffer.from(payload, 'base64url').toString('utf8')) as {s?: unknown; c?: unknown}
      if (decoded.s !== scope || typeof decoded.c !== 'string') throw invalidPageToken()
      return decoded.c
    },
  }
}
