/**
 * The stage's repository allow-list (issue 11, defect 8), checked on start before anything is
 * minted, written or started, with the error a user can act on.
 */
import {expect} from 'chai'

import {REPO, usePlatform} from '../../helpers/platform-fixture.js'

const ALICE = 'arn:aws:sts::123456789012:assumed-role/Dev/alice@example.com'
const BOB = 'arn:aws:iam::123456789012:user/bob'

describe('control plane: the repository allow-list', function () {
  this.timeout(60_000)
  const h = usePlatform()
  afterEach(() => h.rewire(() => ({})))

  it('starts only on listed repositories, per principal pattern; a refusal leaves nothing behind', async () => {
    h.rewire((deps) => ({settings: {...deps.settings, repositoryAccess: {default: ['octo/docs'], principals: {'arn:aws:sts::123456789012:assumed-role/Dev/*': ['octo/*']}}}}))
    const [tasks, sessions, tokens] = [(await h.tasks()).length, (await h.scan('sessions')).length, h.github.issuedTokens.length]

    const refused = await h.call('POST', '/sessions', {user: BOB, body: {repo: REPO}})
    expect(refused.status).to.equal(403)
    expect(refused.body.error).to.include({code: 'REPOSITORY_NOT_ALLOWED'})
    expect(refused.body.error.message).to.include(`${REPO} is not on this stage's repository allow-list for you (allowed: octo/docs)`)
    expect(refused.body.error.hint).to.include(`"${REPO}"`).and.to.include('devflow:repositories').and.to.include('DEVFLOW_REPOSITORIES')
    expect((await h.tasks()).length).to.equal(tasks)
    expect((await h.scan('sessions')).length).to.equal(sessions)
    expect(h.github.issuedTokens.length, 'no token minted for a refused repository').to.equal(tokens)

    const allowed = await h.call('POST', '/sessions', {user: ALICE, body: {repo: REPO}})
    expect(allowed.status, JSON.stringify(allowed.body)).to.equal(201)
    await h.call('DELETE', `/sessions/${allowed.body.id}`, {user: ALICE})
  })

  it('allows nothing when the stage lists nothing (the default)', async () => {
    h.rewire((deps) => ({settings: {...deps.settings, repositoryAccess: {default: []}}}))
    const refused = await h.call('POST', '/sessions', {user: ALICE, body: {repo: REPO}})
    expect(refused.status).to.equal(403)
    expect(refused.body.error.message).to.include('(the list is empty)')
  })
})
