/**
 * The operator's platform use cases: synth, bootstrap, deploy, diff and destroy of a stage's
 * `devflow-<stage>` stack, with what they decide around the CDK toolkit: which workspace image a
 * deploy uses, whether the environment needs bootstrapping first, and what the config keeps.
 */
import {CONTEXT_KEYS, STAGES} from '../../infra/stages.js'
import type {BootstrapOutcome, DeployedPlatform, Platform, PlatformDiff} from '../adapters/cdk/toolkit.js'
import {deploymentRecord, parseContextArgs, requireStage} from '../adapters/cdk/toolkit.js'
import type {ConfigFile} from '../cli/config.js'
import {invalidInput} from '../core/errors.js'

/** Progress lines around the long steps (a spinner on a terminal). */
export interface StepProgress {
  start(text: string): Promise<void>
  stop(text?: string): void
}

export interface PlatformStackDeps {
  /** The CDK toolkit for a stage, with `-c` context over cdk.json. */
  readonly toolkit: (stage: string, context?: Record<string, string>) => Platform
  readonly account: () => Promise<string>
  readonly region: () => string
  readonly isBootstrapped: () => Promise<boolean>
  readonly config: ConfigFile
  readonly progress: StepProgress
  /** Asks before a destroy; false leaves the stack as it is. */
  readonly confirm: (question: string, hintWhenNotInteractive: string) => Promise<boolean>
  /** The stage's secrets outside the stack: only the emulator mode uses them (what moto's CloudFormation skips). */
  readonly secrets: () => Promise<EmulatorSecrets>
}

export interface EmulatorSecrets {
  /** Creates the missing secrets holding the placeholder; answers which it created. */
  createMissing(): Promise<string[]>
  deleteAll(): Promise<void>
  close(): void
}

/**
 * moto_server's stack deletion is not ordered by dependencies: a pass can try the VPC before what
 * is in it, fail, and a later pass finds them gone.
 */
const EMULATOR_DESTROY_ATTEMPTS = 3
const RETRYABLE_EMULATOR_DESTROY = /has dependencies|DependencyViolation/i

export interface DeployResult {
  readonly deployed: DeployedPlatform
  /** What the config now keeps in stages.<stage>.deployment. */
  readonly record: Record<string, string>
}

export function createPlatformStack(deps: PlatformStackDeps) {
  const {progress} = deps
  return {
    async synth(stage: string, contextArgs: readonly string[], outDir: string): Promise<{outDir: string; stacks: string[]}> {
      const platform = deps.toolkit(stage, parseContextArgs(contextArgs))
      await progress.start(`Synthesizing ${platform.stackName}`)
      const result = await platform.synth(outDir)
      progress.stop()
      return result
    },

    async bootstrap(stage: string): Promise<BootstrapOutcome> {
      const region = deps.region()
      const platform = deps.toolkit(stage)
      const account = await deps.account()
      await progress.start(`Bootstrapping aws://${account}/${region}`)
      const outcome = await platform.bootstrap(account, region)
      progress.stop()
      return outcome
    },

    /** The image is the digest `image push` recorded unless -c names an image; bootstraps when needed. */
    async deploy(stage: string, contextArgs: readonly string[], options: {skipBootstrap: boolean}): Promise<DeployResult> {
      const region = deps.region()
      const context = parseContextArgs(contextArgs)
      const digest = deps.config.getStageData(stage, 'image')?.digest
      if (digest && context[CONTEXT_KEYS.imageDigest] === undefined && context[CONTEXT_KEYS.imageTag] === undefined) {
        context[CONTEXT_KEYS.imageDigest] = digest
      }
      const platform = deps.toolkit(stage, context)
      const account = await deps.account()
      if (!options.skipBootstrap && !(await deps.isBootstrapped())) {
        await progress.start(`Bootstrapping aws://${account}/${region}`)
        await platform.bootstrap(account, region)
        progress.stop(`Bootstrapped aws://${account}/${region}`)
      }
      await progress.start(`Deploying ${platform.stackName} to aws://${account}/${region}`)
      const deployed = await platform.deploy(account)
      progress.stop(`Deployed ${deployed.stackName}`)
      const record = deploymentRecord(deployed)
      if (record.emulator === 'moto') await withSecrets(deps, (secrets) => secrets.createMissing())
      deps.config.setStageData(stage, 'deployment', record)
      await deps.config.save()
      return {deployed, record}
    },

    async diff(stage: string, contextArgs: readonly string[]): Promise<PlatformDiff> {
      const platform = deps.toolkit(stage, parseContextArgs(contextArgs))
      await progress.start(`Comparing ${platform.stackName} with what is deployed`)
      const diff = await platform.diff()
      progress.stop()
      return diff
    },

    /** Asks first; in a stage with deletion protection the data outlives the stack. */
    async destroy(stageName: string): Promise<{stackName: string; stage: string; retainedData: boolean}> {
      const stage = requireStage(stageName)
      const platform = deps.toolkit(stage)
      const account = await deps.account()
      const retainedData = STAGES[stage].deletionProtection
      const confirmed = await deps.confirm(
        `Delete ${platform.stackName} in account ${account}${retainedData ? ' (its data is kept)' : ', with its tables, secrets and images'}?`,
        `Pass --yes to delete ${platform.stackName} without a prompt.`,
      )
      if (!confirmed) throw invalidInput('CANCELLED', `Left ${platform.stackName} as it is.`, 'Run the command again and answer yes to delete it.')
      const emulated = platform.forEmulator || deps.config.getStageData(stage, 'deployment')?.emulator === 'moto'
      await progress.start(`Destroying ${platform.stackName}`)
      for (let attempt = 1; ; attempt++) {
        try {
          await platform.destroy()
          break
        } catch (error) {
          if (!emulated || attempt >= EMULATOR_DESTROY_ATTEMPTS || !RETRYABLE_EMULATOR_DESTROY.test(String((error as Error)?.message ?? error))) throw error
        }
      }
      // The secrets the deploy created beside the stack go with it, as the stack's own would.
      if (emulated && !retainedData) await withSecrets(deps, (secrets) => secrets.deleteAll())
      progress.stop(`Destroyed ${platform.stackName}`)
      deps.config.setStageData(stage, 'deployment', undefined)
      await deps.config.save()
      return {stackName: platform.stackName, stage, retainedData}
    },
  }
}

export type PlatformStack = ReturnType<typeof createPlatformStack>

async function withSecrets<T>(deps: PlatformStackDeps, use: (secrets: EmulatorSecrets) => Promise<T>): Promise<T> {
  const secrets = await deps.secrets()
  try {
    return await use(secrets)
  } finally {
    secrets.close()
  }
}
