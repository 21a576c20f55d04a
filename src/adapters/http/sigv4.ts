/**
 * AWS Signature Version 4 for the DevFlow API: the client signs every request the way API Gateway's
 * AWS_IAM authoriser expects, and `verifySigV4` recomputes a received request's signature with the
 * caller's secret key, which is what a server without API Gateway in front (`devflow api serve` in
 * tests) uses to hold clients to the same contract.
 */
import {createHash, timingSafeEqual} from 'node:crypto'

import {Sha256} from '@aws-crypto/sha256-js'
import {SignatureV4} from '@smithy/signature-v4'
import type {AwsCredentialIdentity, AwsCredentialIdentityProvider, HttpRequest} from '@smithy/types'

import {type DevflowError, unauthenticated} from '../../core/errors.js'

export const API_SERVICE = 'execute-api'
const ALGORITHM = 'AWS4-HMAC-SHA256'
/** API Gateway refuses a signature more than five minutes away from its clock. */
export const MAX_CLOCK_SKEW_MS = 5 * 60 * 1000

export interface SignableRequest {
  readonly method: string
  readonly url: URL
  readonly headers: Record<string, string>
  readonly body?: string
}

function toHttpRequest(request: SignableRequest, headers: Record<string, string>): HttpRequest {
  const query: Record<string, string | string[]> = {}
  for (const [key, value] of request.url.searchParams) {
    const existing = query[key]
    query[key] = existing === undefined ? value : [...(Array.isArray(existing) ? existing : [existing]), value]
  }
  return {
    method: request.method.toUpperCase(),
    protocol: request.url.protocol,
    hostname: request.url.hostname,
    port: request.url.port === '' ? undefined : Number(request.url.port),
    path: request.url.pathname,
    query,
    headers,
    body: request.body,
  }
}

/** The region an API Gateway URL lives in (`https://abc.execute-api.eu-west-1.amazonaws.com/...`). */
export function regionFromApiUrl(url: URL): string | undefined {
  return /\.execute-api\.([a-z0-9-]+)\.amazonaws\.com(\.cn)?$/.exec(url.hostname)?.[1]
}

/** The headers to send: the originals plus host, x-amz-date, x-amz-content-sha256, (token) and Authorization. */
export async function signRequest(
  request: SignableRequest,
  credentials: AwsCredentialIdentity | AwsCredentialIdentityProvider,
  region: string,
  signingDate?: Date,
): Promise<Record<string, string>> {
  const signer = new SignatureV4({credentials, region, service: API_SERVICE, sha256: Sha256})
  const signed = await signer.sign(toHttpRequest(request, {...request.headers, host: request.url.host}), {signingDate})
  return signed.headers
}

export interface ReceivedRequest {
  readonly method: string
  /** The request target: path and query string as received. */
  readonly url: string
  readonly headers: Record<string, string | string[] | undefined>
  readonly body: string
}

export interface VerifiedCaller {
  readonly accessKeyId: string
  readonly sessionToken?: string
}

interface ParsedAuthorization {
  readonly accessKeyId: string
  readonly date: string
  readonly region: string
  readonly service: string
  readonly signedHeaders: string[]
  readonly signature: string
}

function header(request: ReceivedRequest, name: string): string | undefined {
  const value = request.headers[name]
  return Array.isArray(value) ? value.join(',') : value
}

function invalidSignature(message: string): DevflowError {
  return unauthenticated('INVALID_SIGNATURE', message, 'Sign requests with SigV4 (service execute-api) using valid AWS credentials; `devflow doctor` checks yours.')
}

function parseAuthorization(value: string | undefined): ParsedAuthorization {
  if (!value) throw unauthenticated('MISSING_AUTHENTICATION', 'The request carries no Authorization header.', 'Sign requests with SigV4 using your AWS credentials.')
  const match = /^AWS4-HMAC-SHA256\s+Credential=([^,\s]+),\s*SignedHeaders=([^,\s]+),\s*Signature=([0-9a-f]{64})$/.exec(value.trim())
  if (!match) throw invalidSignature(`The Authorization header is not an ${ALGORITHM} signature.`)
  const scope = match[1].split('/')
  if (scope.length !== 5 || scope[4] !== 'aws4_request') throw invalidSignature('The credential scope of the signature is malformed.')
  const [accessKeyId, date, region, service] = scope
  return {accessKeyId, date, region, service, signedHeaders: match[2].split(';'), signature: match[3]}
}

