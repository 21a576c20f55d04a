// The repository's own setup, run once by entrypoint.sh after the clone and before the agent:
//   node repo-setup.mjs REPO_DIR SETUP_DIR
//
// Source, the first that exists:
// - `.devflow/setup.sh` (run with bash in the repository);
// - else the Dev Container configuration (`.devcontainer/devcontainer.json`, `.devcontainer.json`,
//   or the single `.devcontainer/<name>/devcontainer.json`): its `onCreateCommand`,
//   `updateContentCommand` and `postCreateCommand`, in that order, each in the three forms of the
//   Dev Containers spec: a string (run by /bin/sh), an array (run as is, no shell), an object
//   (its values, strings or arrays, run in parallel).
// `containerEnv` and `remoteEnv` of the configuration apply to the commands and, through
// SETUP_DIR/env, to the editor and the agent. What a Fargate task cannot honour (image, features,
// mounts, ports, ...) is named as ignored.
//
// Writes SETUP_DIR/output.log (every line the commands printed, also echoed to stdout),
// SETUP_DIR/env (KEY=VALUE records, NUL-separated) and SETUP_DIR/result.json:
//   {status: "succeeded"|"failed"|"none", source, commands: [{name, exitCode, durationMs}],
//    ignored: [...], failed?: {name, exitCode, message, lastLines}}
// Exit status 0 unless the setup failed (1).
import {spawn} from 'node:child_process'
import {existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync, appendFileSync} from 'node:fs'
import {constants} from 'node:os'
import {basename, join} from 'node:path'

const LIFECYCLE = ['onCreateCommand', 'updateContentCommand', 'postCreateCommand']
const LAST_LINES = 20
// Names DevFlow sets for the task: a repository may not change them.
const RESERVED = /^(DEVFLOW_.*|SESSION_ID|REPO|REPO_URL|REPO_DIR|BRANCH|WORKSPACE_DIR|STATE_DIR|EDITOR_PASSWORD|ANTHROPIC_API_KEY|HOME|USER)$/
const IGNORED = {
  image: 'the workspace always runs the DevFlow image',
  build: 'the workspace always runs the DevFlow image',
  dockerFile: 'the workspace always runs the DevFlow image',
  dockerComposeFile: 'Fargate runs one container per session',
  features: 'Dev Container features need an image build; install tools in onCreateCommand or .devflow/setup.sh instead',
  mounts: 'a Fargate task mounts nothing from a host',
  workspaceMount: 'the repository is cloned into the workspace',
  workspaceFolder: 'the repository is cloned into the workspace',
  runArgs: 'the task definition sets how the container runs',
  privileged: 'Fargate runs no privileged containers',
  capAdd: 'Fargate adds no capabilities',
  securityOpt: 'the task definition sets how the container runs',
  forwardPorts: 'only the editor port is reachable, through `devflow session open`',
  appPort: 'only the editor port is reachable, through `devflow session open`',
  initializeCommand: 'it runs on the host before the container exists',
  postStartCommand: 'not run by DevFlow',
  postAttachCommand: 'not run by DevFlow',
  remoteUser: 'the workspace user is coder',
  containerUser: 'the workspace user is coder',
  hostRequirements: 'the session\'s --cpu and --memory size the task',
}

const [repoDir, setupDir] = process.argv.slice(2)
if (!repoDir || !setupDir) {
  console.error('usage: node repo-setup.mjs REPO_DIR SETUP_DIR')
  process.exit(2)
}
mkdirSync(setupDir, {recursive: true})
const outputLog = join(setupDir, 'output.log')
writeFileSync(outputLog, '')

/** JSON with comments and trailing commas (JSONC, as devcontainer.json is written). */
function parseJsonc(text) {
  let out = ''
  for (let i = 0; i < text.length; i++) {
    const c = text[i]
    if (c === '"') {
      let j = i + 1
      while (j < text.length && text[j] !== '"') j += text[j] === '\\' ? 2 : 1
      out += text.slice(i, j + 1)
      i = j
    } else if (c === '/' && text[i + 1] === '/') {
      while (i < text.length && text[i] !== '\n') i++
      out += '\n'
    } else if (c === '/' && text[i + 1] === '*') {
      const end = text.indexOf('*/', i + 2)
      i = end === -1 ? text.length : end + 1
    } else {
      out += c
    }
  }
  return JSON.parse(out.replace(/,(\s*[}\]])/g, '$1'))
}

