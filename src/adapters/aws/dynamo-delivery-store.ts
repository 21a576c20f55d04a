/**
 * DeliveryStore on DynamoDB: table `devflow-github-deliveries`, PK `delivery_id`, TTL `ttl`, GSI
 * `kind-received_at-index` (PK `kind`, always "delivery"; SK `received_at`) for the newest
 * deliveries first. Its own small table rather than items in the sessions table: the sessions
 * table is scanned for admin listings and reaped by status, and deliveries would pollute both.
 * One partition key value on the GSI is fine at webhook rates (far below a partition's limits).
 *
 * A claim is one UpdateItem that creates or takes over the item, conditional on the rule of
 * core/github/deliveries.ts: new, FAILED, or PROCESSING with an expired lease.
 */
import {type DynamoDBDocumentClient, GetCommand, QueryCommand, UpdateCommand} from '@aws-sdk/lib-dynamodb'

import {DELIVERIES_BY_TIME_INDEX} from '../../core/deployment.js'
import {notFound} from '../../core/errors.js'
import {type ClaimResult, type DeliveryClaim, type DeliveryFinish, DeliveryRecord, type DeliveryStore, type DeliveryWork} from '../../core/github/deliveries.js'
import {epochSeconds, type Item, isConditionFailure, ItemLocks, translate} from './dynamo-common.js'

const KIND = 'delivery'

const ATTRIBUTES: Record<keyof DeliveryRecord, string> = {
  id: 'delivery_id',
  event: 'event',
  action: 'action',
  repo: 'repo',
  receivedAt: 'received_at',
  updatedAt: 'updated_at',
  status: 'status',
  leaseUntil: 'lease_until',
  attempts: 'attempts',
  outcome: 'outcome',
  detail: 'detail',
  sessionId: 'session_id',
  promptId: 'prompt_id',
  expiresAt: 'expires_at',
}

function fromItem(item: Item): DeliveryRecord {
  const record: Item = {}
  for (const [key, attribute] of Object.entries(ATTRIBUTES)) if (item[attribute] !== undefined) record[key] = item[attribute]
  return DeliveryRecord.parse(record)
}

export class DynamoDeliveryStore implements DeliveryStore {
  private readonly locks = new ItemLocks()

  constructor(
    private readonly client: DynamoDBDocumentClient,
    private readonly tableName: string,
  ) {}

  async claim(claim: DeliveryClaim): Promise<ClaimResult> {
    return this.locks.run(claim.id, async () => {
      try {
        const out = await this.client.send(
          new UpdateCommand({
            TableName: this.tableName,
            Key: {delivery_id: claim.id},
            UpdateExpression:
              'SET #kind = :kind, #event = :event, #status = :processing, #lease = :lease, #updated = :at, #expires = :expires, #ttl = :ttl, ' +
              '#received = if_not_exists(#received, :at), #attempts = if_not_exists(#attempts, :zero) + :one' +
              (claim.action === undefined ? '' : ', #action = :action') +
              (claim.repo === undefined ? '' : ', #repo = :repo') +
              ' REMOVE #outcome, #detail',
            ConditionExpression: 'attribute_not_exists(#id) OR #status = :failed OR (#status = :processing AND #lease < :at)',
            ExpressionAttributeNames: {
              '#id': 'delivery_id',
              '#kind': 'kind',
              '#event': 'event',
              '#status': 'status',
              '#lease': 'lease_until',
              '#updated': 'updated_at',
              '#expires': 'expires_at',
              '#ttl': 'ttl',
              '#received': 'received_at',
              '#attempts': 'attempts',
              '#outcome': 'outcome',
              '#detail': 'detail',
              ...(claim.action === undefined ? {} : {'#action': 'action'}),
              ...(claim.repo === undefined ? {} : {'#repo': 'repo'}),
            },
            ExpressionAttributeValues: {
              ':kind': KIND,
              ':event': claim.event,
              ':processing': 'PROCESSING',
              ':failed': 'FAILED',
              ':lease': claim.leaseUntil,
              ':at': claim.at,
              ':expires': claim.expiresAt,
              ':ttl': epochSeconds(claim.expiresAt),
              ':zero': 0,
              ':one': 1,
              ...(claim.action === undefined ? {} : {':action': claim.action}),
              ...(claim.repo === undefined ? {} : {':repo': claim.repo}),
            },
            ReturnValues: 'ALL_NEW',
          }),
        )
        return {claimed: true, record: fromItem(out.Attributes ?? {})}
      } catch (error) {
        if (!isConditionFailure(error)) translate(error, 'Recording the webhook delivery')
      }
      const existing = await this.get(claim.id)
      // The condition failed, so the item exists; a TTL deletion in between is not worth a retry loop.
      if (!existing) throw notFound('DELIVERY_NOT_FOUND', `Delivery ${claim.id} vanished while it was being claimed.`, 'Redeliver it from the App\'s settings on GitHub.')
      return {claimed: false, existing}
    })
  }

