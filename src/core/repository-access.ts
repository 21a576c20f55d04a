/**
 * Which repositories a caller may start sessions on: the stage's allow-list (issue 11, defect 8).
 * The GitHub App can often reach far more repositories than a team means DevFlow to write to, and
 * any caller of the API could otherwise get a write token for any of them.
 *
 * `default` applies to every caller; `principals` adds repositories for callers whose identity
 * (the session owner, e.g. `arn:aws:sts::123456789012:assumed-role/Dev/alice@example.com`)
 * matches a key, where `*` in a key matches any run of characters (`...:assumed-role/Dev/*` is
 * everyone who assumes the Dev role). A repository entry is `owner/name`, `owner/*` or `*`.
 * Names compare case-insensitively, as GitHub's do. Nothing configured: nothing is allowed.
 */
import * as z from 'zod'

import {forbidden, invalidInput} from './errors.js'
import type {RepoRef} from './validation.js'

const RepositoryPattern = z.string().regex(/^(\*|[\w.-]+\/(\*|[\w.-]+))$/, 'an entry is owner/name, owner/* or *')

export const RepositoryAccess = z
  .object({
    default: z.array(RepositoryPattern),
    principals: z.record(z.string().min(1), z.array(RepositoryPattern)).optional(),
  })
  .strict()
export type RepositoryAccess = z.infer<typeof RepositoryAccess>

/** The safe default: no repository until the stage lists some. */
export const NO_REPOSITORIES: RepositoryAccess = {default: []}
export const ANY_REPOSITORY: RepositoryAccess = {default: ['*']}

/** The variable (Lambda environment, `api serve`, `local up`) and the CDK context key that carry it. */
export const REPOSITORIES_SETTING = {env: 'DEVFLOW_REPOSITORIES', context: 'devflow:repositories'} as const

/**
 * `{"default": [...], "principals": {...}}` as JSON, or a comma-separated list (the `default`
 * alone): `octo/app,octo/*`.
 */
export function parseRepositoryAccess(text: string, origin: string): RepositoryAccess {
  const trimmed = text.trim()
  let value: unknown
  try {
    value = trimmed.startsWith('{') ? JSON.parse(trimmed) : {default: trimmed.split(',').map((s) => s.trim()).filter(Boolean)}
  } catch {
    value = undefined
  }
  const parsed = RepositoryAccess.safeParse(value)
  if (!parsed.success) {
    throw invalidInput(
      'INVALID_REPOSITORY_ALLOW_LIST',
      `${origin} is not a repository allow-list: ${parsed.error?.issues[0]?.message ?? 'not JSON'}.`,
      'Give a comma-separated list like "octo/app,octo/*", or JSON like {"default": ["octo/app"], "principals": {"arn:aws:sts::123456789012:assumed-role/Dev/*": ["octo/*"]}}.',
    )
  }
  return parsed.data
}

function globMatches(pattern: string, value: string): boolean {
  const source = pattern.split('*').map((part) => part.replace(/[.+?^${}()|[\]\\/]/g, '\\$&')).join('.*')
  return new RegExp(`^${source}$`, 'i').test(value)
}

/** The repository patterns that apply to this caller. */
export function repositoriesFor(access: RepositoryAccess, userId: string): string[] {
  const extra = Object.entries(access.principals ?? {})
    .filter(([principal]) => globMatches(principal, userId))
    .flatMap(([, repos]) => repos)
  return [...new Set([...access.default, ...extra])]
}

/** What the console's start form offers: the caller's entries, `*` as `any` rather than an entry. */
export function repositoryChoices(access: RepositoryAccess, userId: string): {items: string[]; any: boolean} {
  const patterns = repositoriesFor(access, userId)
  return {items: patterns.filter((pattern) => pattern !== '*'), any: patterns.includes('*')}
}

export function assertRepositoryAllowed(access: RepositoryAccess, userId: string, repo: RepoRef): void {
  const allowed = repositoriesFor(access, userId)
  if (allowed.some((pattern) => globMatches(pattern, repo.fullName))) return
  throw forbidden(
    'REPOSITORY_NOT_ALLOWED',
    `${repo.fullName} is not on this stage's repository allow-list${allowed.length > 0 ? ` for you (allowed: ${allowed.join(', ')})` : ' (the list is empty)'}.`,
    `Ask the platform team to add "${repo.fullName}" (or "${repo.owner}/*"): deploy with -c ${REPOSITORIES_SETTING.context}='{"default": ["${repo.fullName}"]}' (infra/stages.ts), or set ${REPOSITORIES_SETTING.env} for \`devflow api serve\` and \`devflow local up\`.`,
    {details: {repo: repo.fullName}},
  )
}
