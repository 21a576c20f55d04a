import {expect} from 'chai'

import type {Prompt, Session} from '../../../src/core/models.js'
import {eventLine, promptResult, sessionDetail, sessionsTable} from '../../../src/cli/session-format.js'

const now = new Date('2026-01-01T12:00:00.000Z')
const session = (overrides: Partial<Session> = {}): Session => ({
  id: 's-abcdefghijklmnopqrst',
  userId: 'arn:aws:iam::1:user/alice',
  repo: 'octo/hello',
  branch: 'main',
  status: 'RUNNING',
  capacity: 'FARGATE_SPOT',
  cpu: 1024,
  memory: 4096,
  createdAt: '2026-01-01T11:55:00.000Z',
  updatedAt: '2026-01-01T11:55:00.000Z',
  expiresAt: '2026-01-01T15:55:00.000Z',
  idleTimeout: '30m',
  cost: {computeUsd: 0.0049, agentUsd: 0.0123, totalUsd: 0.0172},
  ...overrides,
})

describe('cli/session-format', () => {
  it('says whether the session came from the warm pool and how long it took to be RUNNING', () => {
    const line = (s: Session) => sessionDetail(s, {now, color: false}).split('\n').find((l) => l.startsWith('Started'))
    expect(line(session({warm: true, timeToRunningMs: 2310}))).to.match(/^Started:\s+from the warm pool, RUNNING after 2310 ms$/)
    expect(line(session({timeToRunningMs: 48_250}))).to.match(/^Started:\s+cold \(a new task\), RUNNING after 48\.3 s$/)
    expect(line(session())).to.equal(undefined)
  })

  it('aligns the session table with relative times, and no colour when off', () => {
    const text = sessionsTable(
      [session(), session({id: 's-bbbbbbbbbbbbbbbbbbbb', repo: 'octo/a-much-longer-name', status: 'STOPPED', cpu: 256, memory: 512, budgetUsd: 5, paused: true})],
      {now, color: false},
    )
    expect(text.split('\n')).to.deep.equal([
      'ID                      REPO                     BRANCH  STATUS   SIZE              COST                CREATED        EXPIRES',
      's-abcdefghijklmnopqrst  octo/hello               main    RUNNING  1 vCPU/4 GB       $0.02               5 minutes ago  in 3 hours',
      's-bbbbbbbbbbbbbbbbbbbb  octo/a-much-longer-name  main    STOPPED  0.25 vCPU/512 MB  $0.02/$5.00 paused  5 minutes ago  -',
    ])
    expect(text).to.not.include('\u001B[')
  })

  it('colours the status only when asked, and shows the owner column only for several owners', () => {
    const coloured = sessionsTable([session(), session({userId: 'bob', status: 'FAILED'})], {now, color: true})
    expect(coloured).to.include('\u001B[32mRUNNING\u001B[39m').and.to.include('\u001B[31mFAILED\u001B[39m')
    expect(coloured.split('\n')[0]).to.include('USER')
    expect(sessionsTable([session()], {now, color: false}).split('\n')[0]).to.not.include('USER')
    expect(sessionsTable([], {now, color: false})).to.equal('No sessions.')
  })

  it('describes one session and a prompt result', () => {
    const detail = sessionDetail(session({error: {code: 'TASK_STOPPED', message: 'Essential container exited'}}), {now, color: false})
    expect(detail).to.match(/^Session:\s+s-abcdefghijklmnopqrst$/m)
    expect(detail).to.match(/^Created:\s+5 minutes ago \(2026-01-01T11:55:00.000Z\)$/m)
    expect(detail).to.match(/^Error:\s+TASK_STOPPED: Essential container exited$/m)
    expect(detail).to.not.match(/^Task:/m)
    const prompt: Prompt = {
      id: 'p-abcdefghijklmnopqrst',
      sessionId: 's-abcdefghijklmnopqrst',
      seq: 2,
      text: 'do it',
      status: 'SUCCEEDED',
      pr: 'draft',
      createdAt: now.toISOString(),
      updatedAt: now.toISOString(),
      attempt: 1,
      result: {summary: 'Done.', commit: 'abc1234', prUrl: 'https://github.com/o/r/pull/3', costUsd: 0.5},
    }
    const result = promptResult(prompt, {color: false})
    expect(result).to.match(/^Pull request:\s+https:\/\/github.com\/o\/r\/pull\/3$/m).and.to.match(/^Cost:\s+\$0\.50$/m)
    expect(eventLine({seq: 1, type: 'tool', text: 'edit a.ts', at: now.toISOString()}, false)).to.equal('tool       edit a.ts')
    expect(eventLine({seq: 2, type: 'usage', data: {turns: 2}, at: now.toISOString()}, false)).to.equal('usage      {"turns":2}')
  })
})