  async finish(id: string, result: DeliveryFinish): Promise<DeliveryRecord> {
    return this.locks.run(id, async () => {
      try {
        const out = await this.client.send(
          new UpdateCommand({
            TableName: this.tableName,
            Key: {delivery_id: id},
            UpdateExpression:
              'SET #status = :status, #updated = :at' +
              (result.outcome === undefined ? '' : ', #outcome = :outcome') +
              (result.detail === undefined ? '' : ', #detail = :detail') +
              ' REMOVE #lease',
            ConditionExpression: 'attribute_exists(#id)',
            ExpressionAttributeNames: {
              '#id': 'delivery_id',
              '#status': 'status',
              '#updated': 'updated_at',
              '#lease': 'lease_until',
              ...(result.outcome === undefined ? {} : {'#outcome': 'outcome'}),
              ...(result.detail === undefined ? {} : {'#detail': 'detail'}),
            },
            ExpressionAttributeValues: {
              ':status': result.status,
              ':at': result.at,
              ...(result.outcome === undefined ? {} : {':outcome': result.outcome}),
              ...(result.detail === undefined ? {} : {':detail': result.detail}),
            },
            ReturnValues: 'ALL_NEW',
          }),
        )
        return fromItem(out.Attributes ?? {})
      } catch (error) {
        if (isConditionFailure(error)) throw notFound('DELIVERY_NOT_FOUND', `There is no webhook delivery ${id}.`, 'Claim the delivery before finishing it.')
        translate(error, 'Recording the webhook delivery\'s outcome')
      }
    })
  }

  async recordWork(id: string, work: DeliveryWork): Promise<DeliveryRecord> {
    return this.locks.run(id, async () => {
      try {
        const out = await this.client.send(
          new UpdateCommand({
            TableName: this.tableName,
            Key: {delivery_id: id},
            UpdateExpression: 'SET #session = :session' + (work.promptId === undefined ? '' : ', #prompt = :prompt'),
            ConditionExpression: 'attribute_exists(#id)',
            ExpressionAttributeNames: {'#id': 'delivery_id', '#session': 'session_id', ...(work.promptId === undefined ? {} : {'#prompt': 'prompt_id'})},
            ExpressionAttributeValues: {':session': work.sessionId, ...(work.promptId === undefined ? {} : {':prompt': work.promptId})},
            ReturnValues: 'ALL_NEW',
          }),
        )
        return fromItem(out.Attributes ?? {})
      } catch (error) {
        if (isConditionFailure(error)) throw notFound('DELIVERY_NOT_FOUND', `There is no webhook delivery ${id}.`, 'Claim the delivery before recording its work.')
        translate(error, 'Recording the webhook delivery\'s work')
      }
    })
  }

  async get(id: string): Promise<DeliveryRecord | undefined> {
    try {
      const out = await this.client.send(new GetCommand({TableName: this.tableName, Key: {delivery_id: id}, ConsistentRead: true}))
      return out.Item ? fromItem(out.Item) : undefined
    } catch (error) {
      translate(error, 'Reading the webhook delivery')
    }
  }

  async recent(limit: number): Promise<DeliveryRecord[]> {
    try {
      const out = await this.client.send(
        new QueryCommand({
          TableName: this.tableName,
          IndexName: DELIVERIES_BY_TIME_INDEX,
          KeyConditionExpression: '#kind = :kind',
          ExpressionAttributeNames: {'#kind': 'kind'},
          ExpressionAttributeValues: {':kind': KIND},
          ScanIndexForward: false,
          Limit: limit,
        }),
      )
      return (out.Items ?? []).map(fromItem)
    } catch (error) {
      translate(error, 'Listing the webhook deliveries')
    }
  }
}
