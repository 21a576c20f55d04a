/**
 * schemas/*.schema.json are generated from the zod models of the commands' JSON output. This fails
 * when a model changed without regenerating (run with UPDATE_SCHEMAS=1 to rewrite the files and
 * review the diff), or when a file is there for no command. The e2e tests validate every document
 * the commands really print against these files.
 */
import {readdirSync, readFileSync, writeFileSync} from 'node:fs'

import {expect} from 'chai'

import {jsonSchemaFor, OUTPUT_SCHEMAS} from '../../../src/cli/session-schemas.js'
import {expectMatchesSchema, SCHEMA_DIR, schemaFile} from '../../helpers/output-schemas.js'
import {sampleSession} from '../../helpers/sample-session.js'

describe('cli/session-schemas: the JSON Schemas of the session commands', () => {
  for (const name of Object.keys(OUTPUT_SCHEMAS)) {
    it(`schemas/${name}.schema.json matches its model`, () => {
      const generated = `${JSON.stringify(jsonSchemaFor(name), null, 2)}\n`
      if (process.env.UPDATE_SCHEMAS === '1') writeFileSync(schemaFile(name), generated)
      expect(readFileSync(schemaFile(name), 'utf8'), 'regenerate with UPDATE_SCHEMAS=1 and review the diff').to.equal(generated)
    })
  }

  it('keeps no schema file without a command', () => {
    const files = readdirSync(SCHEMA_DIR).filter((f) => f.endsWith('.schema.json')).map((f) => f.replace(/\.schema\.json$/, ''))
    expect(files.sort()).to.deep.equal(Object.keys(OUTPUT_SCHEMAS).sort())
  })

  it('refuses documents that drifted: a missing field, a wrong status, an unknown stream line', () => {
    const session = sampleSession()
    expectMatchesSchema('session-status', session)
    const {repo: _repo, ...withoutRepo} = session
    expect(() => expectMatchesSchema('session-status', withoutRepo)).to.throw(/repo/)
    expect(() => expectMatchesSchema('session-status', {...session, status: 'SLEEPING'})).to.throw()
    expect(() => expectMatchesSchema('session-start', {...session, createdAt: 'yesterday'})).to.throw()
    expect(() => expectMatchesSchema('session-prompt-stream-line', {result: {}})).to.throw()
  })
})
