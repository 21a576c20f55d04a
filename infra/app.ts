/**
 * The DevFlow CDK app: one PlatformStack per stage. `devflow deploy|diff|synth|destroy` build it
 * in-process (src/adapters/cdk/toolkit.ts); `npx cdk synth` runs this file through cdk.json.
 */
import {existsSync, readFileSync} from 'node:fs'
import {dirname, join, resolve} from 'node:path'
import {fileURLToPath} from 'node:url'

import {App, Validations} from 'aws-cdk-lib'
import {AwsSolutionsChecks} from 'cdk-nag'

import {invalidInput} from '../src/core/errors.js'
import {parseWarmSchedule} from '../src/core/warm-pool.js'
import {parseMaxSessionsPerRepo} from '../src/core/github/queue.js'
import {budgetLimitsFrom, egressSettingsFrom, notificationSettingsFrom, priceOverrideFrom} from './guardrails.js'
import {NO_REPOSITORIES, parseRepositoryAccess, type RepositoryAccess} from '../src/core/repository-access.js'
import {PlatformStack} from './stacks/platform-stack.js'
import {CONTEXT_KEYS, isStageName, type NetworkSettings, STAGE_NAMES, STAGES, type StageName} from './stages.js'

export interface BuildAppOptions {
  /** Context values (cdk.json, cdk.context.json and -c, already merged). */
  readonly context?: Record<string, unknown>
  readonly outdir?: string
  /** Run the cdk-nag AwsSolutions checks at synth. @default true */
  readonly nag?: boolean
}

/** The repository root: where package.json, cdk.json and lambda/ are, from infra/ or dist/infra/. */
export function findProjectRoot(from = dirname(fileURLToPath(import.meta.url))): string {
  let dir = from
  while (!existsSync(join(dir, 'cdk.json')) || !existsSync(join(dir, 'lambda'))) {
    const parent = dirname(dir)
    if (parent === dir) throw new Error(`No DevFlow project root (cdk.json and lambda/) above ${from}`)
    dir = parent
  }
  return dir
}

export function buildApp(options: BuildAppOptions = {}): App {
  // aws-cdk-lib's built-in template validator (WASM) took half of every synth and only warns by
  // default; the templates are held to cfn-lint in test/infra instead, and cdk-nag runs below.
  const app = new App({outdir: options.outdir, context: options.context ?? {}, builtinCloudFormationValidation: false})
  // Read back through the app: under the cdk CLI, CDK_CONTEXT_JSON (cdk.json, -c) is merged in here.
  const context = new Proxy({} as Record<string, unknown>, {get: (_, key: string) => app.node.tryGetContext(key)})
  if (options.nag ?? true) Validations.of(app).addPlugins(new AwsSolutionsChecks(app))
  const projectRoot = findProjectRoot()
  for (const stage of selectedStages(context)) {
    new PlatformStack(app, stackIdFor(stage), {
      stage: STAGES[stage],
      network: networkSettings(context, stage),
      image: imageFrom(context),
      projectRoot,
      warmTasks: perStage(context, CONTEXT_KEYS.warmTasks, stage, optionalCount),
      warmSchedule: perStage(context, CONTEXT_KEYS.warmSchedule, stage, warmScheduleFrom),
      alarmEmail: optionalString(context, CONTEXT_KEYS.alarmEmail),
      forMoto: emulatorFrom(context) === 'moto',
      egress: egressSettingsFrom(context, STAGES[stage]),
      budgets: budgetLimitsFrom(context, STAGES[stage]),
      prices: priceOverrideFrom(context),
      notifications: notificationSettingsFrom(context),
      repositories: repositoriesFrom(context),
      githubMaxSessionsPerRepo: maxSessionsPerRepoFrom(context),
    })
  }
  return app
}

export function stackIdFor(stage: StageName): string {
  return `Devflow-${stage}`
}

function selectedStages(context: Record<string, unknown>): StageName[] {
  const raw = optionalString(context, CONTEXT_KEYS.stages)
  if (raw === undefined) return [...STAGE_NAMES]
  return raw.split(',').map((name) => {
    const stage = name.trim()
    if (!isStageName(stage)) throw invalidInput('UNKNOWN_STAGE', `"${stage}" is not a DevFlow stage.`, `Deployable stages: ${STAGE_NAMES.join(', ')} (infra/stages.ts).`)
    return stage
  })
}

