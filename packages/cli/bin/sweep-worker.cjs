'use strict';
// The sweep's worker-thread entry, in CommonJS on purpose. piscina loads a worker module with
// require() first; on Node 20.19+ require() of an ES module goes through require(esm), which
// can abort the whole process (a V8 fatal error, "IsGraphAsync must be used on an instantiated
// module") when a worker thread is torn down while that synchronous load is under way. Seen
// once in a loaded test run of `kvmlab sweep`. A CommonJS entry is loaded by plain require();
// the ES module (dist/sweep/worker.js) is then loaded with import(), asynchronously, on the
// worker's first task.
let runTask;
module.exports = async function sweepWorker(task) {
  runTask ??= (await import('../dist/sweep/worker.js')).default;
  return runTask(task);
};
