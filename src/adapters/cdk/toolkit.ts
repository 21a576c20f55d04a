/**
 * DevFlow's platform operations, driven in-process through @aws-cdk/toolkit-lib: synth, bootstrap,
 * deploy, diff and destroy of the `devflow-<stage>` stack built by infra/app.ts. Toolkit errors
 * become DevflowErrors here, with the failing resource and CloudFormation's reason when there is one.
 */
import {mkdir} from 'node:fs/promises'
import {resolve} from 'node:path'

import {
  BaseCredentials,
  BootstrapEnvironments,
  CdkAppMultiContext,
  DiffMethod,
  type ICloudAssemblySource,
  StackSelectionStrategy,
  Toolkit,
} from '@aws-cdk/toolkit-lib'

import {buildApp, findProjectRoot, stackIdFor} from '../../../infra/app.js'
import {CONTEXT_KEYS, isStageName, STAGE_NAMES, type StageName} from '../../../infra/stages.js'
import {type AwsEnvironment, requireRegion} from '../aws/environment.js'
import {type Deployment, type DeploymentKey, OUTPUT_KEYS, stackNameFor} from '../../core/deployment.js'
import {internalError, invalidInput} from '../../core/errors.js'
import {classifyToolkitError} from './toolkit-errors.js'
import {type ProgressSink, routingBundlingNotices, ToolkitProgress} from './toolkit-progress.js'

export interface PlatformOptions {
  readonly stage: string
  readonly aws: AwsEnvironment
  /** `-c key=value` pairs, over cdk.json and cdk.context.json. */
  readonly context?: Record<string, string>
  readonly progress: ProgressSink
}

export interface DeployedPlatform {
  readonly stackName: string
  readonly region: string
  readonly account: string
  readonly outputs: Partial<Record<DeploymentKey, string>>
}

export interface StackChange {
  readonly logicalId: string
  readonly resourceType: string
  readonly change: 'add' | 'update' | 'remove' | 'replace'
}

export interface PlatformDiff {
  readonly stackName: string
  readonly changes: StackChange[]
  /** IAM statements or security group rules change: review before deploying. */
  readonly securityChanges: boolean
}

export interface BootstrapOutcome {
  readonly environment: string
  /** false when the environment was already bootstrapped and up to date. */
  readonly changed: boolean
}

/** A parsed `-c key=value`; the value may be JSON (as with `cdk -c`). */
export function parseContextArgs(pairs: readonly string[]): Record<string, string> {
  const context: Record<string, string> = {}
  for (const pair of pairs) {
    const eq = pair.indexOf('=')
    if (eq <= 0) throw invalidInput('INVALID_CONTEXT', `"${pair}" is not a key=value context pair.`, 'Pass -c key=value, for example -c devflow:imageTag=v1.2.3.')
    context[pair.slice(0, eq).trim()] = pair.slice(eq + 1)
  }
  return context
}

export function requireStage(stage: string): StageName {
  if (!isStageName(stage)) {
    throw invalidInput('UNKNOWN_STAGE', `"${stage}" is not a deployable stage.`, `Use --stage ${STAGE_NAMES.join(' or --stage ')} (the stages are defined in infra/stages.ts).`)
  }
  return stage
}

export class Platform {
  readonly stage: StageName
  readonly stackName: string
  private readonly progress: ToolkitProgress
  private readonly toolkit: Toolkit
  private readonly projectRoot = findProjectRoot()

  constructor(private readonly options: PlatformOptions) {
    this.stage = requireStage(options.stage)
    this.stackName = stackNameFor(this.stage)
    this.progress = new ToolkitProgress(options.progress)
    this.toolkit = new Toolkit({
      ioHost: this.progress,
      color: false,
      emojis: false,
      sdkConfig: {baseCredentials: BaseCredentials.awsCliCompatible({profile: options.aws.profile, defaultRegion: options.aws.region})},
    })
  }

  get forEmulator(): boolean {
    return this.options.context?.[CONTEXT_KEYS.emulator] === 'moto'
  }

  /** Writes the stage's CloudFormation templates and assets into `outDir`. */
  async synth(outDir: string): Promise<{outDir: string; stacks: string[]}> {
    const dir = resolve(outDir)
    await mkdir(dir, {recursive: true})
    return this.guard('Synthesizing', async () => {
      const assembly = await this.toolkit.synth(await this.source(dir), {stacks: this.selection()})
      try {
        return {outDir: dir, stacks: assembly.cloudAssembly.stacksRecursively.map((s) => s.stackName)}
      } finally {
        await assembly.dispose()
      }
    })
  }

