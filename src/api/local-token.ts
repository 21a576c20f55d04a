/** The local API's authentication: the random token in the data dir, for the one local user. */
import {timingSafeEqual} from 'node:crypto'
import type {IncomingMessage} from 'node:http'

import type {ApiRouter} from './router.js'
import {unauthenticated} from '../core/errors.js'

import {localUserId} from '../composition/local.js'

const WEBHOOK_PATH = '/github/webhook'

/** Accepts exactly the local token (constant time) as the local user; anything else is anonymous. */
export function localIdentify(token: string): (req: IncomingMessage) => Promise<{userArn: string} | undefined> {
  const expected = Buffer.from(token)
  const userArn = localUserId()
  return async (req) => {
    const match = /^Bearer (.+)$/.exec(req.headers.authorization ?? '')
    if (!match) return undefined
    const given = Buffer.from(match[1].trim())
    return given.length === expected.length && timingSafeEqual(given, expected) ? {userArn} : undefined
  }
}

/**
 * The router behind the local token: a user route without it is answered here, in the local
 * platform's words, instead of the SigV4 advice of the deployed API. Agent routes pass through
 * (they carry their per-session tokens), and so does GitHub's webhook (its signature is checked).
 */
export function requireLocalToken(router: ApiRouter): ApiRouter {
  return {
    async handle(event) {
      const identified = Boolean(event.requestContext?.identity?.userArn)
      if (identified || event.path.startsWith('/agent/') || event.path === WEBHOOK_PATH) return router.handle(event)
      const error = unauthenticated(
        'LOCAL_TOKEN_REQUIRED',
        'The request does not carry the local platform\'s token.',
        'Use the devflow CLI with --stage local (it sends the token from the data dir), or send "Authorization: Bearer <contents of the token file>".',
      )
      return {statusCode: error.httpStatus, headers: {'content-type': 'application/json'}, body: JSON.stringify(error.toJSON())}
    },
  }
}
