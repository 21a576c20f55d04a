/**
 * The value the stack creates each DevFlow secret with, until `devflow secrets set` writes the real
 * one. CloudFormation needs some value; this one is recognisable, so `devflow secrets status` can
 * tell "created by the stack" from "set by an operator", and never reads like a key.
 */
export const UNSET_SECRET_VALUE = 'devflow:not-set'
