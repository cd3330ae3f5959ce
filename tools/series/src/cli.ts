// Entry point of the `kvmlab-series` bin (bin/kvmlab-series.js imports the built file).
import { main } from './cli-main.js';

const io = { out: (s: string) => console.log(s), err: (s: string) => console.error(s), cwd: process.cwd() };
main(process.argv.slice(2), io).then(
  (code) => {
    process.exitCode = code;
  },
  (e: unknown) => {
    console.error(`kvmlab-series: ${e instanceof Error ? e.message : String(e)}`);
    process.exitCode = 1;
  },
);