  async bootstrap(account: string, region: string): Promise<BootstrapOutcome> {
    const environment = `aws://${account}/${region}`
    return this.guard('Bootstrapping', async () => {
      const result = await this.toolkit.bootstrap(BootstrapEnvironments.fromList([environment]), {})
      const outcome = result.environments[0]
      return {environment, changed: outcome?.status === 'success'}
    })
  }

  async deploy(account: string): Promise<DeployedPlatform> {
    const region = requireRegion(this.options.aws)
    return this.guard('Deploying', async () => {
      const result = await this.toolkit.deploy(await this.source(), {
        stacks: this.selection(),
        // moto_server's change sets leave the stack outputs empty; it creates stacks directly.
        deploymentMethod: this.forEmulator ? {method: 'direct'} : {method: 'change-set'},
      })
      const stack = result.stacks.find((s) => s.stackName === this.stackName)
      if (!stack) throw internalError('STACK_NOT_DEPLOYED', `The toolkit reported no result for ${this.stackName}.`, 'Run the deploy again with DEVFLOW_DEBUG=1 and report it.')
      // An environment-agnostic stack reports "unknown-region"/"unknown-account": use what we resolved.
      const known = (value: string, fallback: string) => (value && !value.startsWith('unknown-') ? value : fallback)
      return {stackName: stack.stackName, region: known(stack.environment.region, region), account: known(stack.environment.account, account), outputs: outputsByKey(stack.outputs)}
    })
  }

  async diff(): Promise<PlatformDiff> {
    return this.guard('Comparing', async () => {
      const diffs = await this.toolkit.diff(await this.source(), {stacks: this.selection(), method: this.forEmulator ? DiffMethod.TemplateOnly() : DiffMethod.ChangeSet({fallbackToTemplate: true})})
      const diff = diffs[this.stackName] ?? Object.values(diffs)[0]
      const changes: StackChange[] = []
      diff?.resources.forEachDifference((logicalId, change) => {
        const kind = change.isAddition ? 'add' : change.isRemoval ? 'remove' : change.changeImpact === 'WILL_REPLACE' ? 'replace' : 'update'
        changes.push({logicalId, resourceType: change.newResourceType ?? change.oldResourceType ?? '', change: kind})
      })
      return {stackName: this.stackName, changes, securityChanges: Boolean(diff && diff.permissionsAnyChanges)}
    })
  }

  async destroy(): Promise<{stackName: string}> {
    return this.guard('Destroying', async () => {
      await this.toolkit.destroy(await this.source(), {stacks: this.selection()})
      return {stackName: this.stackName}
    })
  }

  private selection() {
    return {strategy: StackSelectionStrategy.PATTERN_MUST_MATCH_SINGLE, patterns: [stackIdFor(this.stage)]}
  }

  private async source(outdir?: string): Promise<ICloudAssemblySource> {
    // Bundling asks npm for its version; its update notice would land among our progress lines.
    process.env.npm_config_update_notifier = 'false'
    const stage = this.stage
    return this.toolkit.fromAssemblyBuilder(
      async (props) => routingBundlingNotices(this.options.progress, async () => buildApp({context: {...props.context, [CONTEXT_KEYS.stages]: stage}, outdir: props.outdir}).synth()),
      {
        contextStore: new CdkAppMultiContext(this.projectRoot, this.options.context ?? {}),
        outdir,
        lookups: false,
        // The stacks are environment-agnostic: nothing to resolve before synthesis.
        resolveDefaultEnvironment: false,
      },
    )
  }

  private async guard<T>(action: string, work: () => Promise<T>): Promise<T> {
    try {
      return await work()
    } catch (error) {
      throw classifyToolkitError(`${action} ${this.stackName}`, this.progress, error)
    }
  }
}

/** CFN output keys -> the camelCase keys of OUTPUT_KEYS; outputs DevFlow does not know are dropped. */
export function outputsByKey(outputs: Record<string, string>): Partial<Record<DeploymentKey, string>> {
  const result: Partial<Record<DeploymentKey, string>> = {}
  for (const [key, outputKey] of Object.entries(OUTPUT_KEYS) as [DeploymentKey, string][]) {
    if (outputs[outputKey] !== undefined) result[key] = outputs[outputKey]
  }
  return result
}

/** What `devflow deploy` keeps in the config. */
export function deploymentRecord(deployed: DeployedPlatform): Deployment & Record<string, string> {
  return {...(deployed.outputs as Record<string, string>), stackName: deployed.stackName, region: deployed.region, account: deployed.account}
}
