/**
 * The CLI's settings file: `$XDG_CONFIG_HOME/devflow/config.json` (default
 * `~/.config/devflow/config.json`).
 *
 * Layout:
 *   {
 *     "settings": { "stage": "dev", "region": "eu-west-1" },          // apply to every stage
 *     "stages": {
 *       "prod": {
 *         "settings": { "profile": "prod-admin" },                    // apply to this stage only
 *         "deployment": { ...stack outputs saved by `devflow deploy` },
 *         "image": { ...what `devflow image push` recorded },
 *         "local": { ...where `devflow local up` keeps its token and data (the local stage) }
 *       }
 *     }
 *   }
 *
 * A value is resolved flag > environment > the stage's settings > global settings > default.
 * Writes go to a temporary file in the same directory and are renamed over the old one, so a crash
 * mid-write never leaves a corrupt file.
 */
import {randomBytes} from 'node:crypto'
import {chmod, mkdir, open, readFile, rename, unlink} from 'node:fs/promises'
import {homedir} from 'node:os'
import {dirname, join} from 'node:path'

import * as z from 'zod'

import {OUTPUT_KEYS} from '../core/deployment.js'
import {parseBudgetLimits} from '../core/budgets.js'
import {EGRESS_ENV, parseEgressPolicy} from '../core/egress-policy.js'
import {DEFAULT_MAX_SESSIONS_PER_REPO, MAX_SESSIONS_PER_REPO_SETTING, parseMaxSessionsPerRepo} from '../core/github/queue.js'
import {invalidInput} from '../core/errors.js'
import {parseWebhookFormat, parseWebhookUrl} from '../core/notifications.js'

export interface SettingSpec {
  readonly description: string
  /** The environment variable that overrides the file. */
  readonly env: string
  /** `global`: only in the top-level settings (the stage cannot depend on the stage). */
  readonly scope: 'global' | 'stage'
  readonly default?: string
  /** Returns the normalised value or throws a DevflowError. */
  readonly parse: (value: string) => string
}

const STAGE_PATTERN = /^[a-z][a-z0-9-]{0,19}$/
const REGION_PATTERN = /^[a-z]{2}(-gov|-iso[a-z]*)?-[a-z]+-\d$/

export function parseStageName(value: string): string {
  if (!STAGE_PATTERN.test(value)) {
    throw invalidInput(
      'INVALID_STAGE',
      `"${value}" is not a valid stage name.`,
      'Use 1-20 lowercase letters, digits or hyphens starting with a letter, for example dev or prod.',
    )
  }
  return value
}

