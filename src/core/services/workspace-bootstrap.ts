/**
 * The workspace's bootstrap call (DESIGN.md, "Contracts the open issues add"): no secret travels
 * in RunTask overrides, so the task proves which task it is and gets the agent token and the
 * editor password here, once.
 */
import {timingSafeEqual} from 'node:crypto'

import type {WorkspaceProof, WorkspaceSecrets} from '../agent-api.js'
import {conflict, forbidden, isDevflowError, unauthenticated} from '../errors.js'
import {hashToken} from '../ids.js'
import type {SessionRecord} from '../models.js'
import {isSessionTerminal} from '../state-machine.js'
import {SESSION_ID_PATTERN} from '../validation.js'
import type {CoreDeps} from './index.js'

const MAX_ATTEMPTS = 5

export async function bootstrapWorkspace(deps: CoreDeps, sessionId: string, proof: WorkspaceProof | undefined): Promise<WorkspaceSecrets> {
  if (!proof) {
    throw unauthenticated('BOOTSTRAP_PROOF_MISSING', 'The bootstrap call carries no proof of the task.', 'Sign it with the task role\'s credentials (SigV4), or send the local bootstrap nonce as a bearer token.')
  }
  // One answer for a malformed id, an unknown session and a wrong proof: nothing to probe.
  const refused = forbidden('BOOTSTRAP_REFUSED', 'The caller is not the workspace task of this session.', 'Only the session\'s own task can bootstrap it; start a new session if its task was replaced.')
  if (!SESSION_ID_PATTERN.test(sessionId)) throw refused
  for (let attempt = 1; ; attempt++) {
    const record = await deps.sessions.get(sessionId)
    if (!record) throw refused
    if (isSessionTerminal(record.status)) {
      throw conflict('SESSION_ENDED', `Session ${record.id} is ${record.status}.`, 'The workspace should shut down; start a new session to continue.', {details: {status: record.status}})
    }
    checkProof(deps, record, proof, refused)
    if (record.bootstrappedAt) {
      throw conflict('BOOTSTRAP_USED', `Session ${record.id}'s workspace was already bootstrapped at ${record.bootstrappedAt}.`, 'The token is handed out once; a restarted workspace needs a new session.')
    }
    const token = deps.ids.secret(32)
    try {
      await deps.sessions.update(record.id, record.version, {agentTokenHash: hashToken(token), bootstrappedAt: deps.clock.now().toISOString()})
      return {token, editorPassword: record.editorPassword ?? ''}
    } catch (error) {
      // Another write came first: read again, so that of two racing calls only one gets a token.
      if (!(isDevflowError(error) && error.code === 'CONCURRENT_UPDATE') || attempt >= MAX_ATTEMPTS) throw error
    }
  }
}

/** Throws `refused` unless the proof is the session's current task (its role session, or its nonce). */
export function checkProof(deps: CoreDeps, record: SessionRecord, proof: WorkspaceProof, refused: Error): void {
  if (proof.kind === 'nonce') {
    if (!record.bootstrapNonceHash || !sameHash(record.bootstrapNonceHash, hashToken(proof.nonce))) throw refused
    return
  }
  const role = deps.settings.workspaceRoleArn
  const caller = parseAssumedRole(proof.principalArn)
  if (!role || !caller || !isSessionOfRole(caller, role)) throw refused
  if (!record.taskArn) {
    throw conflict('SESSION_NOT_READY', `Session ${record.id} has no task recorded yet.`, 'Retry the bootstrap call in a second.')
  }
  if (caller.sessionName !== taskIdOf(record.taskArn)) throw refused
}

interface AssumedRole {
  readonly partition: string
  readonly account: string
  readonly roleName: string
  readonly sessionName: string
}

/** `arn:aws:sts::123456789012:assumed-role/<role name>/<session name>`; undefined for anything else. */
export function parseAssumedRole(arn: string): AssumedRole | undefined {
  const match = /^arn:([\w-]+):sts::(\d{12}):assumed-role\/([\w+=,.@-]+)\/([\w+=,.@-]+)$/.exec(arn)
  return match ? {partition: match[1], account: match[2], roleName: match[3], sessionName: match[4]} : undefined
}

/** A role ARN may carry a path (`role/path/name`); an assumed-role ARN names the role without it. */
export function isSessionOfRole(caller: AssumedRole, roleArn: string): boolean {
  const match = /^arn:([\w-]+):iam::(\d{12}):role\/(?:[\w+=,.@/-]*\/)?([\w+=,.@-]+)$/.exec(roleArn)
  return match !== null && match[1] === caller.partition && match[2] === caller.account && match[3] === caller.roleName
}

export function taskIdOf(taskArn: string): string {
  return taskArn.split('/').at(-1) ?? taskArn
}

export function sameHash(expectedHex: string, actualHex: string): boolean {
  const expected = Buffer.from(expectedHex, 'hex')
  const actual = Buffer.from(actualHex, 'hex')
  return expected.length === actual.length && timingSafeEqual(expected, actual)
}
