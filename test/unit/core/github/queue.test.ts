import {expect} from 'chai'

import {awsPlatformConfigFromEnv} from '../../../../src/composition/aws.js'
import {LAMBDA_ENV} from '../../../../src/core/deployment.js'
import {byQueueOrder, parseMaxSessionsPerRepo, type QueuedTrigger, takeable} from '../../../../src/core/github/queue.js'
import {rejection} from '../../../helpers/assertions.js'

const item = (overrides: Partial<QueuedTrigger>): QueuedTrigger => ({
  id: 'a',
  repo: 'acme/app',
  queuedAt: '2026-03-01T10:00:00.000Z',
  updatedAt: '2026-03-01T10:00:00.000Z',
  state: 'WAITING',
  ownerId: 'github:o',
  sender: 'o',
  branch: 'main',
  source: {kind: 'github', repo: 'acme/app', issue: 1},
  prompt: 'p',
  issueNumber: 1,
  expiresAt: '2026-03-15T10:00:00.000Z',
  ...overrides,
})

describe('core/github/queue: the rules of the per-repository queue', () => {
  it('takes a WAITING item, or a STARTING one whose lease ran out; never a settled one', () => {
    const at = '2026-03-01T10:05:00.000Z'
    expect(takeable(item({}), at)).to.equal(true)
    expect(takeable(item({state: 'STARTING', leaseUntil: '2026-03-01T10:04:59.000Z'}), at)).to.equal(true)
    expect(takeable(item({state: 'STARTING', leaseUntil: '2026-03-01T10:05:01.000Z'}), at)).to.equal(false)
    for (const state of ['STARTED', 'FAILED', 'CANCELLED'] as const) expect(takeable(item({state}), at), state).to.equal(false)
    expect(takeable(undefined, at)).to.equal(false)
  })

  it('orders oldest first, the delivery id breaking ties', () => {
    const items = [item({id: 'c', queuedAt: '2026-03-01T10:00:02.000Z'}), item({id: 'b'}), item({id: 'a'})]
    expect(items.sort(byQueueOrder).map((i) => i.id)).to.deep.equal(['a', 'b', 'c'])
  })

  it('takes the limit as a whole number from 1 to 100, wherever it is given', async () => {
    expect(parseMaxSessionsPerRepo(' 5 ')).to.equal(5)
    for (const bad of ['0', '101', '2.5', 'three', '']) {
      expect(() => parseMaxSessionsPerRepo(bad), bad).to.throw('must be a whole number from 1 to 100')
    }
    const base = {[LAMBDA_ENV.cluster]: 'c', [LAMBDA_ENV.taskDefinition]: 't', [LAMBDA_ENV.subnets]: 's', [LAMBDA_ENV.githubAppSecretArn]: 'arn'}
    expect(awsPlatformConfigFromEnv({...base, [LAMBDA_ENV.githubMaxSessionsPerRepo]: '7'}).githubMaxSessionsPerRepo).to.equal(7)
    expect(awsPlatformConfigFromEnv(base)).to.not.have.property('githubMaxSessionsPerRepo')
    const error = await rejection(Promise.resolve().then(() => awsPlatformConfigFromEnv({...base, [LAMBDA_ENV.githubMaxSessionsPerRepo]: '0'})))
    expect(error.code).to.equal('INVALID_MAX_SESSIONS_PER_REPO')
  })
})