export const SETTINGS: Readonly<Record<string, SettingSpec>> = {
  stage: {
    description: 'Which deployment the session commands talk to (dev, prod, local, ...)',
    env: 'DEVFLOW_STAGE',
    scope: 'global',
    default: 'dev',
    parse: parseStageName,
  },
  region: {
    description: 'AWS region of the deployment',
    env: 'DEVFLOW_REGION',
    scope: 'stage',
    parse(value) {
      if (!REGION_PATTERN.test(value)) {
        throw invalidInput('INVALID_REGION', `"${value}" is not an AWS region name.`, 'Use a region such as us-east-1 or eu-west-1.')
      }
      return value
    },
  },
  profile: {
    description: 'AWS named profile for credentials',
    env: 'DEVFLOW_PROFILE',
    scope: 'stage',
    parse(value) {
      if (!/^[\w.@+-]{1,128}$/.test(value)) {
        throw invalidInput('INVALID_PROFILE', `"${value}" is not a valid AWS profile name.`, 'Use the name of a profile in ~/.aws/config.')
      }
      return value
    },
  },
  endpoint: {
    description: 'DevFlow API URL (found from the stack outputs when unset)',
    env: 'DEVFLOW_ENDPOINT',
    scope: 'stage',
    parse(value) {
      let url: URL
      try {
        url = new URL(value)
      } catch {
        throw invalidInput('INVALID_ENDPOINT', `"${value}" is not a URL.`, 'Give the API URL, for example https://abc123.execute-api.eu-west-1.amazonaws.com/prod/.')
      }
      if (url.protocol !== 'https:' && url.protocol !== 'http:') {
        throw invalidInput('INVALID_ENDPOINT', `"${value}" is not an http(s) URL.`, 'Give the API URL starting with https://.')
      }
      return url.toString()
    },
  },
  budgets: {
    description: 'The local platform\'s budgets, JSON {"sessionUsd", "userMonthlyUsd", "stageMonthlyUsd"} (an AWS stage takes them at deploy: -c devflow:budgets=...)',
    env: 'DEVFLOW_BUDGETS',
    scope: 'stage',
    parse: (value) => JSON.stringify(parseBudgetLimits(value)),
  },
  egress: {
    description: 'The local platform\'s egress policy for Docker workspaces, JSON {"mode": "allowList"|"open", "allow": [...], "repositoryAdditions": true|false} (an AWS stage takes it at deploy: -c devflow:egress=..., devflow:egressAllow=...)',
    env: EGRESS_ENV,
    scope: 'stage',
    parse: (value) => JSON.stringify(parseEgressPolicy(value)),
  },
  notifyWebhook: {
    description: 'The local platform\'s notification webhook URL (an AWS stage takes it at deploy: -c devflow:notifyWebhook=...)',
    env: 'DEVFLOW_NOTIFY_WEBHOOK',
    scope: 'stage',
    parse: parseWebhookUrl,
  },
  notifyFormat: {
    description: 'The webhook\'s body: slack or json (signed with the notify-webhook-secret when one is set)',
    env: 'DEVFLOW_NOTIFY_FORMAT',
    scope: 'stage',
    default: 'slack',
    parse: parseWebhookFormat,
  },
  githubMaxSessionsPerRepo: {
    description: 'Sessions from GitHub webhooks one repository may have at once on the local platform; more wait in a queue (an AWS stage takes it at deploy: -c devflow:githubMaxSessionsPerRepo=N)',
    env: MAX_SESSIONS_PER_REPO_SETTING.env,
    scope: 'stage',
    default: String(DEFAULT_MAX_SESSIONS_PER_REPO),
    parse: (value) => String(parseMaxSessionsPerRepo(value)),
  },
}

export const SETTING_KEYS = Object.keys(SETTINGS)

export type SettingKey = keyof typeof SETTINGS

export function settingSpec(key: string): SettingSpec {
  const spec = SETTINGS[key]
  if (!spec) {
    throw invalidInput('UNKNOWN_CONFIG_KEY', `"${key}" is not a setting.`, `Valid keys: ${SETTING_KEYS.join(', ')}.`, {
      details: {validKeys: SETTING_KEYS},
    })
  }
  return spec
}

const optionalStrings = <K extends string>(keys: readonly K[]) => z.object(Object.fromEntries(keys.map((k) => [k, z.string().optional()])) as Record<K, z.ZodOptional<z.ZodString>>).catchall(z.string())

/** The typed sections of a stage, each written by one use case; unknown keys are kept as strings. */
export const STAGE_SECTIONS = {
  /** Stack outputs saved by `devflow deploy` (src/operations/platform-stack.ts), and the API URL found by discovery. */
  deployment: optionalStrings([...(Object.keys(OUTPUT_KEYS) as (keyof typeof OUTPUT_KEYS)[]), 'stackName', 'region', 'account']),
  /** What `devflow image push` recorded (src/operations/workspace-image.ts). */
  image: optionalStrings(['repository', 'tag', 'pushedAt', 'taskDefinition']).extend({
    digest: z.string().regex(/^sha256:[0-9a-f]{64}$/, 'must be an image digest, sha256:<64 hex digits>').optional(),
  }),
  /** Written by `devflow local up` (src/operations/local-platform.ts). */
  local: optionalStrings(['apiUrl']).extend({
    tokenFile: z.string().min(1, 'must name the token file').optional(),
    dataDir: z.string().min(1, 'must name the data dir').optional(),
  }),
} as const

