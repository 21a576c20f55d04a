import {expect} from 'chai'
import {readFile} from 'node:fs/promises'
import {join} from 'node:path'

import {ExitCode} from '../../../src/core/errors.js'
import {ROOT} from '../../helpers/cli.js'

describe('README', () => {
  it('documents exactly the exit codes of the code table', async () => {
    const readme = await readFile(join(ROOT, 'README.md'), 'utf8')
    const section = readme.split('## Exit codes')[1].split('\n## ')[0]
    const documented = [...section.matchAll(/^\| (\d+) \|/gm)].map((m) => Number(m[1]))
    expect(documented).to.deep.equal(Object.values(ExitCode))
  })
})
