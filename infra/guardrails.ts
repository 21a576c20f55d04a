/**
 * The guardrail context keys (issue 15) read into a stage's settings: the egress allow-list, the
 * budgets and the price override. `-c` / cdk.json values win over infra/stages.ts.
 */
import {type BudgetLimits, parseBudgetLimits} from '../src/core/budgets.js'
import {BASE_EGRESS_ALLOW, parseEgressList} from '../src/core/egress.js'
import type {EgressPolicy} from '../src/core/egress-policy.js'
import {invalidInput} from '../src/core/errors.js'
import {parsePriceOverride, type PriceOverride} from '../src/core/pricing.js'
import {parseWebhookFormat, parseWebhookUrl} from '../src/core/notifications.js'
import {CONTEXT_KEYS, type EgressSettings, type NotificationSettings, type StageSettings} from './stages.js'

export function egressSettingsFrom(context: Record<string, unknown>, stage: StageSettings): EgressSettings {
  return {
    mode: egressMode(context[CONTEXT_KEYS.egress], stage.egress.mode),
    allow: [...new Set([...parseEgressList([...stage.egress.allow]), ...extraDomains(context[CONTEXT_KEYS.egressAllow], stage.name)])],
    http: flag(context[CONTEXT_KEYS.egressHttp], CONTEXT_KEYS.egressHttp) ?? stage.egress.http,
    repositoryAdditions: flag(context[CONTEXT_KEYS.egressRepositoryAdditions], CONTEXT_KEYS.egressRepositoryAdditions) ?? stage.egress.repositoryAdditions ?? false,
  }
}

/** The policy the functions and `devflow doctor` read (src/core/egress-policy.ts), as JSON text. */
export function egressPolicyText(egress: EgressSettings): string {
  const policy: EgressPolicy = {mode: egress.mode, allow: [...egress.allow], repositoryAdditions: egress.repositoryAdditions ?? false}
  return JSON.stringify(policy)
}

/** The stage's budgets with the context's figures over them. */
export function budgetLimitsFrom(context: Record<string, unknown>, stage: StageSettings): BudgetLimits {
  const raw = jsonText(context[CONTEXT_KEYS.budgets])
  return raw === undefined ? stage.budgets : {...stage.budgets, ...parseBudgetLimits(raw)}
}

/** The stage's Fargate price override, if the context sets one. */
export function priceOverrideFrom(context: Record<string, unknown>): PriceOverride | undefined {
  const raw = jsonText(context[CONTEXT_KEYS.prices])
  return raw === undefined ? undefined : parsePriceOverride(raw)
}

/** A context value given as JSON text (-c) or as an object (cdk.json). */
function jsonText(value: unknown): string | undefined {
  if (value === undefined || value === null || value === '') return undefined
  return typeof value === 'string' ? value : JSON.stringify(value)
}

/** Every domain the workspaces of a stage may resolve; `region` and `apiDomain` may be CDK tokens. */
export function workspaceAllowList(egress: EgressSettings, awsEndpoints: readonly string[], apiDomain: string): string[] {
  return [...new Set([...BASE_EGRESS_ALLOW, ...egress.allow, ...awsEndpoints, apiDomain])]
}

function egressMode(value: unknown, fallback: EgressSettings['mode']): EgressSettings['mode'] {
  if (value === undefined || value === null || value === '') return fallback
  if (value === 'open' || value === 'allowList') return value
  throw invalidInput('INVALID_CONTEXT', `${CONTEXT_KEYS.egress} must be open or allowList, not "${String(value)}".`, `Pass -c ${CONTEXT_KEYS.egress}=open to turn the egress allow-list off.`)
}

function extraDomains(value: unknown, stage: string): string[] {
  if (value === undefined || value === null || value === '') return []
  let parsed = value
  if (typeof value === 'string' && /^\s*[[{]/.test(value)) {
    try {
      parsed = JSON.parse(value)
    } catch (error) {
      throw invalidInput('INVALID_CONTEXT', `${CONTEXT_KEYS.egressAllow} is not JSON: ${(error as Error).message}.`, 'Give a JSON array, {"<stage>": [...]}, or comma-separated names.', {cause: error})
    }
  }
  if (typeof parsed === 'object' && parsed !== null && !Array.isArray(parsed)) return parseEgressList((parsed as Record<string, unknown>)[stage])
  return parseEgressList(parsed)
}

function flag(value: unknown, key: string): boolean | undefined {
  if (value === undefined || value === null || value === '') return undefined
  if (value === true || value === 'true') return true
  if (value === false || value === 'false') return false
  throw invalidInput('INVALID_CONTEXT', `${key} must be true or false, not "${String(value)}".`, `Pass -c ${key}=true.`)
}

/** The notification webhook settings from the context; none when no URL is given. */
export function notificationSettingsFrom(context: Record<string, unknown>): NotificationSettings {
  const text = (key: string) => {
    const value = context[key]
    return value === undefined || value === null || value === '' ? undefined : String(value)
  }
  const url = text(CONTEXT_KEYS.notifyWebhook)
  if (!url) return {}
  const format = text(CONTEXT_KEYS.notifyFormat)
  const secretName = text(CONTEXT_KEYS.notifySecret)
  return {webhookUrl: parseWebhookUrl(url), ...(format ? {format: parseWebhookFormat(format)} : {}), ...(secretName ? {secretName} : {})}
}
