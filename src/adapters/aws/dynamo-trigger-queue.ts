/**
 * TriggerQueue on DynamoDB, as items of the deliveries table (`devflow-github-deliveries`): an
 * item `queue#<delivery id>` per queued trigger and `queue-lock#<repo>` per repository while a
 * drain holds it. A pending item carries `kind = "queue"` and `received_at = queued_at`, so the
 * table's GSI (`kind-received_at-index`) lists the pending ones oldest first; starting, failing or
 * cancelling it removes `kind`, which takes it out of that sparse index. `recent()` of the
 * deliveries asks only for `kind = "delivery"`, so these items never show there.
 *
 * A take and a settle are single conditional UpdateItems on `state` (and the lease); the lock is a
 * conditional PutItem, let go by expiring it (the control plane may not DeleteItem).
 */
import {type DynamoDBDocumentClient, GetCommand, PutCommand, QueryCommand, UpdateCommand} from '@aws-sdk/lib-dynamodb'

import {DELIVERIES_BY_TIME_INDEX} from '../../core/deployment.js'
import {byQueueOrder, newQueueItem, type NewQueuedTrigger, type QueueSettle, type QueueState, QueuedTrigger, queueKey, type TriggerQueue} from '../../core/github/queue.js'
import {epochSeconds, type Item, isConditionFailure, ItemLocks, translate} from './dynamo-common.js'

const KIND = 'queue'
const ITEM_PREFIX = 'queue#'
const LOCK_PREFIX = 'queue-lock#'
/** A lock item outlives any lease; the TTL only cleans up after a drain that died holding it. */
const LOCK_RETENTION_SECONDS = 24 * 3600

const ATTRIBUTES: Record<Exclude<keyof QueuedTrigger, 'id'>, string> = {
  repo: 'repo',
  queuedAt: 'queued_at',
  updatedAt: 'updated_at',
  state: 'state',
  leaseUntil: 'lease_until',
  ownerId: 'owner_id',
  sender: 'sender',
  branch: 'branch',
  resumeSessionId: 'resume_session_id',
  source: 'source',
  prompt: 'prompt',
  issueNumber: 'issue_number',
  commentId: 'comment_id',
  apiBaseUrl: 'api_base_url',
  sessionId: 'session_id',
  promptId: 'prompt_id',
  error: 'error',
  expiresAt: 'expires_at',
}

function fromItem(item: Item): QueuedTrigger {
  const record: Item = {id: String(item.delivery_id).slice(ITEM_PREFIX.length)}
  for (const [key, attribute] of Object.entries(ATTRIBUTES)) if (item[attribute] !== undefined) record[key] = item[attribute]
  return QueuedTrigger.parse(record)
}

function toItem(record: QueuedTrigger): Item {
  const item: Item = {delivery_id: ITEM_PREFIX + record.id, kind: KIND, received_at: record.queuedAt, repo_key: queueKey(record.repo), ttl: epochSeconds(record.expiresAt)}
  for (const [key, attribute] of Object.entries(ATTRIBUTES)) {
    const value = record[key as keyof typeof ATTRIBUTES]
    if (value !== undefined) item[attribute] = value
  }
  return item
}

export class DynamoTriggerQueue implements TriggerQueue {
  /** Conditional writes to one item from this process go one at a time (see ItemLocks). */
  private readonly locks = new ItemLocks()

  constructor(
    private readonly client: DynamoDBDocumentClient,
    private readonly tableName: string,
  ) {}

  async enqueue(item: NewQueuedTrigger): Promise<QueuedTrigger> {
    const record = newQueueItem(item, item.queuedAt)
    try {
      await this.client.send(new PutCommand({TableName: this.tableName, Item: toItem(record), ConditionExpression: 'attribute_not_exists(delivery_id)'}))
      return record
    } catch (error) {
      if (!isConditionFailure(error)) translate(error, 'Queueing the GitHub trigger')
    }
    const existing = await this.get(item.id)
    if (!existing) return this.enqueue(item)
    return existing
  }

  async get(id: string): Promise<QueuedTrigger | undefined> {
    try {
      const out = await this.client.send(new GetCommand({TableName: this.tableName, Key: {delivery_id: ITEM_PREFIX + id}, ConsistentRead: true}))
      return out.Item ? fromItem(out.Item) : undefined
    } catch (error) {
      translate(error, 'Reading the queued GitHub trigger')
    }
  }

  async pending(repo: string): Promise<QueuedTrigger[]> {
    return (await this.allPending(queueKey(repo))).sort(byQueueOrder)
  }

  async pendingRepos(): Promise<string[]> {
    return [...new Set((await this.allPending()).map((item) => queueKey(item.repo)))].sort()
  }

