/**
 * A real HTTP server on 127.0.0.1 that plays API Gateway's AWS_IAM authoriser: it recomputes each
 * request's SigV4 signature with `verifySigV4` and refuses a bad one with 403 and
 * `x-amzn-ErrorType`, as API Gateway does; signed requests go to the test's handler. Every request
 * is recorded with its verification outcome.
 */
import {createServer, type IncomingMessage, type Server} from 'node:http'
import type {AddressInfo} from 'node:net'

import {verifySigV4} from '../../src/adapters/http/sigv4.js'
import {isDevflowError} from '../../src/core/errors.js'

export interface RecordedRequest {
  readonly method: string
  readonly url: string
  readonly headers: IncomingMessage['headers']
  readonly body: string
  readonly accessKeyId?: string
  readonly rejected?: string
}

export interface Reply {
  readonly status: number
  readonly body?: unknown
  readonly headers?: Record<string, string>
}

export type Handler = (request: RecordedRequest) => Reply | Promise<Reply>

export interface SignedApiServer {
  readonly url: string
  readonly requests: RecordedRequest[]
  close(): Promise<void>
}

export async function startSignedApiServer(secrets: Record<string, string>, handler: Handler): Promise<SignedApiServer> {
  const requests: RecordedRequest[] = []
  const server: Server = createServer(async (req, res) => {
    const chunks: Buffer[] = []
    for await (const chunk of req) chunks.push(chunk as Buffer)
    const base = {method: req.method ?? 'GET', url: req.url ?? '/', headers: req.headers, body: Buffer.concat(chunks).toString('utf8')}
    let reply: Reply
    try {
      const caller = await verifySigV4(base, (key) => secrets[key])
      const recorded = {...base, accessKeyId: caller.accessKeyId}
      requests.push(recorded)
      reply = await handler(recorded)
    } catch (error) {
      if (!isDevflowError(error)) throw error
      requests.push({...base, rejected: error.code})
      const type = error.code === 'UNKNOWN_ACCESS_KEY' ? 'UnrecognizedClientException' : error.code === 'MISSING_AUTHENTICATION' ? 'MissingAuthenticationTokenException' : 'InvalidSignatureException'
      reply = {status: 403, body: {message: error.message}, headers: {'x-amzn-ErrorType': type}}
    }
    res.writeHead(reply.status, {'content-type': 'application/json', ...reply.headers})
    res.end(reply.body === undefined ? '' : JSON.stringify(reply.body))
  })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  const {port} = server.address() as AddressInfo
  return {
    url: `http://127.0.0.1:${port}/prod/`,
    requests,
    close: () => new Promise((resolve) => server.close(() => resolve())),
  }
}
