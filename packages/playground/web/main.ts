/**
 * The page: state in the URL, the model in a worker. Every change to the composition, the
 * scenario, its options or the seed re-composes and re-runs (cancelling a run in flight);
 * moving through the steps only redraws the scrubber.
 */
import { Cancelled, ModelClient } from './client.js';
import type { CatalogInfo, ComposeReport, RunReport } from './protocol.js';
import { defaultState, parseState, runVariants, scenarioInfo, stateToSearch, type State } from './state.js';
import { composeControls, composeReportView } from './ui/compose-view.js';
import { h } from './ui/dom.js';
import { progressView, resultsView, runControls } from './ui/run-view.js';
import { scrubberView } from './ui/scrubber.js';
import './style.css';

const RUN_KEYS: readonly (keyof State)[] = ['arch', 'plugins', 'kernel', 'scenario', 'matrix', 'options', 'seed'];

const client = new ModelClient();
let cat: CatalogInfo;
let state: State;
let composed: ComposeReport | undefined;
let report: RunReport | undefined;
let figure: string | undefined;
let charts: { html: string; count: number } | 'loading' | undefined;
let firstResult = true;
let running: { fraction: number; label: string } | undefined;
let message: string | undefined;
let token = 0;

const $ = (id: string): HTMLElement => document.getElementById(id)!;
const fill = (id: string, ...nodes: (Node | null)[]): void => $(id).replaceChildren(...nodes.filter((n): n is Node => n !== null));
const phase = (p: string): void => document.body.setAttribute('data-phase', p);

function set(patch: Partial<State>): void {
  const archChanged = patch.arch !== undefined && patch.arch !== state.arch;
  state = archChanged ? defaultState(cat, patch.arch) : { ...state, ...patch };
  history.replaceState(null, '', stateToSearch(state));
  ($('link') as HTMLInputElement).value = location.href;
  if (RUN_KEYS.some((k) => k in patch)) void refresh();
  else renderScrubber();
}

function renderScrubber(): void {
  const old = $('scrubber').querySelector<HTMLInputElement>('[data-testid=slider]');
  const view = report !== undefined ? scrubberView(report, state, set) : null;
  // Keep the slider being dragged: swap it into the new view instead of replacing it.
  const fresh = view?.querySelector('[data-testid=slider]');
  if (old !== null && fresh !== null && fresh !== undefined && document.activeElement === old) fresh.replaceWith(old);
  fill('scrubber', view);
}

function render(): void {
  const info = scenarioInfo(cat, state);
  const variants = info !== undefined ? runVariants(info, state, composed) : [];
  fill('compose-controls', composeControls(cat, state, { set }));
  fill('compose-report', composeReportView(composed));
  fill('run-controls', runControls(cat.scenarios.filter((x) => x.arch === state.arch), info, state, variants, composed?.ok === true, { set, cancel, rerun: () => void refresh() }));
  fill('run-status', running !== undefined ? progressView(running.fraction, running.label) : message !== undefined ? h('p', { class: 'meta', 'data-testid': 'run-message' }, message) : null);
  fill('results', report !== undefined ? resultsView(report, figure, charts, () => void moreCharts()) : null);
  renderScrubber();
}

function cancel(): void {
  if (running === undefined) return;
  token++;
  client.cancel();
  running = undefined;
  message = 'Run cancelled.';
  phase('cancelled');
  render();
}

async function refresh(): Promise<void> {
  const mine = ++token;
  if (client.busy) client.cancel();
  composed = undefined;
  report = undefined;
  figure = undefined;
  charts = undefined;
  running = undefined;
  message = undefined;
  phase('composing');
  render();
  try {
    const c = await client.compose({ arch: state.arch, plugins: state.plugins, kernel: state.kernel });
    if (mine !== token) return;
    composed = c;
    const info = scenarioInfo(cat, state);
    if (!c.ok || info === undefined) {
      message = !c.ok ? 'Fix the composition to run a scenario.' : 'No scenario for this arch.';
      phase('composed');
      render();
      return;
    }
    running = { fraction: 0, label: 'starting' };
    phase('running');
    render();
    const r = await client.run(
      { scenario: info.name, arch: state.arch, variants: runVariants(info, state, c), seed: state.seed, options: state.options },
      (fraction, label) => {
        if (mine !== token) return;
        running = { fraction, label };
        fill('run-status', progressView(fraction, label));
      },
      (html) => {
        if (mine !== token) return;
        figure = html;
        phase('drawn');
        render();
      },
    );
    if (mine !== token) return;
    report = r;
    running = undefined;
    phase('done');
    render();
    if (firstResult) {
      // What `npm run bench` reads: page load to the first result on the page.
      performance.mark('kvmlab:first-result');
      firstResult = false;
    }
  } catch (e) {
    if (mine !== token || e instanceof Cancelled) return;
    running = undefined;
    message = `The run failed: ${e instanceof Error ? e.message : String(e)}`;
    phase('error');
    render();
  }
}

async function moreCharts(): Promise<void> {
  const mine = token;
  charts = 'loading';
  render();
  try {
    const c = await client.charts();
    if (mine !== token) return;
    charts = c;
  } catch {
    if (mine !== token) return;
    charts = undefined;
  }
  render();
}

async function start(): Promise<void> {
  phase('loading');
  cat = await client.catalog();
  document.head.append(h('style', {}, cat.css));
  state = parseState(location.search, cat);
  history.replaceState(null, '', stateToSearch(state));
  const link = $('link') as HTMLInputElement;
  link.value = location.href;
  $('copy').onclick = () => {
    link.select();
    void navigator.clipboard?.writeText(link.value).catch(() => undefined);
  };
  await refresh();
}

void start();
