import {DynamoDBClient} from '@aws-sdk/client-dynamodb'
import {DynamoDBDocumentClient, GetCommand} from '@aws-sdk/lib-dynamodb'
import {expect} from 'chai'

import {DynamoUsageStore} from '../../src/adapters/aws/dynamo-usage-store.js'
import {TABLE_NAMES} from '../../src/core/deployment.js'
import {moto, stopMoto, TEST_REGION} from '../helpers/moto.js'
import {createUsageTable} from '../helpers/tables.js'
import {usageStoreContract} from './usage-store-contract.js'

// As in dynamo-store.test.ts: stop the moto_server this file's copy of the helper started.
after(() => stopMoto())

async function openClient() {
  const server = await moto()
  await server.reset()
  const client = new DynamoDBClient({region: TEST_REGION, endpoint: server.url, credentials: {accessKeyId: 'test', secretAccessKey: 'test'}, maxAttempts: 1})
  await createUsageTable(client)
  return {client, doc: DynamoDBDocumentClient.from(client, {marshallOptions: {removeUndefinedValues: true}})}
}

usageStoreContract('DynamoDB (on moto)', async () => {
  const {client, doc} = await openClient()
  return {usage: new DynamoUsageStore(doc, TABLE_NAMES.usage), cleanup: async () => client.destroy()}
})

describe('DynamoUsageStore item layout', function () {
  it('keeps one item per scope and period with snake_case number attributes', async function () {
    const {client, doc} = await openClient()
    try {
      await new DynamoUsageStore(doc, TABLE_NAMES.usage).add([{scope: 'stage', period: 'month#2026-03'}], {prompts: 1, agentUsd: 0.25})
      const {Item} = await doc.send(new GetCommand({TableName: TABLE_NAMES.usage, Key: {scope: 'stage', period: 'month#2026-03'}}))
      expect(Item).to.deep.equal({scope: 'stage', period: 'month#2026-03', prompts: 1, agent_usd: 0.25})
    } finally {
      client.destroy()
    }
  })
})
