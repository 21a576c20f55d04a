/**
 * Shared pieces of the DynamoDB stores: records as items, pagination tokens, update expressions built from a changes
 * object, and SDK error translation.
 */
import {invalidInput, isDevflowError} from '../../core/errors.js'
import {toDevflowError} from './sdk-errors.js'

export type Item = Record<string, unknown>

/** A record's fields as the item's attribute names, and an item back into a record its schema checks. */
export function itemMapping<R extends object>(attributes: Record<keyof R & string, string>, schema: {parse(input: unknown): R}) {
  return {
    toItem(record: Partial<R>): Item {
      const item: Item = {}
      for (const [key, value] of Object.entries(record)) item[attributes[key as keyof R & string]] = value
      return item
    },
    fromItem(item: Item): R {
      const record: Item = {}
      for (const [key, attribute] of Object.entries<string>(attributes)) if (item[attribute] !== undefined) record[key] = item[attribute]
      return schema.parse(record)
    },
  }
}

export function encodeToken(key: Item | undefined): string | undefined {
  return key ? Buffer.from(JSON.stringify(key), 'utf8').toString('base64url') : undefined
}

/** A store cursor: the LastEvaluatedKey with exactly the key attributes and types of `shape`. */
export function decodeToken(token: string | undefined, shape: Record<string, 'S' | 'N'>): Item | undefined {
  if (token === undefined) return undefined
  try {
    const parsed: unknown = JSON.parse(Buffer.from(token, 'base64url').toString('utf8'))
    if (typeof parsed === 'object' && parsed !== null && !Array.isArray(parsed) && matchesShape(parsed as Item, shape)) return parsed as Item
  } catch {
    // falls through to the error below
  }
  throw invalidInput('INVALID_NEXT_TOKEN', 'The page token is not one this API issued.', 'Drop --next-token (or nextToken) to start from the first page.')
}

function matchesShape(key: Item, shape: Record<string, 'S' | 'N'>): boolean {
  const names = Object.keys(key)
  if (names.length !== Object.keys(shape).length) return false
  return names.every((name) => (shape[name] === 'S' ? typeof key[name] === 'string' && key[name] !== '' : shape[name] === 'N' && Number.isSafeInteger(key[name])))
}

/**
 * `SET a = :a, ... REMOVE b` from attribute values; an undefined value removes the attribute. The
 * names are placeholders (#a) so that reserved words such as `status` or `ttl` are fine.
 */
export function updateExpression(values: Item): {expression: string; names: Record<string, string>; values: Item} {
  const sets: string[] = []
  const removes: string[] = []
  const names: Record<string, string> = {}
  const placeholders: Item = {}
  for (const [index, [name, value]] of Object.entries(values).entries()) {
    names[`#u${index}`] = name
    if (value === undefined) {
      removes.push(`#u${index}`)
    } else {
      sets.push(`#u${index} = :u${index}`)
      placeholders[`:u${index}`] = value
    }
  }
  const expression = [sets.length > 0 ? `SET ${sets.join(', ')}` : '', removes.length > 0 ? `REMOVE ${removes.join(', ')}` : ''].filter(Boolean).join(' ')
  return {expression, names, values: placeholders}
}

export function isConditionFailure(error: unknown): boolean {
  const name = (error as {name?: string})?.name
  return name === 'ConditionalCheckFailedException' || name === 'TransactionCanceledException'
}

/** Rethrows DevflowErrors as they are and SDK errors as DevflowErrors. */
export function translate(error: unknown, action: string): never {
  if (isDevflowError(error)) throw error
  throw toDevflowError(error, action) ?? error
}

export function epochSeconds(iso: string): number {
  return Math.floor(Date.parse(iso) / 1000)
}

/**
 * Runs conditional writes to one item from this process one at a time. DynamoDB's conditions keep
 * writers in different processes apart; within one warm process this avoids racing ourselves into
 * needless CONCURRENT_UPDATE retries (and moto_server, whose condition checks are not atomic under
 * concurrent requests, then behaves like DynamoDB in the tests).
 */
export class ItemLocks {
  private readonly tails = new Map<string, Promise<unknown>>()

  async run<T>(key: string, work: () => Promise<T>): Promise<T> {
    const previous = this.tails.get(key) ?? Promise.resolve()
    const current = previous.then(work, work)
    const tail = current.catch(() => undefined)
    this.tails.set(key, tail)
    try {
      return await current
    } finally {
      if (this.tails.get(key) === tail) this.tails.delete(key)
    }
  }
}
