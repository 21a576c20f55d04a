/** The local API's authentication: the random token in the data dir, for the one local user. */
import {timingSafeEqual} from 'node:crypto'
import type {IncomingMessage} from 'node:http'

import {localUserId} from './platform.js'

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