export type StageSectionName = keyof typeof STAGE_SECTIONS
export type StageSectionData<K extends StageSectionName> = z.infer<(typeof STAGE_SECTIONS)[K]>

export interface StageSection {
  settings?: Record<string, string>
  [section: string]: Record<string, string> | undefined
}

export interface ConfigData {
  settings?: Record<string, string>
  stages?: Record<string, StageSection>
}

export function configPath(env: NodeJS.ProcessEnv = process.env): string {
  const base = env.XDG_CONFIG_HOME && env.XDG_CONFIG_HOME !== '' ? env.XDG_CONFIG_HOME : join(env.HOME ?? homedir(), '.config')
  return join(base, 'devflow', 'config.json')
}

function corruptConfig(path: string, reason: string, cause?: unknown) {
  return invalidInput(
    'CONFIG_CORRUPT',
    `The config file ${path} is not valid: ${reason}.`,
    `Fix or delete ${path} (it only holds settings and saved deploy outputs; \`devflow deploy\` writes the outputs again).`,
    {cause},
  )
}

function isStringRecord(value: unknown): value is Record<string, string> {
  return typeof value === 'object' && value !== null && !Array.isArray(value) && Object.values(value).every((v) => typeof v === 'string')
}

function validate(path: string, data: unknown): ConfigData {
  if (typeof data !== 'object' || data === null || Array.isArray(data)) throw corruptConfig(path, 'it is not a JSON object')
  const {settings, stages} = data as Record<string, unknown>
  if (settings !== undefined && !isStringRecord(settings)) throw corruptConfig(path, '"settings" must map keys to strings')
  if (stages !== undefined) {
    if (typeof stages !== 'object' || stages === null || Array.isArray(stages)) throw corruptConfig(path, '"stages" must be an object')
    for (const [stage, section] of Object.entries(stages)) {
      if (typeof section !== 'object' || section === null || Array.isArray(section)) throw corruptConfig(path, `stage "${stage}" must be an object`)
      for (const [name, value] of Object.entries(section)) {
        if (!isStringRecord(value)) throw corruptConfig(path, `"stages.${stage}.${name}" must map keys to strings`)
        const schema = STAGE_SECTIONS[name as StageSectionName]
        const checked = schema?.safeParse(value)
        if (checked && !checked.success) {
          const issue = checked.error.issues[0]
          throw corruptConfig(path, `"stages.${stage}.${name}.${issue?.path.join('.')}": ${issue?.message}`)
        }
      }
    }
  }
  return data as ConfigData
}

export class ConfigFile {
  private constructor(
    readonly path: string,
    private data: ConfigData,
    readonly exists: boolean,
  ) {}

  static async load(path = configPath()): Promise<ConfigFile> {
    let text: string
    try {
      text = await readFile(path, 'utf8')
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') return new ConfigFile(path, {}, false)
      throw invalidInput('CONFIG_UNREADABLE', `Cannot read the config file ${path}: ${(error as Error).message}.`, `Check the permissions of ${path}.`, {cause: error})
    }
    let parsed: unknown
    try {
      parsed = JSON.parse(text)
    } catch (error) {
      throw corruptConfig(path, `it is not JSON (${(error as Error).message})`, error)
    }
    return new ConfigFile(path, validate(path, parsed), true)
  }

  /** A copy of the whole file's data. */
  snapshot(): ConfigData {
    return structuredClone(this.data)
  }

  getSetting(key: string, stage?: string): string | undefined {
    return stage === undefined ? this.data.settings?.[key] : this.data.stages?.[stage]?.settings?.[key]
  }

  setSetting(key: string, value: string, stage?: string): void {
    if (stage === undefined) {
      this.data.settings = {...this.data.settings, [key]: value}
    } else {
      this.stageSection(stage).settings = {...this.stageSection(stage).settings, [key]: value}
    }
  }

