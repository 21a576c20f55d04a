/**
 * The agent side of the prompt channel (DESIGN.md): what the workspace container calls, pulling
 * with its per-session bearer token. Implemented by the core services; served by the REST API's
 * `/agent/...` routes (Lambda and `devflow api serve`) and by the local server.
 */
import * as z from 'zod'

import type {Checkpoint, Prompt, SessionStatus} from './models.js'
import type {RepoToken, TransferUrl} from './ports.js'

export const MAX_EVENTS_PER_BATCH = 100
export const MAX_EVENT_TEXT = 16 * 1024
export const MAX_WAIT_SECONDS = 20
/** An event's `data` as JSON text; stores keep it as that text, so no value can break a read. */
export const MAX_EVENT_DATA_BYTES = 16 * 1024

export const AgentEvent = z.strictObject({
  type: z.string().min(1).max(64),
  text: z.string().max(MAX_EVENT_TEXT).optional(),
  data: z
    .unknown()
    .refine((data) => data === undefined || Buffer.byteLength(JSON.stringify(data), 'utf8') <= MAX_EVENT_DATA_BYTES, {
      message: `data is larger than ${MAX_EVENT_DATA_BYTES} bytes of JSON`,
    })
    .optional(),
})
export type AgentEvent = z.infer<typeof AgentEvent>

export const AgentEventsRequest = z.strictObject({
  events: z.array(AgentEvent).min(1).max(MAX_EVENTS_PER_BATCH),
})
export type AgentEventsRequest = z.infer<typeof AgentEventsRequest>

export const AgentResultRequest = z.strictObject({
  status: z.enum(['SUCCEEDED', 'FAILED']),
  summary: z.string().max(64 * 1024),
  branch: z.string().min(1).max(255).optional(),
  commit: z.string().regex(/^[0-9a-f]{7,64}$/).optional(),
  // Bounded so that every store (DynamoDB numbers end at 1E+126) keeps them exactly.
  turns: z.number().int().nonnegative().max(1_000_000).optional(),
  costUsd: z.number().nonnegative().max(1_000_000).optional(),
  error: z.strictObject({code: z.string().min(1).max(64), message: z.string().max(4096)}).optional(),
})
export type AgentResultRequest = z.infer<typeof AgentResultRequest>

export const HeartbeatRequest = z.strictObject({
  state: z.enum(['idle', 'working']).optional(),
})
export type HeartbeatRequest = z.infer<typeof HeartbeatRequest>

/**
 * How a workspace proves which task it is in its bootstrap call:
 * - `task-role`: the SigV4 caller API Gateway verified; an ECS task role's session is named after
 *   the task id (`arn:aws:sts::<account>:assumed-role/<task role>/<task id>`);
 * - `nonce`: the one-use nonce a local runtime handed its task out of band.
 */
export type WorkspaceProof = {readonly kind: 'task-role'; readonly principalArn: string} | {readonly kind: 'nonce'; readonly nonce: string}

/** What the bootstrap call answers, once per session. */
export interface WorkspaceSecrets {
  /** The agent's bearer token for the other /agent routes. */
  readonly token: string
  /** code-server's password. */
  readonly editorPassword: string
}

/** What a checkpoint call answers: the checkpoint as recorded, and where to upload the conversation. */
export interface CheckpointAnswer {
  readonly checkpoint: Checkpoint
  /** Absent when no Claude session was named or the platform keeps no conversations. */
  readonly upload?: TransferUrl
}

/** What a restore call answers: nothing for a session that never checkpointed. */
export interface RestoreAnswer {
  readonly checkpoint?: Checkpoint
  readonly download?: TransferUrl
}

export interface AgentApi {
  /**
   * The workspace's first call: checks the proof against the session's task and answers the
   * agent token (minted now, stored as a hash) and the editor password, once; a second call is a 409.
   */
  bootstrap(sessionId: string, proof: WorkspaceProof | undefined): Promise<WorkspaceSecrets>
  /** Checks the bearer token against the session's stored hash in constant time; 401 otherwise. */
  authenticate(sessionId: string, bearerToken: string | undefined): Promise<void>
  /** Long poll: claims the next QUEUED prompt (in seq order) with a lease, or undefined after `waitSeconds`. */
  claimNext(sessionId: string, waitSeconds: number): Promise<Prompt | undefined>
  appendEvents(sessionId: string, promptId: string, request: AgentEventsRequest): Promise<{accepted: number; lastSeq: number}>
  /** Records the outcome; opens the pull request when the prompt asked for one. */
  complete(sessionId: string, promptId: string, request: AgentResultRequest): Promise<Prompt>
  /** Liveness; the first one marks a PROVISIONING session RUNNING. */
  heartbeat(sessionId: string, request: HeartbeatRequest): Promise<{status: SessionStatus}>
  /** A fresh installation token scoped to the session's repository. */
  githubToken(sessionId: string): Promise<RepoToken>
  /** The stopping workspace's checkpoint (proof as in `bootstrap`); answers where to upload the conversation. */
  saveCheckpoint(sessionId: string, proof: WorkspaceProof | undefined, request: unknown): Promise<CheckpointAnswer>
  /** The checkpoint a resumed workspace starts from (proof as in `bootstrap`). */
  restoreCheckpoint(sessionId: string, proof: WorkspaceProof | undefined): Promise<RestoreAnswer>
}
