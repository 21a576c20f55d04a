import {expect} from 'chai'

import {DevflowError, ExitCode} from '../../../src/core/errors.js'
import {PROMPT_STATUSES, SESSION_STATUSES} from '../../../src/core/models.js'
import {
  assertPromptTransition,
  assertSessionTransition,
  canTransitionPrompt,
  canTransitionSession,
} from '../../../src/core/state-machine.js'

describe('core/state-machine', () => {
  it('walks the session happy path', () => {
    const path = ['PENDING', 'PROVISIONING', 'RUNNING', 'STOPPING', 'STOPPED'] as const
    for (let i = 1; i < path.length; i++) expect(canTransitionSession(path[i - 1], path[i]), `${path[i - 1]} -> ${path[i]}`).to.equal(true)
  })

  it('lets every live session fail, and a terminal state only go back to PENDING (session resume)', () => {
    for (const from of SESSION_STATUSES) {
      const terminal = from === 'STOPPED' || from === 'FAILED'
      expect(canTransitionSession(from, 'FAILED'), from).to.equal(!terminal)
      if (terminal) for (const to of SESSION_STATUSES) expect(canTransitionSession(from, to), `${from} -> ${to}`).to.equal(to === 'PENDING')
    }
  })

  it('rejects going backwards with SESSION_WRONG_STATE (exit 5)', () => {
    for (const [from, to] of [['RUNNING', 'PROVISIONING'], ['STOPPED', 'RUNNING'], ['STOPPING', 'RUNNING'], ['RUNNING', 'PENDING']] as const) {
      expect(canTransitionSession(from, to)).to.equal(false)
      try {
        assertSessionTransition(from, to, 's-x')
        expect.fail('should throw')
      } catch (error) {
        const e = error as DevflowError
        expect(e.code).to.equal('SESSION_WRONG_STATE')
        expect(e.exitCode).to.equal(ExitCode.CONFLICT)
        expect(e.httpStatus).to.equal(409)
      }
    }
  })

  it('walks the prompt machine', () => {
    expect(canTransitionPrompt('QUEUED', 'RUNNING')).to.equal(true)
    expect(canTransitionPrompt('RUNNING', 'SUCCEEDED')).to.equal(true)
    expect(canTransitionPrompt('RUNNING', 'QUEUED')).to.equal(true)
    expect(canTransitionPrompt('QUEUED', 'SUCCEEDED')).to.equal(false)
    for (const terminal of ['SUCCEEDED', 'FAILED', 'CANCELLED'] as const) {
      for (const to of PROMPT_STATUSES) expect(canTransitionPrompt(terminal, to)).to.equal(false)
    }
    expect(() => assertPromptTransition('SUCCEEDED', 'RUNNING')).to.throw(DevflowError, /SUCCEEDED/)
  })
})