  /** Returns whether something was removed. */
  unsetSetting(key: string, stage?: string): boolean {
    const target = stage === undefined ? this.data.settings : this.data.stages?.[stage]?.settings
    if (!target || !(key in target)) return false
    delete target[key]
    return true
  }

  /** A typed section of a stage (`deployment`, `image`, `local`), written by its use case. */
  getStageData<K extends StageSectionName>(stage: string, section: K): StageSectionData<K> | undefined {
    return this.data.stages?.[stage]?.[section] as StageSectionData<K> | undefined
  }

  setStageData<K extends StageSectionName>(stage: string, section: K, values: StageSectionData<K> | undefined): void {
    const target = this.stageSection(stage)
    if (values === undefined) delete target[section]
    else target[section] = {...values}
  }

  stages(): string[] {
    return Object.keys(this.data.stages ?? {})
  }

  /** Atomic: write a temporary file beside the target, fsync it, rename it over the target. */
  async save(): Promise<void> {
    await mkdir(dirname(this.path), {recursive: true, mode: 0o700})
    const temporary = `${this.path}.${process.pid}.${randomBytes(4).toString('hex')}.tmp`
    const handle = await open(temporary, 'w', 0o600)
    try {
      await handle.writeFile(`${JSON.stringify(this.data, null, 2)}\n`, 'utf8')
      await handle.sync()
    } finally {
      await handle.close()
    }
    try {
      await rename(temporary, this.path)
      await chmod(this.path, 0o600)
    } catch (error) {
      await unlink(temporary).catch(() => undefined)
      throw error
    }
  }

  private stageSection(stage: string): StageSection {
    this.data.stages ??= {}
    this.data.stages[stage] ??= {}
    return this.data.stages[stage]
  }
}

export type SettingSource = 'flag' | 'env' | 'config (stage)' | 'config' | 'default' | 'unset'

export interface ResolvedSetting {
  readonly key: string
  readonly value?: string
  readonly source: SettingSource
  /** The environment variable or file that supplied it. */
  readonly origin?: string
}

/**
 * Resolves every setting: flag > environment > the stage's section > global section > default.
 * The stage is resolved first, since the stage sections depend on it.
 */
export function resolveSettings(
  config: ConfigFile,
  flags: Partial<Record<string, string | undefined>>,
  env: NodeJS.ProcessEnv,
): Record<string, ResolvedSetting> {
  const resolved: Record<string, ResolvedSetting> = {}
  const resolveOne = (key: string, stage: string | undefined): ResolvedSetting => {
    const spec = SETTINGS[key]
    const fromFlag = flags[key]
    if (fromFlag !== undefined) return {key, value: spec.parse(fromFlag), source: 'flag', origin: `--${key}`}
    const fromEnv = env[spec.env]
    if (fromEnv !== undefined && fromEnv !== '') {
      try {
        return {key, value: spec.parse(fromEnv), source: 'env', origin: spec.env}
      } catch (error) {
        throw invalidInput('INVALID_ENVIRONMENT', `${spec.env}: ${(error as Error).message}`, `Fix or unset ${spec.env}.`, {cause: error})
      }
    }
    const fromStage = stage === undefined ? undefined : config.getSetting(key, stage)
    if (fromStage !== undefined) return {key, value: fromStage, source: 'config (stage)', origin: `${config.path} (stage ${stage})`}
    const fromFile = config.getSetting(key)
    if (fromFile !== undefined) return {key, value: fromFile, source: 'config', origin: config.path}
    if (spec.default !== undefined) return {key, value: spec.default, source: 'default'}
    return {key, source: 'unset'}
  }
  resolved.stage = resolveOne('stage', undefined)
  for (const key of SETTING_KEYS) {
    if (key !== 'stage') resolved[key] = resolveOne(key, resolved.stage.value)
  }
  return resolved
}
