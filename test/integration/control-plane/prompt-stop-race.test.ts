/**
 * A stop racing prompts (issue 11, defect 5): whatever the interleaving, no prompt stays QUEUED
 * on an ended session. Each trial sends a DELETE and several POST .../prompts at the same time
 * through the real router and the DynamoDB stores on moto.
 *
 * What it proves: under concurrent HTTP requests no QUEUED prompt is left behind, because the two
 * sides check each other in order: the stop records the end and then cancels the open prompts it
 * lists; the enqueue writes its prompt and then re-reads the session, cancelling its own prompt
 * (and answering 409) when the session ended meanwhile. One of the two always sees the other,
 * given that each single-item write and strongly consistent read is atomic, as on DynamoDB and,
 * per request, on moto. (A TransactWriteItems with a ConditionCheck on the session was tried
 * instead: moto rolls a failed transaction back by restoring a copy of its tables, which undid
 * concurrent writes such as the stop itself, so the test could not rely on it.) Without the
 * re-read this test fails within a few trials.
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
    // Every prompt written was cancelled, by the stop or by the enqueue that saw the stop, with the reason.
    const ours = prompts.filter((p) => sessionIds.includes(String(p.session_id)))
    expect(ours.length).to.be.at.least(accepted)
    for (const p of ours) {
      expect(p.status).to.equal('CANCELLED')
      expect(p.error).to.deep.include({code: 'SESSION_ENDED'})
    }
    expect(accepted + refused).to.equal(TRIALS * PROMPTS_PER_TRIAL)
  })
})
