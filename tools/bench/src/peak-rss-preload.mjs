// Preloaded (node --import) into a spawned CLI by the bench: at exit, the process's peak RSS
// (getrusage ru_maxrss, KiB) and its CPU time (user + system, µs) go as JSON to the file
// KVMLAB_BENCH_RSS_FILE names.
import { writeFileSync } from 'node:fs';

const file = process.env.KVMLAB_BENCH_RSS_FILE;
if (file) {
  process.on('exit', () => {
    const u = process.resourceUsage();
    writeFileSync(file, JSON.stringify({ maxRssKiB: u.maxRSS, cpuUs: u.userCPUTime + u.systemCPUTime }));
  });
}
