/**
 * The session and prompt state machines of DESIGN.md, as pure functions. Stores apply a transition
 * as a conditional write on the record's version; these functions decide whether it is legal.
 */
import {conflict} from './errors.js'
import type {PromptStatus, SessionStatus} from './models.js'

const SESSION_TRANSITIONS: Record<SessionStatus, readonly SessionStatus[]> = {
  PENDING: ['PROVISIONING', 'STOPPING', 'STOPPED', 'FAILED'],
  PROVISIONING: ['RUNNING', 'STOPPING', 'STOPPED', 'FAILED'],
  RUNNING: ['STOPPING', 'STOPPED', 'FAILED'],
  STOPPING: ['STOPPED', 'FAILED'],
  // `session resume` (core/services/session-resume.ts): a new task for the same session.
  STOPPED: ['PENDING'],
  FAILED: ['PENDING'],
}

const PROMPT_TRANSITIONS: Record<PromptStatus, readonly PromptStatus[]> = {
  // QUEUED -> FAILED: a prompt whose session ended before an agent took it.
  QUEUED: ['RUNNING', 'CANCELLED', 'FAILED'],
  // RUNNING -> QUEUED: an expired lease is handed back for another attempt.
  RUNNING: ['SUCCEEDED', 'FAILED', 'CANCELLED', 'QUEUED'],
  SUCCEEDED: [],
  FAILED: [],
  CANCELLED: [],
}

export const TERMINAL_SESSION_STATUSES: readonly SessionStatus[] = ['STOPPED', 'FAILED']
export const ACTIVE_SESSION_STATUSES: readonly SessionStatus[] = ['PENDING', 'PROVISIONING', 'RUNNING']
export const TERMINAL_PROMPT_STATUSES: readonly PromptStatus[] = ['SUCCEEDED', 'FAILED', 'CANCELLED']

export function canTransitionSession(from: SessionStatus, to: SessionStatus): boolean {
  return SESSION_TRANSITIONS[from].includes(to)
}

export function canTransitionPrompt(from: PromptStatus, to: PromptStatus): boolean {
  return PROMPT_TRANSITIONS[from].includes(to)
}

/** Throws SESSION_WRONG_STATE (409 / exit 5) unless `from -> to` is legal. */
export function assertSessionTransition(from: SessionStatus, to: SessionStatus, sessionId?: string): void {
  if (!canTransitionSession(from, to)) {
    const subject = sessionId ? `Session ${sessionId}` : 'The session'
    throw conflict(
      'SESSION_WRONG_STATE',
      `${subject} is ${from} and cannot become ${to}.`,
      isSessionTerminal(from)
        ? 'The session has ended; start a new one with `devflow session start`.'
        : 'Check its state with `devflow session status <id>` and try again.',
      {details: {status: from, requested: to}},
    )
  }
}

/** Throws PROMPT_WRONG_STATE (409 / exit 5) unless `from -> to` is legal. */
export function assertPromptTransition(from: PromptStatus, to: PromptStatus, promptId?: string): void {
  if (!canTransitionPrompt(from, to)) {
    const subject = promptId ? `Prompt ${promptId}` : 'The prompt'
    throw conflict(
      'PROMPT_WRONG_STATE',
      `${subject} is ${from} and cannot become ${to}.`,
      'Read its current state with `devflow session logs <session> --prompt <id>`.',
      {details: {status: from, requested: to}},
    )
  }
}

export function isSessionTerminal(status: SessionStatus): boolean {
  return TERMINAL_SESSION_STATUSES.includes(status)
}

export function isSessionActive(status: SessionStatus): boolean {
  return ACTIVE_SESSION_STATUSES.includes(status)
}

export function isPromptTerminal(status: PromptStatus): boolean {
  return TERMINAL_PROMPT_STATUSES.includes(status)
}
