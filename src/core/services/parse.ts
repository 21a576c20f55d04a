import type {z} from 'zod'

import {invalidInput} from '../errors.js'

/** Deeper JSON is refused before any schema, store or serializer recurses into it. */
export const MAX_REQUEST_DEPTH = 64

/** Parses a request body with its zod schema; the first problem becomes an INVALID_REQUEST error. */
export function parseRequest<T extends z.ZodType>(schema: T, input: unknown): z.infer<T> {
  checkWellFormed(input)
  const result = schema.safeParse(input)
  if (result.success) return result.data
  const issues = result.error.issues.map((issue) => ({path: issue.path.join('.'), message: issue.message}))
  const first = issues[0]
  const where = first?.path ? `"${first.path}"` : 'the request body'
  throw invalidInput('INVALID_REQUEST', `The request is invalid: ${where}: ${first?.message ?? 'unexpected value'}.`, 'Fix the field and send the request again.', {
    details: {issues},
  })
}

// A high surrogate not followed by a low one, or a low one without a high one before it.
const LONE_SURROGATE = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/

/**
 * Every string (keys included) must be well-formed UTF-16, so that it can be stored as UTF-8 and
 * read back; nesting is bounded. Iterative, so no input can exhaust the stack.
 */
function checkWellFormed(input: unknown): void {
  const pending: Array<{value: unknown; path: string; depth: number}> = [{value: input, path: '', depth: 0}]
  while (pending.length > 0) {
    const {value, path, depth} = pending.pop() as {value: unknown; path: string; depth: number}
    if (typeof value === 'string') {
      if (LONE_SURROGATE.test(value)) throw malformedText(path)
      continue
    }
    if (typeof value !== 'object' || value === null) continue
    if (depth >= MAX_REQUEST_DEPTH) {
      throw invalidInput('INVALID_REQUEST', `The request is nested deeper than ${MAX_REQUEST_DEPTH} levels${path ? ` at "${path}"` : ''}.`, 'Send flatter JSON.')
    }
    for (const [key, child] of Object.entries(value)) {
      const childPath = path ? `${path}.${key}` : key
      if (LONE_SURROGATE.test(key)) throw malformedText(childPath)
      pending.push({value: child, path: childPath, depth: depth + 1})
    }
  }
}

function malformedText(path: string) {
  return invalidInput(
    'INVALID_UNICODE',
    `The request is invalid: ${path ? `"${path}"` : 'the body'} holds a lone UTF-16 surrogate, which is not text.`,
    'Send well-formed Unicode: encode the text as UTF-8, and escape characters outside the BMP as surrogate pairs.',
  )
}