function findDevcontainer(dir) {
  for (const candidate of [join(dir, '.devcontainer', 'devcontainer.json'), join(dir, '.devcontainer.json')]) {
    if (existsSync(candidate)) return candidate
  }
  const folder = join(dir, '.devcontainer')
  if (!existsSync(folder)) return undefined
  const nested = readdirSync(folder, {withFileTypes: true})
    .filter((entry) => entry.isDirectory() && existsSync(join(folder, entry.name, 'devcontainer.json')))
    .map((entry) => join(folder, entry.name, 'devcontainer.json'))
  return nested.length === 1 ? nested[0] : undefined
}

/** ${localEnv:X}, ${containerEnv:X} (with :default), and the workspace folder variables. */
function substitute(value, env) {
  if (typeof value !== 'string') return value
  return value.replace(/\$\{([^}:]+)(?::([^}:]+))?(?::([^}]*))?\}/g, (whole, kind, name, fallback) => {
    if (kind === 'localEnv' || kind === 'containerEnv' || kind === 'env') return env[name] ?? fallback ?? ''
    if (kind === 'localWorkspaceFolder' || kind === 'containerWorkspaceFolder') return repoDir
    if (kind === 'localWorkspaceFolderBasename' || kind === 'containerWorkspaceFolderBasename') return basename(repoDir)
    return whole
  })
}

function environmentOf(config, ignored) {
  const env = {...process.env}
  const set = {}
  for (const key of ['containerEnv', 'remoteEnv']) {
    const entries = config[key]
    if (entries === undefined) continue
    if (typeof entries !== 'object' || entries === null || Array.isArray(entries)) throw new Error(`${key} must be an object of names to values`)
    for (const [name, raw] of Object.entries(entries)) {
      if (RESERVED.test(name)) {
        ignored.push(`${key}.${name}: DevFlow sets it for the session`)
        continue
      }
      if (raw === null) {
        delete env[name]
        set[name] = null
        continue
      }
      const value = substitute(String(raw), env)
      env[name] = value
      set[name] = value
    }
  }
  return {env, set}
}

/** A lifecycle property -> the runs it stands for: [{label, shell} | {label, exec}], parallel when several. */
function runsOf(name, value) {
  const one = (label, command) => {
    if (typeof command === 'string') return {label, shell: command}
    if (Array.isArray(command) && command.length > 0 && command.every((part) => typeof part === 'string')) return {label, exec: command}
    throw new Error(`${label} must be a string, an array of strings or an object of them`)
  }
  if (typeof value === 'string' || Array.isArray(value)) return [one(name, value)]
  if (value && typeof value === 'object') return Object.entries(value).map(([key, command]) => one(`${name}.${key}`, command))
  throw new Error(`${name} must be a string, an array of strings or an object of them`)
}

// Each command runs in its own process group, so a stop reaches whatever it started.
const running = new Set()
process.on('SIGTERM', () => {
  for (const child of running) {
    try {
      process.kill(-child.pid, 'SIGTERM')
    } catch {
      // It ended meanwhile.
      continue
    }
  }
  process.exit(143)
})

const recent = []
function emit(prefix, line) {
  const text = prefix ? `[${prefix}] ${line}` : line
  appendFileSync(outputLog, `${text}\n`)
  process.stdout.write(`${text}\n`)
  recent.push(text)
  if (recent.length > LAST_LINES) recent.shift()
}

