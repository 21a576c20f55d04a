import type {z} from 'zod'

import {invalidInput} from '../errors.js'

/** Parses a request body with its zod schema; the first problem becomes an INVALID_REQUEST error. */
export function parseRequest<T extends z.ZodType>(schema: T, input: unknown): z.infer<T> {
  const result = schema.safeParse(input)
  if (result.success) return result.data
  const issues = result.error.issues.map((issue) => ({path: issue.path.join('.'), message: issue.message}))
  const first = issues[0]
  const where = first?.path ? `"${first.path}"` : 'the request body'
  throw invalidInput('INVALID_REQUEST', `The request is invalid: ${where}: ${first?.message ?? 'unexpected value'}.`, 'Fix the field and send the request again.', {
    details: {issues},
  })
}
