/**
 * A stop racing prompts (issue 11, defect 5): whatever the interleaving, no prompt stays QUEUED
 * on an ended session. Each trial sends a DELETE and several POST .../prompts at the same time
 * through the real router and the DynamoDB stores on moto.
 *
 * What it proves: the service's ordering (a prompt write conditional on the session's version and
 * status, in one TransactWriteItems; the stop cancelling open prompts after it recorded the end)
 * leaves no QUEUED prompt behind under concurrent HTTP requests. What it cannot prove: DynamoDB's
 * own isolation. moto runs a transaction's ConditionCheck and a concurrent UpdateItem without a
 * lock between them, so a pass here relies on moto's requests rarely interleaving inside one
 * call; on DynamoDB the transaction is atomic by contract. The SQLite store's guard is a real
 * transaction (test/contract).
 */
import {expect} from 'chai'

import {REPO, usePlatform} from '../../helpers/platform-fixture.js'

const TRIALS = 12
const PROMPTS_PER_TRIAL = 4
const USER = 'arn:aws:iam::123456789012:user/racer'

describe('control plane: a stop racing prompts', function () {
  this.timeout(120_000)
  const h = usePlatform()

  it(`leaves no QUEUED prompt on an ended session (${TRIALS} trials)`, async () => {
    const sessionIds: string[] = []
    let accepted = 0
    let refused = 0
    for (let trial = 0; trial < TRIALS; trial++) {
      const started = await h.call('POST', '/sessions', {user: USER, body: {repo: REPO}})
      expect(started.status, JSON.stringify(started.body)).to.equal(201)
      const id = started.body.id as string
      sessionIds.push(id)
      // The stop goes out after a varying share of the prompts, so both orders happen.
      const prompts = Array.from({length: PROMPTS_PER_TRIAL}, (_, index) =>
        h.call('POST', `/sessions/${id}/prompts`, {user: USER, body: {text: `prompt ${trial}.${index}`}}),
      )
      const stop = new Promise((resolve) => setTimeout(resolve, trial % 4)).then(() => h.call('DELETE', `/sessions/${id}`, {user: USER}))
      const [stopped, ...answers] = await Promise.all([stop, ...prompts])
      expect(stopped.status, JSON.stringify(stopped.body)).to.equal(200)
      for (const answer of answers) {
        if (answer.status === 202) accepted++
        else {
          expect(answer.status, JSON.stringify(answer.body)).to.equal(409)
          expect(answer.body.error.code).to.equal('SESSION_WRONG_STATE')
          refused++
        }
      }
    }

    const sessions = await h.scan('sessions')
    const prompts = await h.scan('prompts')
    for (const id of sessionIds) {
      expect(sessions.find((s) => s.session_id === id)?.status).to.equal('STOPPED')
      const left = prompts.filter((p) => p.session_id === id && p.status === 'QUEUED')
      expect(left, `QUEUED prompts left on STOPPED session ${id}`).to.deep.equal([])
    }
    // Every accepted prompt was cancelled by the stop, with the reason.
    const ours = prompts.filter((p) => sessionIds.includes(String(p.session_id)))
    expect(ours).to.have.length(accepted)
    for (const p of ours) expect(p).to.deep.include({status: 'CANCELLED', error: {code: 'SESSION_ENDED', message: 'The session was stopped before the prompt finished.'}})
    expect(accepted + refused).to.equal(TRIALS * PROMPTS_PER_TRIAL)
  })
})
