/**
 * Validates what a command printed against the JSON Schema kept in schemas/ (the published
 * contract, not the zod model it was generated from), with ajv in strict draft 2020-12 mode.
 */
import {readFileSync} from 'node:fs'
import {join} from 'node:path'

import {expect} from 'chai'
import {Ajv2020} from 'ajv/dist/2020.js'
import addFormats from 'ajv-formats'

import {ROOT} from './cli.js'

export const SCHEMA_DIR = join(ROOT, 'schemas')

const ajv = new Ajv2020({allErrors: true, strict: true})
;(addFormats as unknown as (a: Ajv2020) => void)(ajv)
const compiled = new Map<string, ReturnType<Ajv2020['compile']>>()

export function schemaFile(name: string): string {
  return join(SCHEMA_DIR, `${name}.schema.json`)
}

export function expectMatchesSchema(name: string, document: unknown): void {
  let validate = compiled.get(name)
  if (!validate) {
    validate = ajv.compile(JSON.parse(readFileSync(schemaFile(name), 'utf8')) as object)
    compiled.set(name, validate)
  }
  const ok = validate(document)
  expect(ok, `${name}: ${ajv.errorsText(validate.errors)}\n${JSON.stringify(document)}`).to.equal(true)
}
