import {expect} from 'chai'

import {DevflowError, ExitCode} from '../../../src/core/errors.js'
import {
  formatDuration,
  parseBranchName,
  parseCpu,
  parseDuration,
  parseMemory,
  parseRepoRef,
  parseSessionId,
  validateCapacity,
} from '../../../src/core/validation.js'
import {randomIds, sessionIdForIdempotencyKey} from '../../../src/core/ids.js'

function expectInvalid(fn: () => unknown, code: string): DevflowError {
  try {
    fn()
  } catch (error) {
    expect(error).to.be.instanceOf(DevflowError)
    const e = error as DevflowError
    expect(e.code).to.equal(code)
    expect(e.exitCode).to.equal(ExitCode.USAGE)
    expect(e.hint).to.not.equal('')
    return e
  }
  throw new Error(`expected ${code}`)
}

describe('core/validation', () => {
  describe('parseRepoRef', () => {
    it('accepts owner/name and normalises URLs', () => {
      expect(parseRepoRef('octocat/hello-world').fullName).to.equal('octocat/hello-world')
      expect(parseRepoRef('https://github.com/octocat/Hello.World.git').fullName).to.equal('octocat/Hello.World')
      expect(parseRepoRef('git@github.com:my-org/repo_1.git').fullName).to.equal('my-org/repo_1')
      expect(parseRepoRef('a/b').owner).to.equal('a')
    })
    for (const bad of ['', 'octocat', 'a/b/c', '-owner/repo', 'owner-/repo', 'ow--ner/repo', 'owner/re po', 'owner/..', `${'a'.repeat(40)}/repo`, `owner/${'r'.repeat(101)}`, 'own_er/repo']) {
      it(`rejects ${JSON.stringify(bad)}`, () => {
        expectInvalid(() => parseRepoRef(bad), 'INVALID_REPO')
      })
    }
  })

  describe('parseBranchName', () => {
    for (const good of ['main', 'feature/login', 'release-1.2', 'a.b/c_d', 'devflow/s-abc']) {
      it(`accepts ${good}`, () => expect(parseBranchName(good)).to.equal(good))
    }
    for (const bad of ['', 'a..b', 'a b', 'a~1', 'a^', 'a:b', 'a?', 'a*', 'a[b', 'a\\b', '/a', 'a/', 'a//b', 'a.', '.a', 'a/.b', 'a.lock', 'a/b.lock/c', '@', 'a@{1}', '-x', 'tab\tx']) {
      it(`rejects ${JSON.stringify(bad)}`, () => {
        expectInvalid(() => parseBranchName(bad), 'INVALID_BRANCH')
      })
    }
  })

  describe('session ids', () => {
    it('generates ids that parse', () => {
      const id = randomIds.sessionId()
      expect(parseSessionId(id)).to.equal(id)
      expect(randomIds.sessionId()).to.not.equal(id)
    })
    it('maps an idempotency key to a stable id per user', () => {
      const a = sessionIdForIdempotencyKey('alice', 'k1')
      expect(parseSessionId(a)).to.equal(a)
      expect(sessionIdForIdempotencyKey('alice', 'k1')).to.equal(a)
      expect(sessionIdForIdempotencyKey('bob', 'k1')).to.not.equal(a)
      expect(sessionIdForIdempotencyKey('alice', 'k2')).to.not.equal(a)
    })
    it('rejects malformed ids', () => {
      expectInvalid(() => parseSessionId('s-123'), 'INVALID_SESSION_ID')
      expectInvalid(() => parseSessionId('../etc/passwd'), 'INVALID_SESSION_ID')
    })
  })

  describe('capacity', () => {
    it('accepts vCPUs and CPU units', () => {
      expect(parseCpu('0.25')).to.equal(256)
      expect(parseCpu('2')).to.equal(2048)
      expect(parseCpu(4096)).to.equal(4096)
    })
    it('rejects sizes Fargate does not have', () => {
      expectInvalid(() => parseCpu('3'), 'INVALID_CPU')
      expectInvalid(() => parseCpu('abc'), 'INVALID_CPU')
    })
    it('parses memory in MiB or GB', () => {
      expect(parseMemory('4096')).to.equal(4096)
      expect(parseMemory('4GB')).to.equal(4096)
      expect(parseMemory('0.5GiB')).to.equal(512)
      expectInvalid(() => parseMemory('lots'), 'INVALID_MEMORY')
    })
    it('accepts only the pairs Fargate accepts and says which would fit', () => {
      expect(validateCapacity(1024, 2048)).to.deep.equal({cpu: 1024, memory: 2048})
      expect(validateCapacity(256, 512)).to.deep.equal({cpu: 256, memory: 512})
      expect(validateCapacity(16_384, 122_880).memory).to.equal(122_880)
      const error = expectInvalid(() => validateCapacity(256, 4096), 'INVALID_CAPACITY')
      expect(error.hint).to.contain('512, 1024, 2048')
      expectInvalid(() => validateCapacity(4096, 9000), 'INVALID_CAPACITY')
    })
  })

  describe('durations', () => {
    it('parses and formats', () => {
      expect(parseDuration('30m')).to.equal(1800)
      expect(parseDuration('4h')).to.equal(14_400)
      expect(parseDuration('1h30m')).to.equal(5400)
      expect(parseDuration('2d')).to.equal(172_800)
      expect(formatDuration(5400)).to.equal('1h30m')
      expect(formatDuration(90)).to.equal('1m30s')
    })
    for (const bad of ['', '30', 'm', '4 hours', '-1h', '0m', '1.5h']) {
      it(`rejects ${JSON.stringify(bad)}`, () => {
        expectInvalid(() => parseDuration(bad), 'INVALID_DURATION')
      })
    }
  })
})