  async take(id: string, at: string, leaseUntil: string): Promise<QueuedTrigger | undefined> {
    return this.update(id, {
      UpdateExpression: 'SET #state = :starting, #lease = :lease, #updated = :at',
      ConditionExpression: '#state = :waiting OR (#state = :starting AND #lease < :at)',
      ExpressionAttributeNames: {'#state': 'state', '#lease': 'lease_until', '#updated': 'updated_at'},
      ExpressionAttributeValues: {':starting': 'STARTING', ':waiting': 'WAITING', ':lease': leaseUntil, ':at': at},
    })
  }

  async settle(id: string, from: readonly QueueState[], result: QueueSettle): Promise<QueuedTrigger | undefined> {
    const values: Item = {':to': result.state, ':at': result.at}
    from.forEach((state, index) => (values[`:from${index}`] = state))
    const sets = ['#state = :to', '#updated = :at']
    const names: Record<string, string> = {'#state': 'state', '#updated': 'updated_at', '#lease': 'lease_until', '#kind': 'kind', '#id': 'delivery_id'}
    for (const [key, attribute] of [['sessionId', 'session_id'], ['promptId', 'prompt_id'], ['error', 'error']] as const) {
      if (result[key] === undefined) continue
      sets.push(`#${key} = :${key}`)
      names[`#${key}`] = attribute
      values[`:${key}`] = result[key]
    }
    return this.update(id, {
      UpdateExpression: `SET ${sets.join(', ')} REMOVE #lease, #kind`,
      ConditionExpression: `attribute_exists(#id) AND #state IN (${from.map((_, index) => `:from${index}`).join(', ')})`,
      ExpressionAttributeNames: names,
      ExpressionAttributeValues: values,
    })
  }

  async lock(repo: string, holder: string, at: string, until: string): Promise<boolean> {
    try {
      await this.client.send(
        new PutCommand({
          TableName: this.tableName,
          Item: {delivery_id: LOCK_PREFIX + queueKey(repo), holder, lock_until: until, ttl: epochSeconds(at) + LOCK_RETENTION_SECONDS},
          ConditionExpression: 'attribute_not_exists(delivery_id) OR holder = :holder OR lock_until < :at',
          ExpressionAttributeValues: {':holder': holder, ':at': at},
        }),
      )
      return true
    } catch (error) {
      if (isConditionFailure(error)) return false
      translate(error, 'Locking the repository\'s GitHub queue')
    }
  }

  async unlock(repo: string, holder: string): Promise<void> {
    try {
      // Released by expiring it: the control plane's role has no DeleteItem (the TTL removes items).
      await this.client.send(
        new UpdateCommand({
          TableName: this.tableName,
          Key: {delivery_id: LOCK_PREFIX + queueKey(repo)},
          UpdateExpression: 'SET lock_until = :released',
          ConditionExpression: 'holder = :holder',
          ExpressionAttributeValues: {':holder': holder, ':released': ''},
        }),
      )
    } catch (error) {
      // Someone took over an expired lock: it is theirs now.
      if (!isConditionFailure(error)) translate(error, 'Unlocking the repository\'s GitHub queue')
    }
  }

  private async update(id: string, command: {UpdateExpression: string; ConditionExpression: string; ExpressionAttributeNames: Record<string, string>; ExpressionAttributeValues: Item}): Promise<QueuedTrigger | undefined> {
    try {
      const out = await this.locks.run(ITEM_PREFIX + id, () => this.client.send(new UpdateCommand({TableName: this.tableName, Key: {delivery_id: ITEM_PREFIX + id}, ...command, ReturnValues: 'ALL_NEW'})))
      return fromItem(out.Attributes ?? {})
    } catch (error) {
      if (isConditionFailure(error)) return undefined
      translate(error, 'Updating the queued GitHub trigger')
    }
  }

  private async allPending(repoKey?: string): Promise<QueuedTrigger[]> {
    const items: QueuedTrigger[] = []
    let start: Item | undefined
    try {
      do {
        const out = await this.client.send(
          new QueryCommand({
            TableName: this.tableName,
            IndexName: DELIVERIES_BY_TIME_INDEX,
            KeyConditionExpression: '#kind = :kind',
            ...(repoKey ? {FilterExpression: '#repo = :repo'} : {}),
            ExpressionAttributeNames: {'#kind': 'kind', ...(repoKey ? {'#repo': 'repo_key'} : {})},
            ExpressionAttributeValues: {':kind': KIND, ...(repoKey ? {':repo': repoKey} : {})},
            ScanIndexForward: true,
            ExclusiveStartKey: start,
          }),
        )
        items.push(...(out.Items ?? []).map(fromItem))
        start = out.LastEvaluatedKey
      } while (start)
    } catch (error) {
      translate(error, 'Listing the queued GitHub triggers')
    }
    return items.filter((item) => item.state === 'WAITING' || item.state === 'STARTING')
  }
}
