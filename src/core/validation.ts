/**
 * Validation of the values users type: repository references, branch names, session ids,
 * Fargate cpu/memory pairs and durations. Each parser returns the normalised value or throws a
 * DevflowError (kind `invalid`) that says what is wrong and what a valid value looks like.
 */
import {invalidInput} from './errors.js'

export interface RepoRef {
  readonly owner: string
  readonly name: string
  /** `owner/name` */
  readonly fullName: string
}

// GitHub: a login is 1-39 alphanumerics or single hyphens, not at either end.
const OWNER_PATTERN = /^[A-Za-z0-9](?:[A-Za-z0-9]|-(?=[A-Za-z0-9])){0,38}$/
// GitHub: a repository name is 1-100 of letters, digits, '.', '-', '_' (and not '.' or '..').
const REPO_NAME_PATTERN = /^[A-Za-z0-9._-]{1,100}$/

const REPO_HINT = 'Give the repository as owner/name, for example octocat/hello-world.'

/**
 * Accepts `owner/name`, `https://github.com/owner/name(.git)` and `git@github.com:owner/name.git`
 * and returns the normalised reference.
 */
export function parseRepoRef(input: string): RepoRef {
  const raw = input.trim()
  if (raw === '') throw invalidInput('INVALID_REPO', 'The repository is empty.', REPO_HINT)
  let path = raw
  const https = /^https?:\/\/[^/]+\/(.+)$/.exec(raw)
  const ssh = /^git@[^:]+:(.+)$/.exec(raw)
  if (https) path = https[1]
  else if (ssh) path = ssh[1]
  path = path.replace(/\/+$/, '').replace(/\.git$/, '')
  const parts = path.split('/')
  if (parts.length !== 2) {
    throw invalidInput('INVALID_REPO', `"${input}" is not a repository reference.`, REPO_HINT)
  }
  const [owner, name] = parts
  if (!OWNER_PATTERN.test(owner)) {
    throw invalidInput(
      'INVALID_REPO',
      `"${owner}" is not a valid GitHub owner: use 1-39 letters, digits or single hyphens, not starting or ending with a hyphen.`,
      REPO_HINT,
    )
  }
  if (!REPO_NAME_PATTERN.test(name) || name === '.' || name === '..') {
    throw invalidInput(
      'INVALID_REPO',
      `"${name}" is not a valid repository name: use 1-100 letters, digits, '.', '-' or '_'.`,
      REPO_HINT,
    )
  }
  return {owner, name, fullName: `${owner}/${name}`}
}

const BRANCH_HINT = 'Use a git branch name such as main or feature/login (see `git check-ref-format --branch`).'

/** git's check-ref-format rules for a branch name. */
export function parseBranchName(input: string): string {
  const branch = input.trim()
  const problem = branchProblem(branch)
  if (problem) throw invalidInput('INVALID_BRANCH', `"${input}" is not a valid branch name: ${problem}.`, BRANCH_HINT)
  return branch
}