function networkSettings(context: Record<string, unknown>, stage: StageName): NetworkSettings {
  const all = context[CONTEXT_KEYS.network] as Record<string, Partial<NetworkSettings>> | undefined
  const settings = all?.[stage]
  const cidr = settings?.cidr
  const maxAzs = settings?.maxAzs
  const natGateways = settings?.natGateways
  if (typeof cidr !== 'string' || !Number.isInteger(maxAzs) || !Number.isInteger(natGateways)) {
    throw invalidInput(
      'NETWORK_CONTEXT_MISSING',
      `cdk.json has no complete "${CONTEXT_KEYS.network}".${stage} entry ({"cidr", "maxAzs", "natGateways"}).`,
      `Add it under "context" in cdk.json, or pass -c ${CONTEXT_KEYS.network}='{"${stage}": {...}}'.`,
    )
  }
  return {cidr, maxAzs: maxAzs as number, natGateways: natGateways as number}
}

function imageFrom(context: Record<string, unknown>): {digest: string} | {tag: string} {
  const digest = optionalString(context, CONTEXT_KEYS.imageDigest)
  if (digest !== undefined) {
    if (!/^sha256:[0-9a-f]{64}$/.test(digest)) {
      throw invalidInput('INVALID_IMAGE_DIGEST', `"${digest}" is not an image digest.`, 'Give sha256: followed by 64 hex digits, as `devflow image push` records it.')
    }
    return {digest}
  }
  const tag = optionalString(context, CONTEXT_KEYS.imageTag) ?? 'latest'
  if (!/^[\w][\w.-]{0,127}$/.test(tag)) throw invalidInput('INVALID_IMAGE_TAG', `"${tag}" is not a valid image tag.`, 'Use letters, digits, _ . and -, up to 128 characters.')
  return {tag}
}

function emulatorFrom(context: Record<string, unknown>): 'moto' | undefined {
  const emulator = optionalString(context, CONTEXT_KEYS.emulator)
  if (emulator === undefined) return undefined
  if (emulator !== 'moto') throw invalidInput('UNKNOWN_EMULATOR', `"${emulator}" is not a supported emulator.`, `The only value of ${CONTEXT_KEYS.emulator} is moto.`)
  return emulator
}

/** The stage's repository allow-list; none configured: no repository (README, "Deploying to AWS"). */
function repositoriesFrom(context: Record<string, unknown>): RepositoryAccess {
  const value = context[CONTEXT_KEYS.repositories]
  if (value === undefined || value === null || value === '') return NO_REPOSITORIES
  return parseRepositoryAccess(typeof value === 'string' ? value : JSON.stringify(value), `The context ${CONTEXT_KEYS.repositories}`)
}

/** A setting given for every stage, or per stage as {"dev": ..., "prod": ...} (a stage left out keeps its default). */
function perStage<T>(context: Record<string, unknown>, key: string, stage: StageName, read: (source: Record<string, unknown>, key: string) => T | undefined): T | undefined {
  const value = context[key]
  if (value !== null && typeof value === 'object' && !Array.isArray(value)) {
    const own = (value as Record<string, unknown>)[stage]
    return own === undefined ? undefined : read({[`${key}.${stage}`]: own}, `${key}.${stage}`)
  }
  return read(context, key)
}

/** `devflow:warmSchedule` (src/core/warm-pool.ts parseWarmSchedule), checked at synth. */
function warmScheduleFrom(context: Record<string, unknown>, key: string): string | undefined {
  const raw = optionalString(context, key)
  if (raw !== undefined) parseWarmSchedule(raw, key)
  return raw
}

function maxSessionsPerRepoFrom(context: Record<string, unknown>): number | undefined {
  const raw = optionalString(context, CONTEXT_KEYS.githubMaxSessionsPerRepo)
  return raw === undefined ? undefined : parseMaxSessionsPerRepo(raw, CONTEXT_KEYS.githubMaxSessionsPerRepo)
}

function optionalString(context: Record<string, unknown>, key: string): string | undefined {
  const value = context[key]
  if (value === undefined || value === null || value === '') return undefined
  return String(value)
}

function optionalCount(context: Record<string, unknown>, key: string): number | undefined {
  const raw = optionalString(context, key)
  if (raw === undefined) return undefined
  const value = Number(raw)
  if (!Number.isInteger(value) || value < 0 || value > 50) throw invalidInput('INVALID_CONTEXT', `${key} must be a whole number from 0 to 50, not "${raw}".`, `Pass -c ${key}=N.`)
  return value
}

if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  // Run by the cdk CLI (cdk.json "app"), which passes cdk.json, cdk.context.json and -c values in
  // CDK_CONTEXT_JSON; run directly, cdk.json's context is the base.
  const cdkJson = join(findProjectRoot(), 'cdk.json')
  buildApp({context: (JSON.parse(readFileSync(cdkJson, 'utf8')) as {context?: Record<string, unknown>}).context}).synth()
}
