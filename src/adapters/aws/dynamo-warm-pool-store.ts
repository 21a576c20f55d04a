/**
 * The warm pool's store on DynamoDB (table `devflow-warm-pool`, core/warm-pool.ts): PK `warm_id`,
 * TTL `ttl` (a record the keeper never removed goes after a day past its recycle age), snake_case
 * attributes, optimistic locking on `version`; the assignment is conditional on `status = WARM`.
 * The hit and miss counters are one item, `#counters`, added to atomically.
 */
import {DeleteCommand, type DynamoDBDocumentClient, GetCommand, PutCommand, ScanCommand, UpdateCommand} from '@aws-sdk/lib-dynamodb'

import {concurrentUpdate, conflict, notFound} from '../../core/errors.js'
import {DEFAULT_WARM_POOL_SETTINGS, type WarmPoolCounters, type WarmPoolStore, type WarmTaskChanges, WarmTaskRecord} from '../../core/warm-pool.js'
import {epochSeconds, type Item, isConditionFailure, ItemLocks, itemMapping, translate, updateExpression} from './dynamo-common.js'

const COUNTERS_ID = '#counters'
const TTL_AFTER_START_SECONDS = DEFAULT_WARM_POOL_SETTINGS.maxAgeSeconds + 24 * 3600

const ATTRIBUTES: Record<keyof WarmTaskRecord, string> = {
  id: 'warm_id',
  taskArn: 'task_arn',
  cpu: 'cpu',
  memory: 'memory',
  capacity: 'capacity',
  status: 'status',
  startedAt: 'started_at',
  readyAt: 'ready_at',
  lastSeenAt: 'last_seen_at',
  nonceHash: 'nonce_hash',
  pollTokenHash: 'poll_token_hash',
  editorPassword: 'editor_password',
  sessionId: 'session_id',
  assignedAt: 'assigned_at',
  error: 'error',
  version: 'version',
}

const {toItem, fromItem} = itemMapping(ATTRIBUTES, WarmTaskRecord)

export class DynamoWarmPoolStore implements WarmPoolStore {
  private readonly locks = new ItemLocks()

  constructor(
    private readonly client: DynamoDBDocumentClient,
    private readonly tableName: string,
  ) {}

  async create(record: WarmTaskRecord): Promise<void> {
    const valid = WarmTaskRecord.parse(record)
    await this.locks.run(valid.id, async () => {
      try {
        await this.client.send(
          new PutCommand({
            TableName: this.tableName,
            Item: {...toItem(valid), ttl: epochSeconds(valid.startedAt) + TTL_AFTER_START_SECONDS},
            ConditionExpression: 'attribute_not_exists(warm_id)',
          }),
        )
      } catch (error) {
        if (isConditionFailure(error)) throw conflict('WARM_TASK_EXISTS', `Warm task ${valid.id} already exists.`, 'Use a new id.')
        translate(error, 'Writing the warm task')
      }
    })
  }

  async get(id: string): Promise<WarmTaskRecord | undefined> {
    try {
      const out = await this.client.send(new GetCommand({TableName: this.tableName, Key: {warm_id: id}, ConsistentRead: true}))
      return out.Item && id !== COUNTERS_ID ? fromItem(out.Item) : undefined
    } catch (error) {
      translate(error, 'Reading the warm task')
    }
  }

  async list(): Promise<WarmTaskRecord[]> {
    const records: WarmTaskRecord[] = []
    let start: Item | undefined
    try {
      do {
        const out = await this.client.send(new ScanCommand({TableName: this.tableName, ConsistentRead: true, ExclusiveStartKey: start}))
        for (const item of out.Items ?? []) if (item.warm_id !== COUNTERS_ID) records.push(fromItem(item))
        start = out.LastEvaluatedKey
      } while (start)
    } catch (error) {
      translate(error, 'Listing the warm pool')
    }
    return records
  }

  async update(id: string, expectedVersion: number, changes: WarmTaskChanges): Promise<WarmTaskRecord> {
    return this.locks.run(id, async () => {
      const out = await this.conditional(id, changes, expectedVersion + 1, 'attribute_exists(warm_id) AND #expectedVersion = :expectedVersion', {'#expectedVersion': 'version'}, {':expectedVersion': expectedVersion})
      if (out) return out
      if (!(await this.get(id))) throw notFound('WARM_TASK_NOT_FOUND', `Warm task ${id} is not in the pool.`, 'The pool keeper removed it.')
      throw concurrentUpdate(`Warm task ${id}`)
    })
  }

  async assign(id: string, sessionId: string, at: string): Promise<WarmTaskRecord | undefined> {
    return this.locks.run(id, async () => {
      const current = await this.get(id)
      if (!current || current.status !== 'WARM') return undefined
      // The version only numbers the change here: the condition is the status, whatever the polls wrote meanwhile.
      return this.conditional(id, {status: 'ASSIGNED', sessionId, assignedAt: at}, current.version + 1, 'attribute_exists(warm_id) AND #status = :warm', {'#status': 'status'}, {':warm': 'WARM'})
    })
  }

  async remove(id: string): Promise<void> {
    try {
      await this.client.send(new DeleteCommand({TableName: this.tableName, Key: {warm_id: id}}))
    } catch (error) {
      translate(error, 'Removing the warm task')
    }
  }

  async count(outcome: 'hit' | 'miss'): Promise<void> {
    try {
      // One at a time from this process, as the usage ledger's adds: moto_server loses concurrent ADDs to one item.
      await this.locks.run(COUNTERS_ID, () =>
        this.client.send(
          new UpdateCommand({TableName: this.tableName, Key: {warm_id: COUNTERS_ID}, UpdateExpression: 'ADD #n :one', ExpressionAttributeNames: {'#n': outcome === 'hit' ? 'hits' : 'misses'}, ExpressionAttributeValues: {':one': 1}}),
        ),
      )
    } catch (error) {
      translate(error, 'Counting a warm pool start')
    }
  }

  async counters(): Promise<WarmPoolCounters> {
    try {
      const out = await this.client.send(new GetCommand({TableName: this.tableName, Key: {warm_id: COUNTERS_ID}, ConsistentRead: true}))
      return {hits: Number(out.Item?.hits ?? 0), misses: Number(out.Item?.misses ?? 0)}
    } catch (error) {
      translate(error, 'Reading the warm pool counters')
    }
  }

  /** The record after the write, or undefined when the condition failed. */
  private async conditional(id: string, changes: WarmTaskChanges, version: number, condition: string, names: Record<string, string>, values: Item): Promise<WarmTaskRecord | undefined> {
    const update = updateExpression({...toItem(changes as Partial<WarmTaskRecord>), version})
    try {
      const out = await this.client.send(
        new UpdateCommand({
          TableName: this.tableName,
          Key: {warm_id: id},
          UpdateExpression: update.expression,
          ConditionExpression: condition,
          ExpressionAttributeNames: {...update.names, ...names},
          ExpressionAttributeValues: {...update.values, ...values},
          ReturnValues: 'ALL_NEW',
        }),
      )
      return fromItem(out.Attributes ?? {})
    } catch (error) {
      if (isConditionFailure(error)) return undefined
      translate(error, 'Updating the warm task')
    }
  }
}
