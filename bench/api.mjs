#!/usr/bin/env node
// p50/p99 of GET /sessions/{id} through `devflow api serve` beside a raw DynamoDB GetItem of the
// same item on the same moto_server, and their ratio. Starts its own moto_server (or uses
// DEVFLOW_TEST_MOTO_URL) and the built CLI (run `npm run build` first). REQUESTS sets the count.
// The two are measured interleaved, one request of each in turn, so that both see the same
// machine (on a shared one, load that comes and goes would otherwise land on one side).
import {GetItemCommand} from '@aws-sdk/client-dynamodb'

import {SESSION_ID, startApiFixture} from './lib/api-fixture.mjs'

const requests = Number(process.env.REQUESTS ?? 300)

function percentile(samples, p) {
  const sorted = [...samples].sort((a, b) => a - b)
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))]
}

async function measure(a, b) {
  for (let i = 0; i < 20; i++) {
    await a()
    await b()
  } // warm-up
  const samples = {a: [], b: []}
  for (let i = 0; i < requests; i++) {
    for (const [fn, into] of i % 2 ? [[a, samples.a], [b, samples.b]] : [[b, samples.b], [a, samples.a]]) {
      const start = performance.now()
      await fn()
      into.push(performance.now() - start)
    }
  }
  const stats = (list) => ({p50: percentile(list, 50), p99: percentile(list, 99)})
  return [stats(samples.a), stats(samples.b)]
}

const fixture = await startApiFixture()
try {
  const {dynamo, table, url: api} = fixture
  const id = SESSION_ID

  const [viaApi, raw] = await measure(
    async () => {
      const response = await fetch(`${api}/sessions/${id}`)
      if (response.status !== 200) throw new Error(`GET /sessions/${id}: ${response.status} ${await response.text()}`)
      await response.arrayBuffer()
    },
    () => dynamo.send(new GetItemCommand({TableName: table, Key: {session_id: {S: id}}, ConsistentRead: true})),
  )
  const fmt = (t) => `p50 ${t.p50.toFixed(2)} ms  p99 ${t.p99.toFixed(2)} ms`
  console.log(`GET /sessions/{id} via api serve  ${fmt(viaApi)}`)
  console.log(`raw DynamoDB GetItem             ${fmt(raw)}`)
  console.log(`ratio                            p50 ${(viaApi.p50 / raw.p50).toFixed(2)}x  p99 ${(viaApi.p99 / raw.p99).toFixed(2)}x  (${requests} requests each)`)
} finally {
  fixture.close()
}
