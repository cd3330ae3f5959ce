/**
 * The Web Worker that runs the model: the page posts what to compose or run, the worker
 * answers with plain data (and progress while a scenario runs). Cancelling a run is
 * terminating this worker; the page starts a fresh one.
 */
import { escapeHtml } from '../../../cli/src/report/escape.js';
import type { FromWorker, ToWorker } from '../protocol.js';
import { catalogInfo } from './catalog.js';
import { compose } from './compose.js';
import { chartsHtml, leadFigureHtml, runScenarios } from './run.js';

const post = (m: FromWorker): void => self.postMessage(m);

self.onmessage = (e: MessageEvent<ToWorker>): void => {
  const m = e.data;
  try {
    if (m.kind === 'catalog') post({ id: m.id, kind: 'catalog', catalog: catalogInfo() });
    else if (m.kind === 'compose') post({ id: m.id, kind: 'compose', report: compose(m.composition) });
    else if (m.kind === 'charts') post({ id: m.id, kind: 'charts', ...chartsHtml() });
    else {
      const { def, ...report } = runScenarios(m.request, (fraction, label) => post({ id: m.id, kind: 'progress', fraction, label }));
      // The results first (the page shows them at once), then the figure, which takes longer to draw.
      post({ id: m.id, kind: 'run', report });
      let html: string;
      try {
        html = leadFigureHtml(def, m.request, report.results);
      } catch (err) {
        html = `<p class="error" data-testid="figure-error">The figure could not be drawn: ${escapeHtml(err instanceof Error ? err.message : String(err))}</p>`;
      }
      post({ id: m.id, kind: 'figure', html });
    }
  } catch (err) {
    post({ id: m.id, kind: 'error', message: err instanceof Error ? err.message : String(err) });
  }
};
