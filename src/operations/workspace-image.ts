/**
 * `devflow image build` and `devflow image push`: the workspace image from the container/
 * directory shipped with the CLI, built and tagged with its git commit, pushed to the stage's ECR
 * repository, its digest recorded, and the task definition family pointed at that digest.
 */
import {existsSync} from 'node:fs'
import {dirname, join} from 'node:path'
import {fileURLToPath} from 'node:url'

import type {ConfigFile} from '../cli/config.js'
import {LOCAL_IMAGE_NAME, WORKSPACE_CONTAINER_NAME} from '../core/deployment.js'
import {DevflowError, internalError, isDevflowError, notFound} from '../core/errors.js'
import {type EcrRepository, parseRepositoryUri, type RegistryLogin} from '../adapters/aws/ecr.js'
import type {TaskDefinitionRevision} from '../adapters/aws/task-definition-image.js'
import {DockerCli, isNotBuilt} from '../adapters/docker/docker-cli.js'
import {gitImageTag, parseImageTag} from '../adapters/docker/git-tag.js'

export const DEFAULT_PLATFORM = 'linux/amd64'

/** The container/ directory of this installation (a git checkout or the npm package). */
export function containerContextDir(from = fileURLToPath(import.meta.url)): string {
  for (let dir = dirname(from); dir !== dirname(dir); dir = dirname(dir)) {
    if (existsSync(join(dir, 'package.json')) && existsSync(join(dir, 'container', 'Dockerfile'))) return join(dir, 'container')
  }
  throw internalError('CONTAINER_DIR_MISSING', 'The container/ directory is missing from this DevFlow installation.', 'Reinstall the DevFlow CLI.')
}

export async function resolveImageTag(tag: string | undefined, context: string): Promise<string> {
  return tag === undefined ? gitImageTag(context) : parseImageTag(tag)
}

export interface BuildResult {
  readonly image: string
  readonly tag: string
  readonly platform: string
  readonly context: string
  readonly dockerVersion: string
}

export async function buildWorkspaceImage(
  docker: DockerCli,
  options: {tag?: string; platform?: string; buildArgs?: string[]; context?: string; onOutput?: (line: string) => void},
): Promise<BuildResult> {
  const context = options.context ?? containerContextDir()
  const tag = await resolveImageTag(options.tag, context)
  const platform = options.platform ?? DEFAULT_PLATFORM
  const image = `${LOCAL_IMAGE_NAME}:${tag}`
  let dockerVersion: string
  try {
    dockerVersion = await docker.engineVersion()
  } catch (error) {
    if (!isDevflowError(error) || !NO_DOCKER_ENGINE.includes(error.code)) throw error
    const hint = `${error.hint} Or build without a Docker engine: ${daemonlessBuildCommands(context, image, platform, options.buildArgs ?? [])}.`
    throw new DevflowError({kind: error.kind, code: error.code, message: error.message, hint, cause: error, ...(error.details ? {details: error.details} : {})})
  }
  await docker.build({context, tag: image, platform, buildArgs: options.buildArgs, onOutput: options.onOutput})
  return {image, tag, platform, context, dockerVersion}
}

const NO_DOCKER_ENGINE = ['DOCKER_ENGINE_DOWN', 'DOCKER_MISSING']

/** The same build with buildah or podman, which need no daemon (README: "Building the image without Docker"). */
export function daemonlessBuildCommands(context: string, image: string, platform: string, buildArgs: readonly string[]): string {
  const args = `--platform ${platform} --tag ${image}${buildArgs.map((arg) => ` --build-arg ${arg}`).join('')} ${context}`
  return `\`buildah build ${args}\` (as root without a daemon add \`--storage-driver vfs --isolation chroot\`; bench/image-build.sh builds it so on local base images), or \`podman build ${args}\``
}

export interface PushedImage {
  readonly repository: string
  readonly tag: string
  readonly digest: string
  /** repository@digest: what the task definition runs. */
  readonly imageUri: string
  readonly pushedAt: string
  /** The task definition revision registered with this image, when a deployment is known. */
  readonly taskDefinition?: string
}

