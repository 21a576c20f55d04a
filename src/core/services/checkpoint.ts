/**
 * A stopping workspace's checkpoint and a resumed workspace's restore (`session resume`): the
 * branch and commit it pushed and its Claude Code conversation. The caller proves it is the
 * session's current task exactly as in the bootstrap call (workspace-bootstrap.ts), so a task
 * reaches only its own session's checkpoint, and a replaced task (after a resume) none.
 */
import * as z from 'zod'

import type {CheckpointAnswer, RestoreAnswer, WorkspaceProof} from '../agent-api.js'
import {forbidden, unauthenticated} from '../errors.js'
import {Checkpoint, type SessionRecord} from '../models.js'
import {SESSION_ID_PATTERN} from '../validation.js'
import type {CoreDeps} from './index.js'
import {parseRequest} from './parse.js'
import {updateSessionWithRetry} from './records.js'
import {checkProof} from './workspace-bootstrap.js'

export const CheckpointRequest = z.strictObject({
  branch: Checkpoint.shape.branch,
  commit: Checkpoint.shape.commit,
  claudeSessionId: Checkpoint.shape.claudeSessionId,
})
export type CheckpointRequest = z.infer<typeof CheckpointRequest>

export async function saveCheckpoint(deps: CoreDeps, sessionId: string, proof: WorkspaceProof | undefined, input: unknown): Promise<CheckpointAnswer> {
  const request = parseRequest(CheckpointRequest, input)
  const record = await provenSession(deps, sessionId, proof)
  const conversation = request.claudeSessionId !== undefined && deps.conversations !== undefined
  const checkpoint: Checkpoint = {
    branch: request.branch,
    commit: request.commit,
    ...(request.claudeSessionId ? {claudeSessionId: request.claudeSessionId} : {}),
    conversation,
    savedAt: deps.clock.now().toISOString(),
  }
  // Any state: the session is usually STOPPED by the time its task checkpoints on the way out.
  const stored = await updateSessionWithRetry(deps, record, () => ({checkpoint}))
  const upload = conversation && deps.conversations ? await deps.conversations.uploadUrl(stored.id) : undefined
  return {checkpoint, ...(upload ? {upload} : {})}
}

export async function restoreCheckpoint(deps: CoreDeps, sessionId: string, proof: WorkspaceProof | undefined): Promise<RestoreAnswer> {
  const record = await provenSession(deps, sessionId, proof)
  if (!record.checkpoint) return {}
  const download = record.checkpoint.conversation && deps.conversations ? await deps.conversations.downloadUrl(record.id) : undefined
  return {checkpoint: record.checkpoint, ...(download ? {download} : {})}
}

async function provenSession(deps: CoreDeps, sessionId: string, proof: WorkspaceProof | undefined): Promise<SessionRecord> {
  if (!proof) {
    throw unauthenticated('CHECKPOINT_PROOF_MISSING', 'The checkpoint call carries no proof of the task.', 'Sign it with the task role\'s credentials (SigV4), or send the local bootstrap nonce as a bearer token.')
  }
  const refused = forbidden('CHECKPOINT_REFUSED', 'The caller is not the current workspace task of this session.', 'Only the session\'s own task reaches its checkpoint; a task replaced by `session resume` no longer does.')
  if (!SESSION_ID_PATTERN.test(sessionId)) throw refused
  const record = await deps.sessions.get(sessionId)
  if (!record) throw refused
  checkProof(deps, record, proof, refused)
  return record
}
