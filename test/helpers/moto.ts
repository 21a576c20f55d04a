/**
 * moto_server as the AWS API for integration and e2e tests.
 *
 * One server per test run, started on a free 127.0.0.1 port the first time a test asks for it and
 * stopped when mocha ends (or reused when DEVFLOW_TEST_MOTO_URL points at one that .ci/run
 * started). Tests reset it with `reset()` so each starts from empty AWS. Under `mocha --parallel`
 * (`npm test`) each worker process runs its files one after another against a server of its own:
 * one shared server would be reset under another worker's feet.
 */
import {type ChildProcess, spawn} from 'node:child_process'
import {createServer} from 'node:net'

export interface Moto {
  /** http://localhost:PORT: what AWS_ENDPOINT_URL should be (CDK template URLs need a host name). */
  readonly url: string
  readonly port: number
  reset(): Promise<void>
  /** Environment for an SDK client or a CLI process talking to this moto. */
  env(): Record<string, string>
  /** Pins a model's state transitions, e.g. ('ecs::task', {progression: 'immediate'}). */
  setTransition(modelName: string, transition: Record<string, unknown>): Promise<void>
}

export const TEST_ACCOUNT = '123456789012'
export const TEST_REGION = 'us-east-1'

// mocha loads its global fixtures and the test files through different module loaders, so this
// module may exist twice in one process: the server handle lives on globalThis, shared by both.
interface MotoState {
  started?: Promise<Moto>
  child?: ChildProcess
}
const state: MotoState = ((globalThis as {__devflowMoto?: MotoState}).__devflowMoto ??= {})

export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer()
    server.unref()
    server.on('error', reject)
    server.listen(0, '127.0.0.1', () => {
      const address = server.address()
      server.close(() => (typeof address === 'object' && address ? resolve(address.port) : reject(new Error('no port'))))
    })
  })
}

async function waitUntilUp(url: string, deadline: number): Promise<void> {
  let lastError: unknown
  while (Date.now() < deadline) {
    try {
      const response = await fetch(`${url}/moto-api/data.json`)
      if (response.ok) return
    } catch (error) {
      lastError = error
    }
    await new Promise((resolve) => setTimeout(resolve, 150))
  }
  throw new Error(`moto_server did not answer at ${url}: ${String(lastError)}`)
}

function motoAt(url: string): Moto {
  const port = Number(new URL(url).port)
  return {
    url,
    port,
    async reset() {
      const response = await fetch(`${url}/moto-api/reset`, {method: 'POST'})
      if (!response.ok) throw new Error(`moto reset failed: ${response.status}`)
    },
    env() {
      return {
        AWS_ENDPOINT_URL: url,
        AWS_ACCESS_KEY_ID: 'testing',
        AWS_SECRET_ACCESS_KEY: 'testing',
        AWS_REGION: TEST_REGION,
        AWS_DEFAULT_REGION: TEST_REGION,
        AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true',
      }
    },
    async setTransition(modelName, transition) {
      const response = await fetch(`${url}/moto-api/state-manager/set-transition`, {
        method: 'POST',
        body: JSON.stringify({model_name: modelName, transition}),
      })
      if (!response.ok) throw new Error(`moto set-transition failed: ${response.status} ${await response.text()}`)
    },
  }
}

async function start(): Promise<Moto> {
  const external = process.env.MOCHA_WORKER_ID === undefined ? process.env.DEVFLOW_TEST_MOTO_URL : undefined
  if (external) {
    await waitUntilUp(external, Date.now() + 30_000)
    return motoAt(external)
  }
  const port = await freePort()
  const child = spawn('moto_server', ['-H', '127.0.0.1', '-p', String(port)], {stdio: ['ignore', 'ignore', 'pipe']})
  state.child = child
  // Never leave a server behind, even when mocha exits without running the teardown (a parallel
  // worker never runs it: the pool ends the worker, by a message or a signal).
  process.once('exit', () => child.kill('SIGKILL'))
  if (process.env.MOCHA_WORKER_ID !== undefined) {
    for (const signal of ['SIGTERM', 'SIGINT'] as const) process.once(signal, () => process.exit(1))
  }
  let stderr = ''
  child.stderr?.on('data', (chunk) => {
    stderr = (stderr + String(chunk)).slice(-4000)
  })
  const url = `http://localhost:${port}`
  try {
    await waitUntilUp(url, Date.now() + 60_000)
  } catch (error) {
    child.kill('SIGKILL')
    throw new Error(`${(error as Error).message}\n${stderr}`)
  }
  return motoAt(url)
}

/** The shared moto_server, reset. */
export async function moto(): Promise<Moto> {
  state.started ??= start()
  const instance = await state.started
  await instance.reset()
  return instance
}

export function stopMoto(): void {
  state.child?.kill('SIGTERM')
  state.child?.stderr?.destroy()
  state.child = undefined
  state.started = undefined
}
