import {expect} from 'chai'
import * as z from 'zod'

import {DevflowError} from '../../../src/core/errors.js'
import {createPageTokens} from '../../../src/core/page-tokens.js'
import {parseRequest} from '../../../src/core/services/parse.js'

const key = async () => Buffer.alloc(32, 7)

async function refusal(promise: Promise<unknown>): Promise<DevflowError> {
  const error = await promise.then(
    () => undefined,
    (e: unknown) => e,
  )
  expect(error).to.be.instanceOf(DevflowError)
  return error as DevflowError
}

describe('page tokens', () => {
  const tokens = createPageTokens(key)

  it('give back the store cursor for the scope they were sealed for', async () => {
    const token = await tokens.seal('sessions:alice', 'cursor-1')
    expect(token).to.match(/^v1\.[\w-]+\.[\w-]+$/)
    expect(await tokens.open('sessions:alice', token)).to.equal('cursor-1')
    expect(await tokens.seal('sessions:alice', undefined)).to.equal(undefined)
    expect(await tokens.open('sessions:alice', undefined)).to.equal(undefined)
  })

  it('refuse another scope, a changed payload or signature, another key, and junk, all with INVALID_NEXT_TOKEN', async () => {
    const token = (await tokens.seal('sessions:alice', 'cursor-1')) as string
    const [version, payload, signature] = token.split('.')
    const otherPayload = Buffer.from(JSON.stringify({s: 'sessions:alice', c: 'cursor-2'})).toString('base64url')
    const otherKey = await createPageTokens(async () => Buffer.alloc(32, 8)).seal('sessions:alice', 'cursor-1')
    for (const [scope, candidate] of [
      ['sessions:bob', token],
      ['sessions:alice', `${version}.${otherPayload}.${signature}`],
      ['sessions:alice', `${version}.${payload}.${signature.slice(0, -2)}AA`],
      ['sessions:alice', otherKey],
      ['sessions:alice', 'v1..'],
      ['sessions:alice', 'garbage'],
      ['sessions:alice', `${token}.x`],
      ['sessions:alice', 'x'.repeat(5000)],
    ] as const) {
      const error = await refusal(tokens.open(scope, candidate as string))
      expect([error.code, error.httpStatus], `${scope} ${String(candidate).slice(0, 40)}`).to.deep.equal(['INVALID_NEXT_TOKEN', 400])
    }
  })
})

describe('parseRequest', () => {
  const schema = z.object({text: z.string()}).passthrough()

  it('refuses a lone surrogate in any string or key with INVALID_UNICODE, and keeps well-formed pairs', () => {
    for (const input of [{text: 'half \ud800'}, {text: '\udc00 first'}, {text: 'ok', nested: [{'\ud83d': 1}]}]) {
      expect(() => parseRequest(schema, input)).to.throw(DevflowError).with.property('code', 'INVALID_UNICODE')
    }
    expect(parseRequest(schema, {text: 'a pair: \ud83d\ude00'})).to.deep.equal({text: 'a pair: 😀'})
  })

  it('refuses nesting deeper than it checks, without recursing', () => {
    let deep: unknown = 'x'
    for (let i = 0; i < 100_000; i++) deep = [deep]
    expect(() => parseRequest(schema, {text: 'ok', deep})).to.throw(DevflowError).with.property('code', 'INVALID_REQUEST')
  })
})
