/**
 * The base of the `devflow session …` commands: the global flags plus the session client for the
 * selected mode (src/cli/session-client.ts), built once per command.
 */
import type {Command} from '@oclif/core'

import {parseDuration} from '../core/validation.js'
import {BaseCommand} from './base-command.js'
import {openSessionClient, type SessionClient, type SessionMode, sessionModeFor} from './session-client.js'

export abstract class SessionCommand<T extends typeof Command> extends BaseCommand<T> {
  private client?: SessionClient

  protected async sessionClient(): Promise<SessionClient> {
    if (!this.client) {
      const flags = this.flags as {admin?: boolean}
      const version = this.config.version
      this.client = await openSessionClient({
        admin: flags.admin === true,
        stage: await this.stage(),
        endpoint: await this.setting('endpoint'),
        config: await this.configFile(),
        aws: await this.awsEnvironment(),
        userAgent: `devflow-cli/${version}`,
        async adminApi(aws, deployment) {
          const {adminSessionApi} = await import('./session-admin.js')
          return adminSessionApi(aws, deployment, version)
        },
      })
    }
    return this.client
  }

  /** The mode the client will use, known without connecting anywhere. */
  protected async sessionMode(): Promise<SessionMode> {
    return sessionModeFor((this.flags as {admin?: boolean}).admin === true, await this.configFile(), await this.stage())
  }

  /** How often the waiting loops poll; DEVFLOW_POLL_INTERVAL_MS tunes it (tests use a short one). */
  protected pollIntervalMs(): number {
    const configured = Number(process.env.DEVFLOW_POLL_INTERVAL_MS)
    return Number.isFinite(configured) && configured > 0 ? configured : 2000
  }

  /** A duration flag (`10m`, `1h30m`) in milliseconds. */
  protected durationMs(value: string, what: string): number {
    return parseDuration(value, what) * 1000
  }
}
