/** The logic behind `devflow config set|get|unset|list`, so the commands stay thin. */
import {invalidInput, notFound} from '../core/errors.js'
import {ConfigFile, type ResolvedSetting, SETTING_KEYS, SETTINGS, settingSpec} from './config.js'

export interface SettingWrite {
  readonly key: string
  readonly value?: string
  readonly scope: string
  readonly file: string
}

/** `--stage` given explicitly scopes the write to that stage; otherwise it is global. */
function scopeFor(key: string, stage: string | undefined): string | undefined {
  const spec = settingSpec(key)
  if (stage !== undefined && spec.scope === 'global') {
    throw invalidInput('CONFIG_KEY_NOT_PER_STAGE', `"${key}" applies to every stage and cannot be set per stage.`, `Run \`devflow config set ${key} <value>\` without --stage.`)
  }
  return stage
}

export async function setSetting(config: ConfigFile, key: string, value: string, stage?: string): Promise<SettingWrite> {
  const scope = scopeFor(key, stage)
  const normalised = SETTINGS[key].parse(value)
  config.setSetting(key, normalised, scope)
  await config.save()
  return {key, value: normalised, scope: scope ? `stage ${scope}` : 'global', file: config.path}
}

export async function unsetSetting(config: ConfigFile, key: string, stage?: string): Promise<SettingWrite & {removed: boolean}> {
  const scope = scopeFor(key, stage)
  const removed = config.unsetSetting(key, scope)
  if (removed) await config.save()
  return {key, scope: scope ? `stage ${scope}` : 'global', file: config.path, removed}
}

export function getSetting(resolved: Record<string, ResolvedSetting>, key: string): ResolvedSetting & {value: string} {
  settingSpec(key)
  const setting = resolved[key]
  if (setting.value === undefined) {
    throw notFound('CONFIG_KEY_UNSET', `"${key}" is not set.`, `Set it with \`devflow config set ${key} <value>\` or the ${SETTINGS[key].env} environment variable.`)
  }
  return setting as ResolvedSetting & {value: string}
}

export function listSettings(resolved: Record<string, ResolvedSetting>): ResolvedSetting[] {
  return SETTING_KEYS.map((key) => resolved[key])
}
