/**
 * The page's side of the worker: one request at a time per kind, answers by id, progress
 * while a run goes on. cancel() terminates the worker (a scenario runs synchronously inside
 * it, so there is nothing softer to interrupt) and the next request starts a fresh one.
 */
import type { CatalogInfo, ComposeReport, Composition, FromWorker, RunReport, RunRequest, ToWorker } from './protocol.js';

type Pending = { resolve: (m: FromWorker) => void; reject: (e: Error) => void; progress?: (fraction: number, label: string) => void; figure?: (html: string) => void };

type Request = ToWorker extends infer T ? (T extends unknown ? Omit<T, 'id'> : never) : never;

export class Cancelled extends Error {
  constructor() {
    super('cancelled');
  }
}

export class ModelClient {
  private worker: Worker | undefined;
  private nextId = 1;
  private readonly pending = new Map<number, Pending>();

  private ensure(): Worker {
    if (this.worker !== undefined) return this.worker;
    const w = new Worker(new URL('./worker/worker.ts', import.meta.url), { type: 'module', name: 'kvmlab-model' });
    w.onmessage = (e: MessageEvent<FromWorker>) => {
      const m = e.data;
      const p = this.pending.get(m.id);
      if (p === undefined) return;
      if (m.kind === 'progress') {
        p.progress?.(m.fraction, m.label);
        return;
      }
      if (m.kind === 'figure') {
        this.pending.delete(m.id);
        p.figure?.(m.html);
        return;
      }
      // A run stays pending until its figure arrives.
      if (m.kind !== 'run') this.pending.delete(m.id);
      if (m.kind === 'error') p.reject(new Error(m.message));
      else p.resolve(m);
    };
    w.onerror = (e) => {
      for (const p of this.pending.values()) p.reject(new Error(e.message || 'the model worker failed'));
      this.pending.clear();
    };
    this.worker = w;
    return w;
  }

  private send(msg: Request, extra: Pick<Pending, 'progress' | 'figure'> = {}): Promise<FromWorker> {
    const id = this.nextId++;
    return new Promise((resolve, reject) => {
      this.pending.set(id, { resolve, reject, ...extra });
      this.ensure().postMessage({ ...msg, id } as ToWorker);
    });
  }

  async catalog(): Promise<CatalogInfo> {
    const m = await this.send({ kind: 'catalog' });
    if (m.kind !== 'catalog') throw new Error(`unexpected answer ${m.kind}`);
    return m.catalog;
  }

  async compose(composition: Composition): Promise<ComposeReport> {
    const m = await this.send({ kind: 'compose', composition });
    if (m.kind !== 'compose') throw new Error(`unexpected answer ${m.kind}`);
    return m.report;
  }

  /** Resolves with the results; `figure` is called once the worker has drawn the lead figure. */
  async run(request: RunRequest, progress: (fraction: number, label: string) => void, figure: (html: string) => void): Promise<RunReport> {
    const m = await this.send({ kind: 'run', request }, { progress, figure });
    if (m.kind !== 'run') throw new Error(`unexpected answer ${m.kind}`);
    return m.report;
  }

  async charts(): Promise<{ html: string; count: number }> {
    const m = await this.send({ kind: 'charts' });
    if (m.kind !== 'charts') throw new Error(`unexpected answer ${m.kind}`);
    return { html: m.html, count: m.count };
  }

  /** Stops whatever the worker is doing; pending requests reject with Cancelled. */
  cancel(): void {
    this.worker?.terminate();
    this.worker = undefined;
    for (const p of this.pending.values()) p.reject(new Cancelled());
    this.pending.clear();
  }

  get busy(): boolean {
    return this.pending.size > 0;
  }
}