function runOne(run, env, prefixed) {
  return new Promise((resolve) => {
    const started = Date.now()
    const [command, args] = run.shell !== undefined ? ['/bin/sh', ['-c', run.shell]] : [run.exec[0], run.exec.slice(1)]
    emit(undefined, `$ ${run.shell ?? run.exec.join(' ')}`)
    const child = spawn(command, args, {cwd: repoDir, env, stdio: ['ignore', 'pipe', 'pipe'], detached: true})
    running.add(child)
    const prefix = prefixed ? run.label : undefined
    for (const stream of [child.stdout, child.stderr]) {
      let pending = ''
      stream.on('data', (chunk) => {
        pending += chunk.toString('utf8')
        const lines = pending.split('\n')
        pending = lines.pop()
        for (const line of lines) emit(prefix, line)
      })
      stream.on('end', () => pending && emit(prefix, pending))
    }
    child.on('error', (error) => {
      emit(prefix, `could not run ${command}: ${error.message}`)
      resolve({name: run.label, exitCode: 127, durationMs: Date.now() - started})
    })
    child.on('close', (code, signal) => {
      running.delete(child)
      resolve({name: run.label, exitCode: code ?? 128 + (constants.signals[signal] ?? 0), durationMs: Date.now() - started})
    })
  })
}

function finish(result) {
  writeFileSync(join(setupDir, 'result.json'), `${JSON.stringify(result)}\n`)
  process.exit(result.status === 'failed' ? 1 : 0)
}

function writeEnv(set) {
  const records = Object.entries(set).map(([name, value]) => (value === null ? `${name}` : `${name}=${value}`))
  writeFileSync(join(setupDir, 'env'), records.map((record) => `${record}\0`).join(''))
}

async function main() {
  const ignored = []
  const commands = []
  const script = join(repoDir, '.devflow', 'setup.sh')
  const configFile = findDevcontainer(repoDir)
  let config = {}
  let source
  if (configFile) {
    const relative = configFile.slice(repoDir.length + 1)
    try {
      config = parseJsonc(readFileSync(configFile, 'utf8'))
      if (typeof config !== 'object' || config === null || Array.isArray(config)) throw new Error('the file is not a JSON object')
    } catch (error) {
      const message = `${relative} could not be read: ${error.message}`
      emit(undefined, message)
      finish({status: 'failed', source: relative, commands, ignored, failed: {name: relative, exitCode: 1, message, lastLines: [...recent]}})
    }
    source = relative
    for (const key of Object.keys(IGNORED)) if (config[key] !== undefined) ignored.push(`${key}: ${IGNORED[key]}`)
  }
  let env
  let set
  try {
    ;({env, set} = environmentOf(config, ignored))
  } catch (error) {
    finish({status: 'failed', source, commands, ignored, failed: {name: source, exitCode: 1, message: error.message, lastLines: []}})
  }
  writeEnv(set)
  let steps
  if (existsSync(script)) {
    if (source) ignored.push(...LIFECYCLE.filter((name) => config[name] !== undefined).map((name) => `${name}: .devflow/setup.sh is run instead`))
    source = source ? `.devflow/setup.sh (with the environment of ${source})` : '.devflow/setup.sh'
    steps = [{name: '.devflow/setup.sh', runs: [{label: '.devflow/setup.sh', exec: ['bash', script]}]}]
  } else {
    try {
      steps = LIFECYCLE.filter((name) => config[name] !== undefined).map((name) => ({name, runs: runsOf(name, substituteCommand(config[name], env))}))
    } catch (error) {
      finish({status: 'failed', source, commands, ignored, failed: {name: source, exitCode: 1, message: error.message, lastLines: []}})
    }
  }
  for (const note of ignored) emit(undefined, `ignored ${note}`)
  if (steps.length === 0) finish({status: 'none', source: source ?? null, commands, ignored})
  for (const step of steps) {
    const results = await Promise.all(step.runs.map((run) => runOne(run, env, step.runs.length > 1)))
    commands.push(...results)
    const bad = results.find((r) => r.exitCode !== 0)
    if (bad) {
      const message = `${bad.name} exited with status ${bad.exitCode}`
      finish({status: 'failed', source, commands, ignored, failed: {name: bad.name, exitCode: bad.exitCode, message, lastLines: [...recent]}})
    }
  }
  finish({status: 'succeeded', source, commands, ignored})
}

function substituteCommand(value, env) {
  if (typeof value === 'string') return substitute(value, env)
  if (Array.isArray(value)) return value.map((part) => substitute(part, env))
  if (value && typeof value === 'object') return Object.fromEntries(Object.entries(value).map(([key, command]) => [key, substituteCommand(command, env)]))
  return value
}

await main()
