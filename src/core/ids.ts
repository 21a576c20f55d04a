import {createHash, randomBytes} from 'node:crypto'

import type {Clock, IdGenerator} from './ports.js'

const BASE32 = 'abcdefghijklmnopqrstuvwxyz234567'

/** Lowercase RFC 4648 base32 without padding. */
function base32(bytes: Uint8Array, length: number): string {
  let bits = 0
  let value = 0
  let out = ''
  for (const byte of bytes) {
    value = (value << 8) | byte
    bits += 8
    while (bits >= 5 && out.length < length) {
      out += BASE32[(value >>> (bits - 5)) & 31]
      bits -= 5
    }
  }
  return out
}

/** 20 base32 characters: 100 bits. */
function randomSuffix(): string {
  return base32(randomBytes(13), 20)
}

export const randomIds: IdGenerator = {
  sessionId: () => `s-${randomSuffix()}`,
  promptId: () => `p-${randomSuffix()}`,
  secret: (bytes) => randomBytes(bytes).toString('base64url'),
}

/**
 * The session id that an idempotency key maps to: the same user and key always give the same id,
 * so concurrent starts with one key race on one conditional write and only one of them wins.
 */
export function sessionIdForIdempotencyKey(userId: string, key: string): string {
  const digest = createHash('sha256').update(`${userId}\u0000${key}`).digest()
  return `s-${base32(digest, 20)}`
}

/** The stored form of an agent's bearer token. */
export function hashToken(token: string): string {
  return createHash('sha256').update(token).digest('hex')
}

export const systemClock: Clock = {
  now: () => new Date(),
  sleep: (ms) => new Promise((resolve) => setTimeout(resolve, ms)),
}