function branchProblem(branch: string): string | undefined {
  if (branch === '') return 'it is empty'
  if (branch.length > 255) return 'it is longer than 255 characters'
  if (branch === '@') return 'it cannot be "@"'
  if (branch.startsWith('-')) return 'it cannot start with "-"'
  // eslint-disable-next-line no-control-regex
  if (/[\u0000-\u0020\u007f~^:?*[\\]/.test(branch)) return 'it contains a space, a control character or one of ~ ^ : ? * [ \\'
  if (branch.includes('..')) return 'it contains ".."'
  if (branch.includes('@{')) return 'it contains "@{"'
  if (branch.startsWith('/') || branch.endsWith('/') || branch.includes('//')) return 'it has an empty path component'
  if (branch.endsWith('.')) return 'it ends with "."'
  for (const component of branch.split('/')) {
    if (component.startsWith('.')) return 'a path component starts with "."'
    if (component.endsWith('.lock')) return 'a path component ends with ".lock"'
  }
  return undefined
}

/** Session ids are `s-` followed by 20 characters of lowercase base32. */
export const SESSION_ID_PATTERN = /^s-[a-z2-7]{20}$/

export function parseSessionId(input: string): string {
  const id = input.trim()
  if (!SESSION_ID_PATTERN.test(id)) {
    throw invalidInput(
      'INVALID_SESSION_ID',
      `"${input}" is not a session id.`,
      'Session ids look like s-abcdefghijklmnopqrst; run `devflow session list` to see yours.',
    )
  }
  return id
}

/** Prompt ids are `p-` followed by 20 characters of lowercase base32. */
export const PROMPT_ID_PATTERN = /^p-[a-z2-7]{20}$/

export function parsePromptId(input: string): string {
  const id = input.trim()
  if (!PROMPT_ID_PATTERN.test(id)) {
    throw invalidInput(
      'INVALID_PROMPT_ID',
      `"${input}" is not a prompt id.`,
      'Prompt ids look like p-abcdefghijklmnopqrst; `devflow session logs <session>` lists them.',
    )
  }
  return id
}

export interface Capacity {
  /** CPU units (1024 = 1 vCPU). */
  readonly cpu: number
  /** Memory in MiB. */
  readonly memory: number
}

function range(from: number, to: number, step: number): number[] {
  const values: number[] = []
  for (let v = from; v <= to; v += step) values.push(v)
  return values
}

/** The task sizes Fargate accepts (Linux), cpu units -> memory MiB. */
export const FARGATE_SIZES: ReadonlyMap<number, readonly number[]> = new Map([
  [256, [512, 1024, 2048]],
  [512, range(1024, 4096, 1024)],
  [1024, range(2048, 8192, 1024)],
  [2048, range(4096, 16_384, 1024)],
  [4096, range(8192, 30_720, 1024)],
  [8192, range(16_384, 61_440, 4096)],
  [16_384, range(32_768, 122_880, 8192)],
])

export const DEFAULT_CAPACITY: Capacity = {cpu: 1024, memory: 4096}

/** Accepts vCPUs (`0.25`, `1`, `4`) or CPU units (`256`, `1024`). */
export function parseCpu(input: string | number): number {
  const value = typeof input === 'number' ? input : Number(String(input).trim().replace(/vcpu$/i, ''))
  const units = value > 0 && value <= 16 ? value * 1024 : value
  if (!Number.isFinite(units) || !FARGATE_SIZES.has(units)) {
    throw invalidInput(
      'INVALID_CPU',
      `"${input}" is not a Fargate CPU size.`,
      'Use 0.25, 0.5, 1, 2, 4, 8 or 16 vCPUs (or the same in CPU units: 256 ... 16384).',
    )
  }
  return units
}

/** Accepts MiB (`4096`) or `4GB`/`4GiB`/`512MB`. */
export function parseMemory(input: string | number): number {
  const text = String(input).trim()
  const match = /^(\d+(?:\.\d+)?)\s*(gb|gib|g|mb|mib|m)?$/i.exec(text)
  if (!match) {
    throw invalidInput('INVALID_MEMORY', `"${input}" is not a memory size.`, 'Give memory in MiB (4096) or GB (4GB).')
  }
  const unit = (match[2] ?? 'mib').toLowerCase()
  const mib = unit.startsWith('g') ? Number(match[1]) * 1024 : Number(match[1])
  if (!Number.isInteger(mib)) {
    throw invalidInput('INVALID_MEMORY', `"${input}" is not a whole number of MiB.`, 'Give memory in MiB (4096) or GB (4GB).')
  }
  return mib
}

/** Checks that the pair is one Fargate accepts and says which memory sizes would fit. */
export function validateCapacity(cpu: number, memory: number): Capacity {
  const allowed = FARGATE_SIZES.get(cpu)
  if (!allowed) return validateCapacity(parseCpu(cpu), memory)
  if (!allowed.includes(memory)) {
    const first = allowed[0]
    const last = allowed.at(-1)
    throw invalidInput(
      'INVALID_CAPACITY',
      `Fargate does not run ${cpu / 1024} vCPU with ${memory} MiB of memory.`,
      `With ${cpu / 1024} vCPU use ${first} to ${last} MiB${allowed.length > 3 ? ` in steps of ${allowed[1] - allowed[0]}` : ` (${allowed.join(', ')})`}.`,
    )
  }
  return {cpu, memory}
}

const DURATION_UNITS: Record<string, number> = {s: 1, m: 60, h: 3600, d: 86_400}

/** Parses `90s`, `30m`, `4h`, `1h30m`, `2d` into seconds. */
export function parseDuration(input: string, what = 'duration'): number {
  const text = input.trim().toLowerCase()
  if (!/^(\d+[smhd])+$/.test(text)) {
    throw invalidInput(
      'INVALID_DURATION',
      `"${input}" is not a valid ${what}.`,
      'Write durations as a number and a unit: 90s, 30m, 4h, 1h30m or 2d.',
    )
  }
  let seconds = 0
  for (const [, amount, unit] of text.matchAll(/(\d+)([smhd])/g)) seconds += Number(amount) * DURATION_UNITS[unit]
  if (seconds <= 0) {
    throw invalidInput('INVALID_DURATION', `The ${what} "${input}" must be longer than zero.`, 'Use a positive duration such as 30m.')
  }
  return seconds
}

/** Formats seconds back into the shortest duration string (`5400` -> `1h30m`). */
export function formatDuration(seconds: number): string {
  if (seconds <= 0) return '0s'
  let rest = Math.round(seconds)
  let out = ''
  for (const [unit, size] of [['d', 86_400], ['h', 3600], ['m', 60], ['s', 1]] as const) {
    if (rest >= size) {
      out += `${Math.floor(rest / size)}${unit}`
      rest %= size
    }
  }
  return out
}

/** A USD amount from a flag or a request (`--budget 5`, `--add 2.50`): positive, at most a cent's precision is kept by the caller. */
export function parseUsd(input: string | number, what = 'amount'): number {
  const text = String(input).trim().replace(/^\$/, '')
  const value = /^\d+(\.\d+)?$/.test(text) ? Number(text) : Number.NaN
  if (!Number.isFinite(value) || value <= 0) {
    throw invalidInput('INVALID_BUDGET', `"${input}" is not a ${what} in USD.`, 'Give a positive number of dollars, for example 5 or 2.50.')
  }
  return value
}
