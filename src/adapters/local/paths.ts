/**
 * Where `devflow local` keeps its state: one data directory (the database, the local token, the
 * server's pid and log, the sessions' workspaces, the local secrets).
 */
import {existsSync} from 'node:fs'
import {homedir} from 'node:os'
import {dirname, join, resolve} from 'node:path'
import {fileURLToPath} from 'node:url'

export const LOCAL_STAGE = 'local'
export const DEFAULT_LOCAL_PORT = 8787
export const LOCAL_HOST = '127.0.0.1'

/** $XDG_DATA_HOME/devflow/local, else ~/.local/share/devflow/local. */
export function defaultDataDir(env: NodeJS.ProcessEnv = process.env): string {
  const base = env.XDG_DATA_HOME || join(env.HOME || homedir(), '.local', 'share')
  return join(base, 'devflow', 'local')
}

export class LocalPaths {
  readonly dataDir: string

  constructor(dataDir: string) {
    this.dataDir = resolve(dataDir)
  }

  get database(): string {
    return join(this.dataDir, 'devflow.db')
  }

  /** The local API token (owner-only). */
  get token(): string {
    return join(this.dataDir, 'token')
  }

  /** The running server: pid, port, url (written by the server once it listens). */
  get server(): string {
    return join(this.dataDir, 'server.json')
  }

  get log(): string {
    return join(this.dataDir, 'server.log')
  }

  get secrets(): string {
    return join(this.dataDir, 'secrets.json')
  }
}

/** The package root (where package.json and container/ live), from src/ or dist/src/. */
export function packageRoot(): string {
  let dir = dirname(fileURLToPath(import.meta.url))
  while (!existsSync(join(dir, 'package.json'))) {
    const parent = dirname(dir)
    if (parent === dir) throw new Error('devflow: cannot find the package root')
    dir = parent
  }
  return dir
}
