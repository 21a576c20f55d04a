/**
 * SessionStore on DynamoDB (table `devflow-sessions`, DESIGN.md): PK `session_id`, TTL `ttl`, GSI
 * `user_id-created_at-index` (projection ALL), snake_case attributes, optimistic locking on
 * `version`.
 */
import {type DynamoDBDocumentClient, GetCommand, PutCommand, QueryCommand, ScanCommand, UpdateCommand} from '@aws-sdk/lib-dynamodb'

import {RETENTION_SECONDS, SESSIONS_BY_USER_INDEX} from '../../core/deployment.js'
import {concurrentUpdate, sessionExists, sessionNotFound} from '../../core/errors.js'
import {type Page, SessionRecord} from '../../core/models.js'
import type {ListOptions, SessionChanges, SessionStore} from '../../core/ports.js'
import {ItemLocks, decodeToken, encodeToken, epochSeconds, type Item, isConditionFailure, itemMapping, translate, updateExpression} from './dynamo-common.js'

/** Ended sessions stay readable this long after their expiry before DynamoDB's TTL removes them. */

const ATTRIBUTES: Record<keyof SessionRecord, string> = {
  id: 'session_id',
  userId: 'user_id',
  repo: 'repo',
  branch: 'branch',
  status: 'status',
  capacity: 'capacity',
  cpu: 'cpu',
  memory: 'memory',
  createdAt: 'created_at',
  updatedAt: 'updated_at',
  expiresAt: 'expires_at',
  idleTimeoutSeconds: 'idle_timeout_seconds',
  taskArn: 'task_arn',
  editorPassword: 'editor_password',
  agentTokenHash: 'agent_token_hash',
  bootstrapNonceHash: 'bootstrap_nonce_hash',
  bootstrappedAt: 'bootstrapped_at',
  idempotencyKey: 'idempotency_key',
  lastActivityAt: 'last_activity_at',
  agentReadyAt: 'agent_ready_at',
  error: 'error',
  source: 'source',
  budgetUsd: 'budget_usd',
  paused: 'paused',
  pausedAt: 'paused_at',
  stopReason: 'stop_reason',
  taskStartedAt: 'task_started_at',
  taskStoppedAt: 'task_stopped_at',
  agentUsd: 'agent_usd',
  budgetAlerted: 'budget_alerted',
  checkpoint: 'checkpoint',
  resumeCount: 'resume_count',
  ttlSeconds: 'ttl_seconds',
  priorComputeUsd: 'prior_compute_usd',
  warm: 'warm',
  version: 'version',
}

const {toItem, fromItem} = itemMapping(ATTRIBUTES, SessionRecord)

export class DynamoSessionStore implements SessionStore {
  private readonly locks = new ItemLocks()

  constructor(
    private readonly client: DynamoDBDocumentClient,
    private readonly tableName: string,
  ) {}

  async create(record: SessionRecord): Promise<void> {
    return this.locks.run(record.id, () => this.put(record))
  }

  private async put(record: SessionRecord): Promise<void> {
    try {
      await this.client.send(
        new PutCommand({
          TableName: this.tableName,
          Item: {...toItem(record), ttl: epochSeconds(record.expiresAt) + RETENTION_SECONDS},
          ConditionExpression: 'attribute_not_exists(session_id)',
        }),
      )
    } catch (error) {
      if (isConditionFailure(error)) {
        throw sessionExists(record.id)
      }
      translate(error, 'Writing the session')
    }
  }

  async get(id: string): Promise<SessionRecord | undefined> {
    try {
      const out = await this.client.send(new GetCommand({TableName: this.tableName, Key: {session_id: id}, ConsistentRead: true}))
      return out.Item ? fromItem(out.Item) : undefined
    } catch (error) {
      translate(error, 'Reading the session')
    }
  }

  async update(id: string, expectedVersion: number, changes: SessionChanges): Promise<SessionRecord> {
    return this.locks.run(id, () => this.conditionalUpdate(id, expectedVersion, changes))
  }

  private async conditionalUpdate(id: string, expectedVersion: number, changes: SessionChanges): Promise<SessionRecord> {
    const values: Item = {...toItem(changes as Partial<SessionRecord>), version: expectedVersion + 1}
    if (changes.expiresAt) values.ttl = epochSeconds(changes.expiresAt) + RETENTION_SECONDS
    const update = updateExpression(values)
    try {
      const out = await this.client.send(
        new UpdateCommand({
          TableName: this.tableName,
          Key: {session_id: id},
          UpdateExpression: update.expression,
          ConditionExpression: 'attribute_exists(session_id) AND #expectedVersion = :expectedVersion',
          ExpressionAttributeNames: {...update.names, '#expectedVersion': 'version'},
          ExpressionAttributeValues: {...update.values, ':expectedVersion': expectedVersion},
          ReturnValues: 'ALL_NEW',
        }),
      )
      return fromItem(out.Attributes ?? {})
    } catch (error) {
      if (isConditionFailure(error)) {
        if (!(await this.get(id))) {
          throw sessionNotFound(id)
        }
        throw concurrentUpdate(`Session ${id}`)
      }
      translate(error, 'Updating the session')
    }
  }

  async listByUser(userId: string, options: ListOptions): Promise<Page<SessionRecord>> {
    try {
      const out = await this.client.send(
        new QueryCommand({
          TableName: this.tableName,
          IndexName: SESSIONS_BY_USER_INDEX,
          KeyConditionExpression: 'user_id = :user',
          ExpressionAttributeValues: {':user': userId},
          ScanIndexForward: false,
          Limit: options.limit,
          ExclusiveStartKey: decodeToken(options.nextToken, {session_id: 'S', user_id: 'S', created_at: 'S'}),
        }),
      )
      return this.page(out.Items, out.LastEvaluatedKey)
    } catch (error) {
      translate(error, 'Listing sessions')
    }
  }

  async listAll(options: ListOptions): Promise<Page<SessionRecord>> {
    try {
      const out = await this.client.send(
        new ScanCommand({TableName: this.tableName, Limit: options.limit, ExclusiveStartKey: decodeToken(options.nextToken, {session_id: 'S'})}),
      )
      const page = this.page(out.Items, out.LastEvaluatedKey)
      return {...page, items: page.items.sort((a, b) => b.createdAt.localeCompare(a.createdAt))}
    } catch (error) {
      translate(error, 'Listing sessions')
    }
  }

  async ping(): Promise<void> {
    try {
      await this.client.send(new GetCommand({TableName: this.tableName, Key: {session_id: 'health-check'}}))
    } catch (error) {
      translate(error, `Reading the ${this.tableName} table`)
    }
  }

  private page(items: Item[] | undefined, lastKey: Item | undefined): Page<SessionRecord> {
    const nextToken = encodeToken(lastKey)
    return {items: (items ?? []).map(fromItem), ...(nextToken ? {nextToken} : {})}
  }
}
