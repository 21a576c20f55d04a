/**
 * The JSON documents the session commands print under --json, as zod models. `schemas/*.schema.json`
 * are generated from these (and a test fails when the two drift apart, or when a command prints
 * something its schema does not allow), so scripts can rely on the shapes.
 */
import * as z from 'zod'

import {Prompt, PromptEvent, Session} from '../core/models.js'
import {NotificationTestResult, UsageReport} from '../core/session-api.js'

export const SessionListDocument = z.object({items: z.array(Session), nextToken: z.string().optional()})

export const StopDocument = z.object({items: z.array(Session)})

export const PromptLog = Prompt.extend({events: z.array(PromptEvent)})

export const LogsDocument = z.object({sessionId: z.string(), prompts: z.array(PromptLog)})

export const EditorAccess = z.object({
  sessionId: z.string(),
  url: z.string(),
  /** Shown once: code-server's password for this session. */
  password: z.string().optional(),
  /** How the editor was reached: an SSM port forward, or a URL the runtime exposes directly. */
  via: z.enum(['ssm-port-forward', 'direct']),
  localPort: z.number().int().optional(),
  ssmSessionId: z.string().optional(),
})
export type EditorAccess = z.infer<typeof EditorAccess>

/** One line of `session prompt --stream`: a progress event, and last the prompt with its result. */
export const PromptStreamLine = z.union([z.strictObject({event: PromptEvent}), z.strictObject({prompt: Prompt})])

export const ErrorDocument = z.object({
  error: z.object({code: z.string(), message: z.string(), hint: z.string(), details: z.record(z.string(), z.unknown()).optional()}),
})

/** Schema file name (under schemas/) -> the model of what that command prints. */
export const OUTPUT_SCHEMAS: Readonly<Record<string, z.ZodType>> = {
  'session-start': Session,
  'session-list': SessionListDocument,
  'session-status': Session,
  'session-prompt': Prompt,
  'session-prompt-stream-line': PromptStreamLine,
  'session-logs': LogsDocument,
  'session-open': EditorAccess,
  'session-stop': StopDocument,
  'session-budget': Session,
  'session-resume': Session,
  usage: UsageReport,
  'notify-test': NotificationTestResult,
  error: ErrorDocument,
}

export function jsonSchemaFor(name: string): Record<string, unknown> {
  const schema = OUTPUT_SCHEMAS[name]
  return {
    $id: `https://devflow.dev/schemas/${name}.schema.json`,
    title: `devflow ${name.replaceAll('-', ' ')} --json`,
    ...z.toJSONSchema(schema, {target: 'draft-2020-12'}),
  }
}
