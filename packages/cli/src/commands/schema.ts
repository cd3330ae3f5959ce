/** `kvmlab schema [kind]`: the JSON Schema of the `--json` documents, generated from the zod schemas. */
import { Argument, type Command } from 'commander';
import { z } from 'zod';
import type { CliContext } from '../context.js';
import { affectedOutputJson, capsOutputJson, cliOutputJson, conformOutputJson, demoOutputJson, listOutputJson, matrixOutputJson, runOutputJson, stringifyJson } from '../json-output.js';

const SCHEMAS = { all: cliOutputJson, run: runOutputJson, matrix: matrixOutputJson, demo: demoOutputJson, list: listOutputJson, caps: capsOutputJson, affected: affectedOutputJson, conform: conformOutputJson } as const;

export function registerSchema(program: Command, ctx: CliContext): void {
  program
    .command('schema')
    .description('print the JSON Schema (draft 2020-12) of the --json output')
    .addArgument(new Argument('[kind]', 'which document').choices(Object.keys(SCHEMAS)).default('all'))
    .action((kind: keyof typeof SCHEMAS) => {
      ctx.io.out(stringifyJson(z.toJSONSchema(SCHEMAS[kind], { io: 'output' })));
    });
}
