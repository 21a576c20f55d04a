import {DynamoDBClient} from '@aws-sdk/client-dynamodb'
import {DynamoDBDocumentClient} from '@aws-sdk/lib-dynamodb'
import {randomUUID} from 'node:crypto'
import {expect} from 'chai'

import {DynamoDeliveryStore} from '../../src/adapters/aws/dynamo-delivery-store.js'
import {DynamoTriggerQueue} from '../../src/adapters/aws/dynamo-trigger-queue.js'
import {TABLE_NAMES} from '../../src/core/deployment.js'
import {deliveryClaim} from '../../src/core/github/deliveries.js'
import {moto, stopMoto, TEST_REGION} from '../helpers/moto.js'
import {createDeliveriesTable} from '../helpers/tables.js'
import {triggerQueueContract} from './trigger-queue-contract.js'

after(() => stopMoto())

async function openTable() {
  const server = await moto()
  await server.reset()
  const client = new DynamoDBClient({region: TEST_REGION, endpoint: server.url, credentials: {accessKeyId: 'test', secretAccessKey: 'test'}, maxAttempts: 1})
  await createDeliveriesTable(client)
  return {client, doc: DynamoDBDocumentClient.from(client, {marshallOptions: {removeUndefinedValues: true}})}
}

triggerQueueContract('DynamoDB (on moto, items of the deliveries table)', async () => {
  const {client, doc} = await openTable()
  return {queue: new DynamoTriggerQueue(doc, TABLE_NAMES.githubDeliveries), cleanup: async () => client.destroy()}
})

describe('DynamoTriggerQueue beside the deliveries', function () {
  it('keeps its items out of the last deliveries', async function () {
    const {client, doc} = await openTable()
    try {
      const deliveries = new DynamoDeliveryStore(doc, TABLE_NAMES.githubDeliveries)
      const queue = new DynamoTriggerQueue(doc, TABLE_NAMES.githubDeliveries)
      const id = randomUUID()
      await deliveries.claim(deliveryClaim({id, event: 'issues', action: 'labeled', repo: 'acme/app'}, new Date('2026-03-01T10:00:00.000Z')))
      await queue.enqueue({id, repo: 'acme/app', queuedAt: '2026-03-01T10:00:01.000Z', ownerId: 'github:o', sender: 'o', branch: 'main', source: {kind: 'github', repo: 'acme/app', issue: 1}, prompt: 'p', issueNumber: 1})
      await queue.lock('acme/app', 'drain', '2026-03-01T10:00:01.000Z', '2026-03-01T10:02:01.000Z')
      expect((await deliveries.recent(10)).map((d) => d.id)).to.deep.equal([id])
      expect((await queue.get(id))?.state).to.equal('WAITING')
      expect((await deliveries.get(id))?.status).to.equal('PROCESSING')
    } finally {
      client.destroy()
    }
  })
})
