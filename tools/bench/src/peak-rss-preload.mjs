// Preloaded (node --import) into a spawned CLI by the bench: at exit, the process's peak RSS
// (getrusage ru_maxrss, KiB) goes to the file KVMLAB_BENCH_RSS_FILE names.
import { writeFileSync } from 'node:fs';

const file = process.env.KVMLAB_BENCH_RSS_FILE;
if (file) process.on('exit', () => writeFileSync(file, String(process.resourceUsage().maxRSS)));
