import {expect} from 'chai'

import {REPO, usePlatform} from '../../helpers/platform-fixture.js'

describe('control plane: the reaper on moto', function () {
  this.timeout(60_000)
  const h = usePlatform()

  it('stops idle and expired sessions, stops their tasks and cancels their queued prompts, and leaves the others', async () => {
    const idle = await h.call('POST', '/sessions', {user: 'mia', body: {repo: REPO, idleTimeout: '10m', ttl: '8h'}})
    const expiring = await h.call('POST', '/sessions', {user: 'mia', body: {repo: REPO, idleTimeout: '24h', ttl: '1h'}})
    const busy = await h.call('POST', '/sessions', {user: 'mia', body: {repo: REPO, idleTimeout: '2h', ttl: '8h'}})
    const queued = await h.call('POST', `/sessions/${idle.body.id}/prompts`, {user: 'mia', body: {text: 'later'}})
    h.advance(61 * 60 * 1000)

    const report = await h.services.reapSessions()
    expect(report.failures).to.deep.equal([])
    expect(report.stopped).to.have.deep.members([
      {sessionId: idle.body.id, reason: 'IDLE'},
      {sessionId: expiring.body.id, reason: 'EXPIRED'},
    ])

    const read = async (id: string) => (await h.call('GET', `/sessions/${id}`, {user: 'mia'})).body
    expect(await read(idle.body.id)).to.deep.include({status: 'STOPPED', error: {code: 'SESSION_IDLE', message: 'The session was idle for longer than its idle timeout.'}})
    expect((await read(expiring.body.id)).error.code).to.equal('SESSION_EXPIRED')
    expect((await read(busy.body.id)).status).to.equal('PROVISIONING')
    const tasks = await h.tasks()
    const desired = (arn: string) => tasks.find((t) => t.taskArn === arn)?.desiredStatus
    expect([desired(idle.body.taskArn), desired(expiring.body.taskArn), desired(busy.body.taskArn)]).to.deep.equal(['STOPPED', 'STOPPED', 'RUNNING'])
    const prompt = await h.call('GET', `/sessions/${idle.body.id}/prompts/${queued.body.id}`, {user: 'mia'})
    expect(prompt.body).to.deep.include({status: 'CANCELLED'})
  })
})
