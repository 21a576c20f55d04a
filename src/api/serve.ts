/**
 * `devflow api serve`: the API router over HTTP on this machine against the AWS endpoints of a
 * deployment (what `sam local start-api` is to SAM). Who the caller is comes from one of three
 * sources, chosen explicitly:
 * - verified: DEVFLOW_API_SIGV4_PRINCIPALS; every signature is recomputed, any --host is allowed;
 * - `--user U`: every request is U; loopback only;
 * - `--trust-unsigned`: the access key named in the (unverified) SigV4 `Credential=`; loopback only.
 * A loopback server also refuses requests whose `Host` is not a loopback name (DNS rebinding).
 */
import type {IncomingMessage} from 'node:http'

import {invalidInput} from '../core/errors.js'
import {awsErrorTranslator, type AwsPlatformConfig, createAwsCoreDeps} from '../composition/aws.js'
import type {AwsEnvironment} from '../adapters/aws/environment.js'
import {createCoreServices} from '../core/services/index.js'
import {SIGV4_PRINCIPALS_ENV, sigV4PrincipalsFromEnv, withSigV4Verification} from '../adapters/http/sigv4-gate.js'
import {type HttpIdentity, isLoopbackHost, type RunningHttpServer, startHttpServer} from './http-server.js'
import {createApiRouter, type RouterLogger} from './router.js'

export interface ServeOptions {
  readonly config: AwsPlatformConfig
  readonly env: AwsEnvironment
  readonly host: string
  readonly port: number
  /** Every request runs as this user; otherwise the SigV4 access key names the caller. */
  readonly user?: string
  /** Take the caller from an unsigned `Credential=` (development only, loopback only). */
  readonly trustUnsigned?: boolean
  readonly logger?: RouterLogger
}

export type CallerSource = {kind: 'verified'} | {kind: 'user'; user: string} | {kind: 'unsigned'}

/**
 * How callers are known, or why the server must not start (exit 2): without verified principals
 * the caller is only asserted, so only this machine may reach the server.
 */
export function callerSource(options: Pick<ServeOptions, 'host' | 'user' | 'trustUnsigned'>, verified: boolean): CallerSource {
  const asserted = [options.user !== undefined ? '--user' : undefined, options.trustUnsigned ? '--trust-unsigned' : undefined].filter(Boolean)
  if (verified) {
    if (asserted.length > 0) {
      throw invalidInput('API_SERVE_CALLER_AMBIGUOUS', `${asserted.join(' and ')} cannot be combined with ${SIGV4_PRINCIPALS_ENV}: its principals name every caller.`, `Drop ${asserted.join(' and ')}, or unset ${SIGV4_PRINCIPALS_ENV}.`)
    }
    return {kind: 'verified'}
  }
  if (asserted.length === 0) {
    throw invalidInput(
      'API_SERVE_CALLER_UNSET',
      'devflow api serve does not know how to tell who a caller is.',
      `Set ${SIGV4_PRINCIPALS_ENV} to verify SigV4 signatures, or (on this machine only) pass --user <name> or --trust-unsigned.`,
    )
  }
  if (asserted.length > 1) throw invalidInput('API_SERVE_CALLER_AMBIGUOUS', '--user and --trust-unsigned cannot be combined.', 'Pass one of them.')
  if (!isLoopbackHost(options.host)) {
    throw invalidInput(
      'API_SERVE_HOST_NOT_LOOPBACK',
      `--host ${options.host} would let other machines act as any user: with ${asserted[0]} no signature is verified.`,
      `Listen on 127.0.0.1 (the default), or set ${SIGV4_PRINCIPALS_ENV} so that every request's signature is checked.`,
    )
  }
  return options.user !== undefined ? {kind: 'user', user: options.user} : {kind: 'unsigned'}
}

export async function serveApi(options: ServeOptions): Promise<RunningHttpServer> {
  const principals = sigV4PrincipalsFromEnv(process.env)
  const source = callerSource(options, principals !== undefined)
  const logger = options.logger ?? stderrLogger
  const services = createCoreServices({...(await createAwsCoreDeps(options.config, options.env)), log: logger})
  const router = withSigV4Verification(createApiRouter(services, {logger, translateError: awsErrorTranslator}), principals)
  return startHttpServer({
    router,
    host: options.host,
    port: options.port,
    identify: async (req) => (source.kind === 'user' ? {userArn: source.user} : source.kind === 'unsigned' ? sigV4Identity(req) : undefined),
    loopbackHostsOnly: isLoopbackHost(options.host),
    onError: (error) => logger.error('request failed', {error: String((error as Error)?.message ?? error)}),
  })
}

/** One JSON line per request on stderr (the router never passes tokens or bodies). */
const stderrLogger: RouterLogger = {
  info: (message, extra) => process.stderr.write(`${JSON.stringify({level: 'INFO', message, ...extra})}\n`),
  warn: (message, extra) => process.stderr.write(`${JSON.stringify({level: 'WARN', message, ...extra})}\n`),
  error: (message, extra) => process.stderr.write(`${JSON.stringify({level: 'ERROR', message, ...extra})}\n`),
}

/**
 * The access key of a SigV4 `Authorization` header (`AWS4-HMAC-SHA256 Credential=AKID/...`). The
 * signature is not verified: used only under --trust-unsigned, on a loopback address.
 */
export function sigV4Identity(req: Pick<IncomingMessage, 'headers'>): HttpIdentity | undefined {
  const authorization = req.headers.authorization
  const match = typeof authorization === 'string' ? /^AWS4-HMAC-SHA256\s+Credential=([^/,\s]+)\//.exec(authorization) : null
  if (!match) return undefined
  return {userArn: `access-key/${match[1]}`, accessKey: match[1]}
}
