/**
 * PromptStore on DynamoDB: prompts table PK `session_id`, SK `seq` (N); events table PK
 * `prompt_id`, SK `seq` (N). snake_case attributes, optimistic locking on `version`, TTL `ttl`.
 */
import {
  type DynamoDBDocumentClient,
  PutCommand,
  QueryCommand,
  TransactWriteCommand,
  UpdateCommand,
} from '@aws-sdk/lib-dynamodb'

import {RETENTION_SECONDS} from '../../core/deployment.js'
import {concurrentUpdate, promptNotFound, promptSeqTaken} from '../../core/errors.js'
import {type Page, type PromptEvent, PromptRecord} from '../../core/models.js'
import type {ListOptions, PromptChanges, PromptStore} from '../../core/ports.js'
import {ItemLocks, decodeToken, encodeToken, epochSeconds, type Item, isConditionFailure, itemMapping, translate, updateExpression} from './dynamo-common.js'

/** Prompts and their events stay this long after they were written. */
const MAX_APPEND_ATTEMPTS = 8

const ATTRIBUTES: Record<keyof PromptRecord, string> = {
  id: 'prompt_id',
  sessionId: 'session_id',
  seq: 'seq',
  text: 'text',
  status: 'status',
  pr: 'pr',
  createdAt: 'created_at',
  updatedAt: 'updated_at',
  attempt: 'attempt',
  leaseUntil: 'lease_until',
  result: 'result',
  error: 'error',
  version: 'version',
}

const {toItem, fromItem} = itemMapping(ATTRIBUTES, PromptRecord)

export class DynamoPromptStore implements PromptStore {
  private readonly locks = new ItemLocks()

  constructor(
    private readonly client: DynamoDBDocumentClient,
    private readonly promptsTable: string,
    private readonly eventsTable: string,
  ) {}

  async create(record: PromptRecord): Promise<void> {
    return this.locks.run(`${record.sessionId}#${record.seq}`, () => this.put(record))
  }

  private async put(record: PromptRecord): Promise<void> {
    try {
      await this.client.send(
        new PutCommand({
          TableName: this.promptsTable,
          Item: {...toItem(record), ttl: epochSeconds(record.createdAt) + RETENTION_SECONDS},
          ConditionExpression: 'attribute_not_exists(seq)',
        }),
      )
    } catch (error) {
      if (isConditionFailure(error)) {
        throw promptSeqTaken(record.sessionId, record.seq)
      }
      translate(error, 'Writing the prompt')
    }
  }

  async get(sessionId: string, promptId: string): Promise<PromptRecord | undefined> {
    try {
      let start: Item | undefined
      do {
        const out = await this.client.send(
          new QueryCommand({
            TableName: this.promptsTable,
            KeyConditionExpression: 'session_id = :session',
            FilterExpression: 'prompt_id = :prompt',
            ExpressionAttributeValues: {':session': sessionId, ':prompt': promptId},
            ConsistentRead: true,
            ExclusiveStartKey: start,
          }),
        )
        if (out.Items?.[0]) return fromItem(out.Items[0])
        start = out.LastEvaluatedKey
      } while (start)
      return undefined
    } catch (error) {
      translate(error, 'Reading the prompt')
    }
  }

  async list(sessionId: string, options: ListOptions): Promise<Page<PromptRecord>> {
    try {
      const out = await this.client.send(
        new QueryCommand({
          TableName: this.promptsTable,
          KeyConditionExpression: 'session_id = :session',
          ExpressionAttributeValues: {':session': sessionId},
          ConsistentRead: true,
          Limit: options.limit,
          ExclusiveStartKey: decodeToken(options.nextToken, {session_id: 'S', seq: 'N'}),
        }),
      )
      const nextToken = encodeToken(out.LastEvaluatedKey)
      return {items: (out.Items ?? []).map(fromItem), ...(nextToken ? {nextToken} : {})}
    } catch (error) {
      translate(error, 'Listing prompts')
    }
  }

  async lastSeq(sessionId: string): Promise<number> {
    try {
      return await this.highestSeq(this.promptsTable, 'session_id', sessionId)
    } catch (error) {
      translate(error, 'Reading the prompts')
    }
  }


  async update(sessionId: string, promptId: string, expectedVersion: number, changes: PromptChanges): Promise<PromptRecord> {
    return this.locks.run(promptId, () => this.conditionalUpdate(sessionId, promptId, expectedVersion, changes))
  }

