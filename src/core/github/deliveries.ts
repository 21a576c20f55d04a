/**
 * Webhook deliveries: one record per `X-GitHub-Delivery` id, so a redelivery does nothing twice,
 * and the last deliveries' outcomes for `devflow github status`.
 *
 * A delivery is claimed before any work (a conditional write: only one claimant wins), then
 * finished as DONE or FAILED. The session and prompt it created are recorded on it as soon as
 * they exist, so that a retry finds them. A FAILED delivery may be claimed again (GitHub's "Redeliver" then
 * retries the work), and so may a PROCESSING one whose lease ran out (the handler died midway);
 * a DONE one, or one still being processed, is a duplicate.
 *
 * Stores: DynamoDB table `devflow-github-deliveries` (src/adapters/aws/dynamo-delivery-store.ts)
 * and the local SQLite file (src/adapters/local/sqlite-delivery-store.ts); one contract suite
 * (test/contract/delivery-store-contract.ts) runs on both.
 */
import * as z from 'zod'

export const DeliveryStatus = z.enum(['PROCESSING', 'DONE', 'FAILED'])
export type DeliveryStatus = z.infer<typeof DeliveryStatus>

/** GitHub sends a GUID; anything of this shape is accepted, the rest is a bad request. */
export const DELIVERY_ID_PATTERN = /^[A-Za-z0-9-]{1,64}$/

/** How long a claim keeps others off a delivery while it is processed. */
export const DELIVERY_LEASE_SECONDS = 120
/** GitHub redelivers only deliveries of the last 3 days; the records outlive that. */
export const DELIVERY_RETENTION_SECONDS = 14 * 24 * 3600

const isoDate = z.string().datetime({offset: true})

export const DeliveryRecord = z.object({
  /** The X-GitHub-Delivery header. */
  id: z.string().regex(DELIVERY_ID_PATTERN),
  /** The X-GitHub-Event header, e.g. `issue_comment`. */
  event: z.string().min(1),
  action: z.string().optional(),
  repo: z.string().optional(),
  /** The first time this delivery id was seen. */
  receivedAt: isoDate,
  updatedAt: isoDate,
  status: DeliveryStatus,
  /** While PROCESSING: no other claim before then. */
  leaseUntil: isoDate.optional(),
  /** How many claims it took (1 unless redelivered after a failure). */
  attempts: z.number().int().positive(),
  /** The intent: start, prompt, stop, refuse or ignore. */
  outcome: z.string().optional(),
  /** The ignore reason, the session id, or the error code. */
  detail: z.string().optional(),
  /**
   * The work this delivery created, recorded as soon as it exists and kept across claims: a
   * redelivery after a failure reuses it instead of queueing a second prompt.
   */
  sessionId: z.string().optional(),
  promptId: z.string().optional(),
  /** When the record may be dropped. */
  expiresAt: isoDate,
})
export type DeliveryRecord = z.infer<typeof DeliveryRecord>

export interface DeliveryClaim {
  readonly id: string
  readonly event: string
  readonly action?: string
  readonly repo?: string
  /** Now; the lease and the expiry are counted from it. */
  readonly at: string
  readonly leaseUntil: string
  readonly expiresAt: string
}

export type ClaimResult = {readonly claimed: true; readonly record: DeliveryRecord} | {readonly claimed: false; readonly existing: DeliveryRecord}

export interface DeliveryFinish {
  readonly status: 'DONE' | 'FAILED'
  readonly at: string
  readonly outcome?: string
  readonly detail?: string
}

export interface DeliveryWork {
  readonly sessionId: string
  readonly promptId?: string
}

export interface DeliveryStore {
  /**
   * Claims the delivery for processing with one conditional write: wins when the id is new, FAILED,
   * or PROCESSING with an expired lease; otherwise returns the record that is there.
   */
  claim(claim: DeliveryClaim): Promise<ClaimResult>
  /** Ends a claim. Throws DELIVERY_NOT_FOUND when there is no such delivery. */
  finish(id: string, result: DeliveryFinish): Promise<DeliveryRecord>
  get(id: string): Promise<DeliveryRecord | undefined>
  /** Records the work the delivery created (see DeliveryRecord.promptId). Throws DELIVERY_NOT_FOUND when there is no such delivery. */
  recordWork(id: string, work: DeliveryWork): Promise<DeliveryRecord>
  /** The last `limit` deliveries, most recently received first. */
  recent(limit: number): Promise<DeliveryRecord[]>
}

/** The claim for a delivery received at `now`, with the standard lease and retention. */
export function deliveryClaim(input: {id: string; event: string; action?: string; repo?: string}, now: Date): DeliveryClaim {
  return {
    ...input,
    at: now.toISOString(),
    leaseUntil: new Date(now.getTime() + DELIVERY_LEASE_SECONDS * 1000).toISOString(),
    expiresAt: new Date(now.getTime() + DELIVERY_RETENTION_SECONDS * 1000).toISOString(),
  }
}

/** The rule both stores apply, in one place for the SQLite store (DynamoDB states it as a condition). */
export function claimable(existing: DeliveryRecord | undefined, at: string): boolean {
  if (!existing) return true
  if (existing.status === 'FAILED') return true
  return existing.status === 'PROCESSING' && (existing.leaseUntil ?? '') < at
}
