/**
 * UsageStore on DynamoDB: table `devflow-usage`, PK `scope`, SK `period` (src/core/usage-ledger.ts).
 * An add is one UpdateItem per item with `ADD`, which DynamoDB applies atomically and which
 * creates the item (and each figure) at zero first; figures are DynamoDB numbers (exact decimals).
 * Adds to one item from this process go one at a time (ItemLocks): moto_server applies concurrent
 * ADDs to one item non-atomically (it lost 3 of 25 in the contract test), DynamoDB does not.
 */
import {type DynamoDBDocumentClient, GetCommand, QueryCommand, UpdateCommand} from '@aws-sdk/lib-dynamodb'

import type {UsageStore} from '../../core/ports.js'
import {type UsageDelta, type UsageFigures, type UsageItemKey, type UsageRow, withTotal, ZERO_USAGE} from '../../core/usage-ledger.js'
import {type Item, ItemLocks, translate} from './dynamo-common.js'

const FIGURES = {sessions: 'sessions', hours: 'hours', prompts: 'prompts', computeUsd: 'compute_usd', agentUsd: 'agent_usd'} as const

function figuresOf(item: Item | undefined): UsageFigures {
  if (!item) return ZERO_USAGE
  const value = (attribute: string) => Number(item[attribute] ?? 0)
  return withTotal({sessions: value(FIGURES.sessions), hours: value(FIGURES.hours), prompts: value(FIGURES.prompts), computeUsd: value(FIGURES.computeUsd), agentUsd: value(FIGURES.agentUsd)})
}

export class DynamoUsageStore implements UsageStore {
  private readonly locks = new ItemLocks()

  constructor(
    private readonly client: DynamoDBDocumentClient,
    private readonly tableName: string,
  ) {}

  async add(items: readonly UsageItemKey[], delta: UsageDelta): Promise<void> {
    const figures = (Object.keys(FIGURES) as Array<keyof typeof FIGURES>).filter((key) => (delta[key] ?? 0) !== 0)
    if (figures.length === 0) return
    const names = Object.fromEntries(figures.map((key) => [`#${key}`, FIGURES[key]]))
    const values = Object.fromEntries(figures.map((key) => [`:${key}`, delta[key]]))
    for (const item of items) {
      await this.locks.run(`${item.scope}\n${item.period}`, async () => {
        try {
          await this.client.send(
            new UpdateCommand({
              TableName: this.tableName,
              Key: {scope: item.scope, period: item.period},
              UpdateExpression: `ADD ${figures.map((key) => `#${key} :${key}`).join(', ')}`,
              ExpressionAttributeNames: names,
              ExpressionAttributeValues: values,
            }),
          )
        } catch (error) {
          translate(error, 'Recording usage')
        }
      })
    }
  }

  async get(item: UsageItemKey): Promise<UsageFigures> {
    try {
      const out = await this.client.send(new GetCommand({TableName: this.tableName, Key: {scope: item.scope, period: item.period}, ConsistentRead: true}))
      return figuresOf(out.Item)
    } catch (error) {
      translate(error, 'Reading usage')
    }
  }

  async range(scope: string, from: string, to: string): Promise<UsageRow[]> {
    const rows: UsageRow[] = []
    let start: Record<string, unknown> | undefined
    try {
      do {
        const out = await this.client.send(
          new QueryCommand({
            TableName: this.tableName,
            KeyConditionExpression: '#scope = :scope AND #period BETWEEN :from AND :to',
            ExpressionAttributeNames: {'#scope': 'scope', '#period': 'period'},
            ExpressionAttributeValues: {':scope': scope, ':from': from, ':to': to},
            ExclusiveStartKey: start,
          }),
        )
        for (const item of out.Items ?? []) rows.push({scope, period: String(item.period), ...figuresOf(item)})
        start = out.LastEvaluatedKey
      } while (start)
    } catch (error) {
      translate(error, 'Reading usage')
    }
    return rows
  }
}