export interface PushOptions {
  readonly repositoryUri: string
  readonly tag?: string
  readonly taskDefinition?: string
  readonly containerName: string
  readonly progress?: (step: string) => void
}

/** The registry holding the repository: a docker login and the digest of a pushed tag. */
export interface ImageRegistry {
  login(): Promise<RegistryLogin>
  digestOf(tag: string): Promise<string>
  destroy(): void
}

/** Registers the task definition family again with the workspace container on another image. */
export interface TaskDefinitionImages {
  registerWithImage(taskDefinition: string, containerName: string, image: string): Promise<TaskDefinitionRevision>
  destroy(): void
}

/**
 * What `image push` drives, built by the command. The repository's URI names its region, so the
 * registry and the task definitions are opened for it (ECR answers only there).
 */
export interface ImagePushPorts {
  readonly docker: DockerCli
  readonly openRegistry: (repository: EcrRepository) => Promise<ImageRegistry>
  readonly openTaskDefinitions: (repository: EcrRepository) => Promise<TaskDefinitionImages>
}

export async function pushWorkspaceImage(ports: ImagePushPorts, options: PushOptions): Promise<PushedImage> {
  const {docker} = ports
  const repository = parseRepositoryUri(options.repositoryUri)
  const tag = await resolveImageTag(options.tag, containerContextDir())
  const progress = options.progress ?? (() => undefined)
  await docker.engineVersion()
  const local = `${LOCAL_IMAGE_NAME}:${tag}`
  if (!(await docker.imageExists(local))) throw isNotBuilt(local)
  const remote = `${repository.uri}:${tag}`
  await docker.tag(local, remote)

  const registry = await ports.openRegistry(repository)
  try {
    progress(`Logging in to ${repository.registry}`)
    const login = await registry.login()
    await docker.login(login.registry, login.username, login.password)
    progress(`Pushing ${remote}`)
    await docker.push(remote)
    const digest = await registry.digestOf(tag)
    const imageUri = `${repository.uri}@${digest}`
    const pushed = {repository: repository.uri, tag, digest, imageUri, pushedAt: new Date().toISOString()}
    if (!options.taskDefinition) return pushed
    progress(`Registering ${imageUri} in the task definition`)
    const taskDefinitions = await ports.openTaskDefinitions(repository)
    try {
      const revision = await taskDefinitions.registerWithImage(options.taskDefinition, options.containerName, imageUri)
      return {...pushed, taskDefinition: revision.arn}
    } finally {
      taskDefinitions.destroy()
    }
  } finally {
    registry.destroy()
  }
}

/**
 * `image push` for a stage: into the deployment's ECR repository unless one is given, and the
 * digest is recorded in stages.<stage>.image, where `deploy` picks it up.
 */
export async function pushStageImage(
  deps: ImagePushPorts & {config: ConfigFile},
  request: {stage: string; tag?: string; repository?: string; progress?: (step: string) => void},
): Promise<PushedImage> {
  const {stage, config} = {stage: request.stage, config: deps.config}
  const deployment = config.getStageData(stage, 'deployment') ?? {}
  const repositoryUri = request.repository ?? deployment.ecrRepositoryUri
  if (!repositoryUri) {
    throw notFound('ECR_REPOSITORY_UNKNOWN', `No ECR repository is known for the stage "${stage}".`, `Run \`devflow deploy --stage ${stage}\` first, or pass --repository <uri>.`)
  }
  const pushed = await pushWorkspaceImage(deps, {
    repositoryUri,
    tag: request.tag,
    taskDefinition: deployment.taskDefinition,
    containerName: deployment.containerName ?? WORKSPACE_CONTAINER_NAME,
    progress: request.progress,
  })
  const {imageUri: _imageUri, ...recorded} = pushed
  config.setStageData(stage, 'image', {...recorded})
  await config.save()
  return pushed
}
