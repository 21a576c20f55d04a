import {execFileSync} from 'node:child_process'
import {mkdir, mkdtemp, readFile, rm, stat, writeFile} from 'node:fs/promises'
import type {IncomingMessage} from 'node:http'
import {existsSync} from 'node:fs'
import {homedir, tmpdir} from 'node:os'
import {dirname, join} from 'node:path'

import {expect} from 'chai'

import {LocalPullRequestOpener, LocalTokenIssuer} from '../../../src/adapters/local/github.js'
import {LocalRepoRegistry, looksLikeLocalPath} from '../../../src/adapters/local/repo-registry.js'
import {openLocalDatabase} from '../../../src/adapters/local/sqlite-store.js'
import {DevflowError} from '../../../src/core/errors.js'
import {localIdentify} from '../../../src/api/local-token.js'
import {ensureToken} from '../../../src/operations/local-platform.js'
import {LocalPaths} from '../../../src/adapters/local/paths.js'
import {claudeApiKey, getLocalSecret, setLocalSecret} from '../../../src/adapters/local/secret-file.js'
import {rejection} from '../../helpers/assertions.js'


function request(authorization?: string): IncomingMessage {
  return {headers: authorization === undefined ? {} : {authorization}} as IncomingMessage
}

describe('local platform rules', function () {
  let dir: string

  beforeEach(async function () {
    dir = await mkdtemp(join(tmpdir(), 'devflow-local-unit-'))
  })

  afterEach(async function () {
    await rm(dir, {recursive: true, force: true})
  })

  describe('localIdentify', function () {
    it('accepts exactly the local token as the local user', async function () {
      const identify = localIdentify('secret-token')
      expect((await identify(request('Bearer secret-token')))?.userArn).to.match(/^local:.+/)
      expect(await identify(request('Bearer secret-tokeN'))).to.equal(undefined)
      expect(await identify(request('Bearer secret'))).to.equal(undefined)
      expect(await identify(request('secret-token'))).to.equal(undefined)
      expect(await identify(request())).to.equal(undefined)
    })
  })

  describe('local secrets', function () {
    it('keeps the Claude API key in an owner-only file; the environment wins', async function () {
      expect(claudeApiKey(dir, {})).to.equal(undefined)
      setLocalSecret(dir, 'claude-api-key', ' sk-ant-stored \n')
      expect(getLocalSecret(dir, 'claude-api-key')).to.equal('sk-ant-stored')
      expect((await stat(join(dir, 'secrets.json'))).mode & 0o777).to.equal(0o600)
      expect(claudeApiKey(dir, {})).to.equal('sk-ant-stored')
      expect(claudeApiKey(dir, {ANTHROPIC_API_KEY: 'sk-ant-env'})).to.equal('sk-ant-env')
    })

    it('refuses unknown names and empty values', async function () {
      expect(() => setLocalSecret(dir, 'github-app', 'x')).to.throw(DevflowError).with.property('code', 'UNKNOWN_SECRET')
      expect(() => setLocalSecret(dir, 'claude-api-key', '  ')).to.throw(DevflowError).with.property('code', 'SECRET_EMPTY')
    })
  })

  describe('LocalRepoRegistry', function () {
    it('tells local paths from GitHub references', function () {
      for (const path of ['/srv/app', './app', '../app', '~/app', 'file:///srv/app']) expect(looksLikeLocalPath(path), path).to.equal(true)
      for (const ref of ['octocat/hello', 'https://github.com/octocat/hello', 'git@github.com:octocat/hello.git']) expect(looksLikeLocalPath(ref), ref).to.equal(false)
    })

    it('registers a repository under local/<name> once, clones it in place, and keeps names unique', async function () {
      const db = openLocalDatabase(join(dir, 'db'))
      const registry = new LocalRepoRegistry(db, join(dir, 'repos'))
      const first = join(dir, 'a', 'app.git')
      const second = join(dir, 'b', 'app')
      execFileSync('git', ['init', '--quiet', '--bare', first])
      execFileSync('git', ['init', '--quiet', second])

      expect(registry.register(first, '/')).to.equal('local/app')
      expect(registry.register(`file://${first}`, '/')).to.equal('local/app')
      expect(registry.register(second, '/')).to.equal('local/app-2')
      expect(registry.cloneUrlOf('local/app')).to.equal(first)
      expect(registry.cloneUrlOf('local/app-2')).to.equal(second)
      expect(registry.cloneUrlOf('octocat/app')).to.equal(undefined)
      db.close()
    })

    it('imports a plain directory as a snapshot repository', async function () {
      const db = openLocalDatabase(join(dir, 'db'))
      const registry = new LocalRepoRegistry(db, join(dir, 'repos'))
      const project = join(dir, 'project')
      await mkdir(project)
      await writeFile(join(project, 'index.js'), 'console.log(1)\n')
      expect(registry.register(project, '/')).to.equal('local/project')
      const snapshot = registry.cloneUrlOf('local/project') as string
      expect(snapshot).to.equal(join(dir, 'repos', 'project.git'))
      // The copy runs in the background; a session waits for it (import-gated-runtime.ts).
      const pending = registry.pendingImport('local/project')
      expect(pending).to.be.instanceOf(Promise)
      await pending
      expect(registry.pendingImport('local/project')).to.equal(undefined)
      expect(execFileSync('git', ['--git-dir', snapshot, 'show', 'main:index.js'], {encoding: 'utf8'})).to.equal('console.log(1)\n')
      // Registered once: the same path again neither copies nor waits.
      expect(registry.register(project, '/')).to.equal('local/project')
      expect(registry.pendingImport('local/project')).to.equal(undefined)
      db.close()
    })

    it('an import that fails in the background rejects with why, removes its copy and unregisters the name', async function () {
      const db = openLocalDatabase(join(dir, 'db'))
      const registry = new LocalRepoRegistry(db, join(dir, 'repos'))
      const project = join(dir, 'project')
      await mkdir(project)
      await writeFile(join(project, 'index.js'), 'console.log(1)\n')
      // A stale index lock in the snapshot repository: git refuses to add (even as root).
      await mkdir(join(dir, 'repos', 'project.git'), {recursive: true})
      await writeFile(join(dir, 'repos', 'project.git', 'snapshot-index.lock'), '')
      expect(registry.register(project, '/')).to.equal('local/project')
      const failure = await registry.pendingImport('local/project')?.then(
        () => undefined,
        (error: unknown) => error as DevflowError,
      )
      expect(failure?.code).to.equal('REPO_SNAPSHOT_FAILED')
      expect(failure?.message).to.include('snapshot-index.lock')
      expect(existsSync(join(dir, 'repos', 'project.git'))).to.equal(false)
      expect(registry.cloneUrlOf('local/project')).to.equal(undefined)
      expect(registry.pendingImport('local/project')).to.equal(undefined)
      // The lock is gone with the copy: the next start imports again, and succeeds.
      expect(registry.register(project, '/')).to.equal('local/project')
      await registry.pendingImport('local/project')
      expect(execFileSync('git', ['--git-dir', join(dir, 'repos', 'project.git'), 'show', 'main:index.js'], {encoding: 'utf8'})).to.equal('console.log(1)\n')
      db.close()
    })

    it('refuses /, the home directory and what lies above it (REPO_PATH_TOO_BROAD)', async function () {
      const db = openLocalDatabase(join(dir, 'db'))
      const registry = new LocalRepoRegistry(db, join(dir, 'repos'))
      for (const path of ['/', homedir(), dirname(homedir()), 'file:///', '~']) {
        expect(() => registry.register(path, '/'), path).to.throw(DevflowError).with.property('code', 'REPO_PATH_TOO_BROAD')
      }
      expect(registry.cloneUrlOf('local/local')).to.equal(undefined)
      db.close()
    })

    it('refuses to import a directory over the file-count or size limit, leaving nothing behind (REPO_IMPORT_TOO_LARGE)', async function () {
      const db = openLocalDatabase(join(dir, 'db'))
      const project = join(dir, 'big')
      await mkdir(project)
      for (let i = 0; i < 5; i++) await writeFile(join(project, `f${i}.txt`), 'x'.repeat(1000))
      const byCount = new LocalRepoRegistry(db, join(dir, 'repos'), {maxFiles: 4, maxBytes: 1_000_000})
      const count = (() => {
        try {
          byCount.register(project, '/')
        } catch (error) {
          return error as DevflowError
        }
      })()
      expect(count?.code).to.equal('REPO_IMPORT_TOO_LARGE')
      expect(count?.message).to.include('more than 4 files')
      expect(count?.hint).to.include('git init')
      const bySize = new LocalRepoRegistry(db, join(dir, 'repos'), {maxFiles: 100, maxBytes: 4000})
      expect(() => bySize.register(project, '/')).to.throw(DevflowError).with.property('code', 'REPO_IMPORT_TOO_LARGE')
      expect(existsSync(join(dir, 'repos', 'big.git'))).to.equal(false)
      expect(bySize.cloneUrlOf('local/big')).to.equal(undefined)
      // What .gitignore keeps out does not count.
      await writeFile(join(project, '.gitignore'), 'f[0-3].txt\n')
      expect(byCount.register(project, '/')).to.equal('local/big')
      await byCount.pendingImport('local/big')
      db.close()
    })

    it('refuses a path that does not exist', async function () {
      const db = openLocalDatabase(join(dir, 'db'))
      const registry = new LocalRepoRegistry(db, join(dir, 'repos'))
      expect(() => registry.register(join(dir, 'missing'), '/')).to.throw(DevflowError).with.property('code', 'REPO_PATH_NOT_FOUND')
      db.close()
    })
  })

  describe('local GitHub adapters', function () {
    const options = {isLocalRepo: (repo: string) => repo.startsWith('local/')}

    it('needs no token for a repository on this machine, and names the fix for a GitHub one', async function () {
      const issuer = new LocalTokenIssuer(options)
      expect((await issuer.mintRepoToken({owner: 'local', name: 'app', fullName: 'local/app'})).token).to.be.a('string')
      const error = await rejection(issuer.mintRepoToken({owner: 'octocat', name: 'hello', fullName: 'octocat/hello'}))
      expect(error.code).to.equal('GITHUB_TOKEN_MISSING')
      expect(error.hint).to.include('GITHUB_TOKEN')
    })

    it('explains that a local repository has no pull requests', async function () {
      const opener = new LocalPullRequestOpener(options)
      const error = await rejection(opener.open({repo: {owner: 'local', name: 'app', fullName: 'local/app'}, head: 'devflow/s-x', base: 'main', title: 't', body: 'b', draft: true}))
      expect(error.code).to.equal('PR_NOT_SUPPORTED_FOR_LOCAL_REPO')
      expect(error.message).to.include('devflow/s-x')
    })
  })

  it('never leaves the token readable by others', async function () {
    const paths = new LocalPaths(join(dir, 'data'))
    const token = ensureToken(paths)
    expect(token).to.match(/^[\w-]{43}$/)
    expect((await stat(paths.token)).mode & 0o777).to.equal(0o600)
    expect(ensureToken(paths)).to.equal(token)
    expect((await readFile(paths.token, 'utf8')).trim()).to.equal(token)
  })

  it('makes the data dir owner-only (0700) and the database 0600, even when they existed wider', async function () {
    const paths = new LocalPaths(join(dir, 'data'))
    await mkdir(paths.dataDir, {mode: 0o755})
    await writeFile(paths.log, '', {mode: 0o644})
    ensureToken(paths)
    expect((await stat(paths.dataDir)).mode & 0o777).to.equal(0o700)
    expect((await stat(paths.log)).mode & 0o777).to.equal(0o600)
    const db = openLocalDatabase(paths.database)
    db.close()
    expect((await stat(paths.database)).mode & 0o777).to.equal(0o600)
  })
})
