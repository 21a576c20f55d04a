/**
 * `devflow synth` as a process: the stage's template written to --out, no AWS call, no bundling
 * (the functions' code is the dist/lambda asset `npm run build` made). Apart from
 * test/e2e/deploy.test.ts so that the two run side by side under `npm test`.
 */
import {readdir} from 'node:fs/promises'
import {join} from 'node:path'

import {expect} from 'chai'

import {CliSandbox} from '../helpers/cli.js'

describe('e2e: devflow synth', function () {
  this.timeout(240_000)
  let cli: CliSandbox

  before(async () => {
    cli = await CliSandbox.create()
  })
  after(() => cli.cleanup())

  it('synth writes the stage\'s template; under --json stdout is one document and stderr stays empty', async () => {
    const out = join(cli.home, 'synth-out')
    const json = await cli.run(['synth', '--stage', 'prod', '--out', out, '--json'], {timeout: 120_000})
    expect(json.exitCode, json.stderr).to.equal(0)
    expect(json.json()).to.deep.equal({outDir: out, stacks: ['devflow-prod']})
    expect(json.stderr).to.equal('')
    expect(await readdir(out)).to.include('Devflow-prod.template.json')
    const human = await cli.run(['synth', '--stage', 'prod', '--out', out], {timeout: 120_000})
    expect(human.exitCode, human.stderr).to.equal(0)
    // The functions' code is the dist/lambda asset `npm run build` made: synth bundles nothing.
    expect(human.stderr).not.to.match(/Bundling asset/)
    expect(human.stdout).to.equal(`Wrote devflow-prod to ${out}\n`)
  })
})