function parseAmzDate(value: string | undefined): Date {
  const match = value && /^(\d{4})(\d{2})(\d{2})T(\d{2})(\d{2})(\d{2})Z$/.exec(value)
  if (!match) throw invalidSignature('The request has no valid X-Amz-Date header.')
  const [, y, mo, d, h, mi, s] = match
  return new Date(Date.UTC(Number(y), Number(mo) - 1, Number(d), Number(h), Number(mi), Number(s)))
}

/**
 * Recomputes the request's signature from the signed headers, the path, the query and the body,
 * with the secret that `lookupSecret` returns for the access key, and compares in constant time.
 * Throws an `unauthenticated` DevflowError for anything that does not verify.
 */
export async function verifySigV4(
  request: ReceivedRequest,
  lookupSecret: (accessKeyId: string) => Promise<string | undefined> | string | undefined,
  options: {now?: Date; service?: string} = {},
): Promise<VerifiedCaller> {
  const auth = parseAuthorization(header(request, 'authorization'))
  if (auth.service !== (options.service ?? API_SERVICE)) throw invalidSignature(`The signature is for service "${auth.service}", not ${options.service ?? API_SERVICE}.`)
  if (!auth.signedHeaders.includes('host')) throw invalidSignature('The signature does not cover the Host header.')
  const signingDate = parseAmzDate(header(request, 'x-amz-date'))
  const now = options.now ?? new Date()
  if (Math.abs(now.getTime() - signingDate.getTime()) > MAX_CLOCK_SKEW_MS) {
    throw unauthenticated('SIGNATURE_EXPIRED', 'The request signature is more than five minutes away from the server clock.', 'Check the clock of this machine and send the request again.')
  }
  const secretAccessKey = await lookupSecret(auth.accessKeyId)
  if (secretAccessKey === undefined) throw unauthenticated('UNKNOWN_ACCESS_KEY', 'The access key in the signature is not known.', 'Use valid AWS credentials (check --profile).')
  const sessionToken = header(request, 'x-amz-security-token')
  const signedHeaders: Record<string, string> = {}
  for (const name of auth.signedHeaders) {
    const value = header(request, name)
    if (value === undefined) throw invalidSignature(`The signed header "${name}" is missing from the request.`)
    signedHeaders[name] = value
  }
  // The signer trusts a payload hash header, so the body must be checked against it here.
  const payloadHash = header(request, 'x-amz-content-sha256')
  if (payloadHash !== undefined && payloadHash !== createHash('sha256').update(request.body).digest('hex')) {
    throw invalidSignature('The request body does not match its signed payload hash.')
  }
  const url = new URL(request.url, `http://${signedHeaders.host}`)
  const signer = new SignatureV4({
    credentials: {accessKeyId: auth.accessKeyId, secretAccessKey, sessionToken},
    region: auth.region,
    service: auth.service,
    sha256: Sha256,
    // The payload hash header, when the client sent one, is among the signed headers already.
    applyChecksum: false,
  })
  const recomputed = await signer.sign(
    {
      method: request.method.toUpperCase(),
      protocol: 'http:',
      hostname: url.hostname,
      path: url.pathname,
      query: Object.fromEntries(groupQuery(url.searchParams)),
      headers: signedHeaders,
      body: request.body,
    },
    {signingDate, signableHeaders: new Set(auth.signedHeaders)},
  )
  const expected = /Signature=([0-9a-f]{64})/.exec(recomputed.headers.authorization ?? '')?.[1] ?? ''
  const expectedHeaders = /SignedHeaders=([^,\s]+)/.exec(recomputed.headers.authorization ?? '')?.[1]
  if (expectedHeaders !== auth.signedHeaders.join(';') || !timingSafeEqual(Buffer.from(expected), Buffer.from(auth.signature))) {
    throw invalidSignature('The request signature does not match: the request was changed after signing, or signed with the wrong secret key.')
  }
  return {accessKeyId: auth.accessKeyId, ...(sessionToken ? {sessionToken} : {})}
}

function* groupQuery(params: URLSearchParams): Generator<[string, string | string[]]> {
  const grouped = new Map<string, string[]>()
  for (const [key, value] of params) grouped.set(key, [...(grouped.get(key) ?? []), value])
  for (const [key, values] of grouped) yield [key, values.length === 1 ? values[0] : values]
}
