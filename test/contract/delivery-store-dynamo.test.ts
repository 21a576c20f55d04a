import {DynamoDBClient} from '@aws-sdk/client-dynamodb'
import {DynamoDBDocumentClient, GetCommand} from '@aws-sdk/lib-dynamodb'
import {expect} from 'chai'

import {DynamoDeliveryStore} from '../../src/adapters/aws/dynamo-delivery-store.js'
import {TABLE_NAMES} from '../../src/core/deployment.js'
import {deliveryClaim} from '../../src/core/github/deliveries.js'
import {moto, stopMoto, TEST_REGION} from '../helpers/moto.js'
import {createDeliveriesTable} from '../helpers/tables.js'
import {deliveryStoreContract} from './delivery-store-contract.js'

// As in dynamo-store.test.ts: stop the moto_server this file's copy of the helper started.
after(() => stopMoto())

deliveryStoreContract('DynamoDB (on moto)', async () => {
  const server = await moto()
  await server.reset()
  const client = new DynamoDBClient({region: TEST_REGION, endpoint: server.url, credentials: {accessKeyId: 'test', secretAccessKey: 'test'}, maxAttempts: 1})
  await createDeliveriesTable(client)
  const doc = DynamoDBDocumentClient.from(client, {marshallOptions: {removeUndefinedValues: true}})
  return {
    deliveries: new DynamoDeliveryStore(doc, TABLE_NAMES.githubDeliveries),
    cleanup: async () => client.destroy(),
  }
})

describe('DynamoDeliveryStore item layout', function () {
  it('writes snake_case attributes, the GSI key and the TTL in epoch seconds', async function () {
    const server = await moto()
    await server.reset()
    const client = new DynamoDBClient({region: TEST_REGION, endpoint: server.url, credentials: {accessKeyId: 'test', secretAccessKey: 'test'}, maxAttempts: 1})
    try {
      await createDeliveriesTable(client)
      const doc = DynamoDBDocumentClient.from(client, {marshallOptions: {removeUndefinedValues: true}})
      const claim = deliveryClaim({id: '72d3162e-cc78-11e3-81ab-4c9367dc0958', event: 'issues', action: 'labeled', repo: 'acme/app'}, new Date('2026-03-01T10:00:00.000Z'))
      await new DynamoDeliveryStore(doc, TABLE_NAMES.githubDeliveries).claim(claim)
      const {Item} = await doc.send(new GetCommand({TableName: TABLE_NAMES.githubDeliveries, Key: {delivery_id: claim.id}}))
      expect(Item).to.deep.include({kind: 'delivery', event: 'issues', action: 'labeled', repo: 'acme/app', status: 'PROCESSING', received_at: claim.at, ttl: Date.parse(claim.expiresAt) / 1000, attempts: 1})
    } finally {
      client.destroy()
    }
  })
})