  private async conditionalUpdate(sessionId: string, promptId: string, expectedVersion: number, changes: PromptChanges): Promise<PromptRecord> {
    const current = await this.get(sessionId, promptId)
    if (!current) throw promptNotFound(sessionId, promptId)
    if (current.version !== expectedVersion) throw concurrentUpdate(`Prompt ${promptId}`)
    const update = updateExpression({...toItem(changes as Partial<PromptRecord>), version: expectedVersion + 1})
    try {
      const out = await this.client.send(
        new UpdateCommand({
          TableName: this.promptsTable,
          Key: {session_id: sessionId, seq: current.seq},
          UpdateExpression: update.expression,
          ConditionExpression: '#expectedPrompt = :expectedPrompt AND #expectedVersion = :expectedVersion',
          ExpressionAttributeNames: {...update.names, '#expectedPrompt': 'prompt_id', '#expectedVersion': 'version'},
          ExpressionAttributeValues: {...update.values, ':expectedPrompt': promptId, ':expectedVersion': expectedVersion},
          ReturnValues: 'ALL_NEW',
        }),
      )
      return fromItem(out.Attributes ?? {})
    } catch (error) {
      if (isConditionFailure(error)) throw concurrentUpdate(`Prompt ${promptId}`)
      translate(error, 'Updating the prompt')
    }
  }

  async appendEvents(promptId: string, events: ReadonlyArray<Omit<PromptEvent, 'seq'>>): Promise<PromptEvent[]> {
    return this.locks.run(`events#${promptId}`, () => this.transactEvents(promptId, events))
  }

  private async transactEvents(promptId: string, events: ReadonlyArray<Omit<PromptEvent, 'seq'>>): Promise<PromptEvent[]> {
    if (events.length === 0) return []
    for (let attempt = 1; ; attempt++) {
      const last = await this.highestSeq(this.eventsTable, 'prompt_id', promptId)
      const stored = events.map((event, index) => ({...event, seq: last + index + 1}))
      try {
        // One transaction: a concurrent append that took one of these seqs makes all of it retry.
        await this.client.send(
          new TransactWriteCommand({
            TransactItems: stored.map((event) => ({
              Put: {
                TableName: this.eventsTable,
                Item: {...eventItem(promptId, event), ttl: epochSeconds(event.at) + RETENTION_SECONDS},
                ConditionExpression: 'attribute_not_exists(seq)',
              },
            })),
          }),
        )
        return stored
      } catch (error) {
        if (!isConditionFailure(error) || attempt >= MAX_APPEND_ATTEMPTS) translate(error, 'Writing prompt events')
      }
    }
  }

  async listEvents(promptId: string, after: number, limit: number): Promise<PromptEvent[]> {
    try {
      const out = await this.client.send(
        new QueryCommand({
          TableName: this.eventsTable,
          KeyConditionExpression: 'prompt_id = :prompt AND seq > :after',
          ExpressionAttributeValues: {':prompt': promptId, ':after': after},
          ConsistentRead: true,
          Limit: limit,
        }),
      )
      return (out.Items ?? []).map(eventFromItem)
    } catch (error) {
      translate(error, 'Reading prompt events')
    }
  }

  /** The highest sort key `seq` under one partition, 0 when it is empty. */
  private async highestSeq(table: string, partitionKey: string, value: string): Promise<number> {
    const out = await this.client.send(
      new QueryCommand({
        TableName: table,
        KeyConditionExpression: '#pk = :pk',
        ExpressionAttributeNames: {'#pk': partitionKey},
        ExpressionAttributeValues: {':pk': value},
        ProjectionExpression: 'seq',
        ScanIndexForward: false,
        ConsistentRead: true,
        Limit: 1,
      }),
    )
    return Number(out.Items?.[0]?.seq ?? 0)
  }

}

/**
 * An event's `data` is kept as its JSON text (`data_json`): any JSON value the agent sends (empty
 * keys, huge numbers, deep nesting) is a plain string to DynamoDB and reads back as it was sent.
 */
function eventItem(promptId: string, event: PromptEvent): Item {
  const {data, ...rest} = event
  return {prompt_id: promptId, ...rest, ...(data === undefined ? {} : {data_json: JSON.stringify(data)})}
}

function eventFromItem(item: Item): PromptEvent {
  const event: PromptEvent = {seq: Number(item.seq), type: String(item.type), at: String(item.at)}
  if (item.text !== undefined) event.text = String(item.text)
  if (typeof item.data_json === 'string') event.data = JSON.parse(item.data_json)
  else if (item.data !== undefined) event.data = item.data // written before data_json
  return event
}
