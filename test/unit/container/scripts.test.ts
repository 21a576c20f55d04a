import {expect} from 'chai'
import {readdirSync, readFileSync, statSync} from 'node:fs'
import {join, relative} from 'node:path'

import {ROOT} from '../../helpers/cli.js'

const CONTAINER_DIR = join(ROOT, 'container')

/** Every shell script under container/: by extension or by a shell shebang (`npm run lint:shell` checks them all). */
function shellScripts(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const path = join(dir, name)
    if (statSync(path).isDirectory()) return shellScripts(path)
    if (/\.(sh|bash|bats)$/.test(name)) return [path]
    const firstLine = readFileSync(path, 'utf8').split('\n', 1)[0]
    return /^#!.*\b(ba)?sh\b/.test(firstLine) ? [path] : []
  })
}

describe('container scripts', () => {
  const scripts = shellScripts(CONTAINER_DIR)

  it('finds the workspace scripts and their tests', () => {
    const names = scripts.map((s) => relative(CONTAINER_DIR, s))
    expect(names).to.include.members(['entrypoint.sh', 'ai-workflow.sh', 'devflow-git-credential', 'lib/devflow-common.sh', 'test/ai-workflow.bats'])
  })

  it('are executable where they are entry points', () => {
    for (const name of ['entrypoint.sh', 'ai-workflow.sh', 'devflow-git-credential', 'test/fixtures/claude', 'test/fixtures/fake-api.py']) {
      expect(statSync(join(CONTAINER_DIR, name)).mode & 0o111, name).to.not.equal(0)
    }
  })
})
