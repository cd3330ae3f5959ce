/**
 * Which errors are the user's mistakes and how each reads as one line. A UsageError is the
 * CLI's own; a ScenarioOptionError is a scenario refusing option values (core's typed error,
 * thrown while options are checked or when the run starts); a CompositionError is a plugin
 * list that cannot be composed; commander's InvalidArgumentError is a bad flag value. All of
 * them exit 2. Anything else is a failure of kvmlab itself (exit 1).
 */
import { InvalidArgumentError } from 'commander';
import { CompositionError, ScenarioOptionError } from '@kvmlab/hypervisor-core';
import { UsageError } from './errors.js';
import { optionMessage } from './scenario-options.js';

/** The one-line message for a user mistake, or undefined if `e` is not one. */
export function userMistake(e: unknown): string | undefined {
  if (e instanceof UsageError || e instanceof InvalidArgumentError) return e.message;
  if (e instanceof ScenarioOptionError) return optionMessage(undefined, e);
  if (e instanceof CompositionError) return `cannot compose these plugins: ${e.message}`;
  return undefined;
}
