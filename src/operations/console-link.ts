/** The CLI's side of the console sign-in: a one-time link from the running local server. */
import {existsSync, readFileSync} from 'node:fs'

import {remoteFailure, unavailable} from '../core/errors.js'
import {LocalPaths} from '../adapters/local/paths.js'
import type {ServerState} from './local-platform.js'

export interface ConsoleLink {
  /** Open it once, within two minutes: it signs the browser in. */
  readonly url: string
  readonly expiresAt: string
  /** The console's address without a code. */
  readonly consoleUrl: string
}

export async function consoleLoginLink(dataDir: string): Promise<ConsoleLink> {
  const paths = new LocalPaths(dataDir)
  const state = existsSync(paths.server) ? (JSON.parse(readFileSync(paths.server, 'utf8')) as ServerState) : undefined
  if (!state) {
    throw unavailable('LOCAL_NOT_RUNNING', `The local platform is not running (data in ${paths.dataDir}).`, 'Start it with `devflow local up`.')
  }
  const token = readFileSync(paths.token, 'utf8').trim()
  let response: Response
  try {
    response = await fetch(new URL('console/login-codes', state.url), {method: 'POST', headers: {authorization: `Bearer ${token}`}, signal: AbortSignal.timeout(5000)})
  } catch (error) {
    throw unavailable('LOCAL_SERVER_UNREACHABLE', `The local server at ${state.url} does not answer.`, 'Run `devflow local status`; restart it with `devflow local down && devflow local up`.', {cause: error})
  }
  if (response.status !== 201) {
    throw remoteFailure('CONSOLE_LINK_FAILED', `The local server refused a console sign-in link (HTTP ${response.status}).`, 'Restart it with `devflow local down && devflow local up` (an older server has no console).')
  }
  const body = (await response.json()) as {url: string; expiresAt: string}
  return {url: body.url, expiresAt: body.expiresAt, consoleUrl: state.url}
}
