// The `kvmlab` executable (bin/kvmlab.js imports this file from dist/).
import { runCli } from './program.js';

process.exitCode = await runCli(process.argv.slice(2));
