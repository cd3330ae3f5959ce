/**
 * What the browser test measures in a report page, as one script evaluated in Chromium (a
 * string, because the spec project has no DOM types): the height with every <details> folded
 * and unfolded, each section's first element and where its lead figure sits relative to its
 * tables, and — with everything unfolded — every SVG text element's box: pairs that overlap
 * inside one SVG, texts outside their SVG, the hex / decimal labels of axes named CR3 or GPA,
 * and the figure titles.
 */

export interface Layout {
  readonly width: number;
  readonly foldedHeight: number;
  readonly unfoldedHeight: number;
  readonly sections: readonly {
    readonly name: string;
    /** 'lead' when the first element after the h2 is the lead figure. */
    readonly firstAfterHeading: string;
    readonly leadBeforeTables: boolean;
    readonly tablesAfterLead: number;
    readonly leadSvgs: number;
    readonly leadMatrixCells: number;
  }[];
  readonly svgs: number;
  readonly texts: number;
  readonly overlaps: readonly string[];
  readonly clipped: readonly string[];
  readonly hexAxes: readonly { readonly where: string; readonly axis: string; readonly hex: number; readonly decimal: readonly string[] }[];
  readonly figures: readonly { readonly role: string; readonly title: string; readonly texts: readonly string[] }[];
  readonly titles: readonly string[];
  readonly titlesInSvg: readonly string[];
}

/** Overlap below this many px in either direction counts as touching, not overlapping. */
export const OVERLAP_TOLERANCE_PX = 1;

export const LAYOUT_PROBE = `(() => {
  const TOL = ${OVERLAP_TOLERANCE_PX};
  const width = window.innerWidth;
  const foldedHeight = document.documentElement.scrollHeight;
  const isLead = (el) => el !== null && el.tagName === 'FIGURE' && (el.classList.contains('lead') || el.dataset.role === 'lead');
  const sections = [...document.querySelectorAll('section')].map((s) => {
    const h2 = s.querySelector('h2');
    const lead = s.querySelector('figure.lead, figure[data-role="lead"]');
    const tables = [...s.querySelectorAll('table')].filter((t) => lead === null || !lead.contains(t));
    return {
      name: h2 ? h2.textContent : '',
      firstAfterHeading: h2 && isLead(h2.nextElementSibling) ? 'lead' : (h2 && h2.nextElementSibling ? h2.nextElementSibling.tagName.toLowerCase() : 'nothing'),
      leadBeforeTables: lead !== null && tables.every((t) => (lead.compareDocumentPosition(t) & Node.DOCUMENT_POSITION_FOLLOWING) !== 0),
      tablesAfterLead: tables.length,
      leadSvgs: lead ? lead.querySelectorAll('svg').length : 0,
      leadMatrixCells: lead ? lead.querySelectorAll('td.mcell').length : 0,
    };
  });
  for (const d of document.querySelectorAll('details')) d.open = true;
  const unfoldedHeight = document.documentElement.scrollHeight;
  const where = (svg) => {
    const f = svg.closest('figure');
    const p = svg.closest('.panel');
    return (f ? f.id : '?') + (p && f ? ' [panel ' + [...f.querySelectorAll('.panel')].indexOf(p) + ']' : '');
  };
  const visibleTexts = (svg) => [...svg.querySelectorAll('text')].filter((t) => {
    if ((t.textContent || '').trim() === '') return false;
    const cs = getComputedStyle(t);
    if (cs.display === 'none' || cs.visibility === 'hidden' || Number(cs.opacity) === 0) return false;
    const b = t.getBoundingClientRect();
    return b.width > 0 && b.height > 0;
  });
  const overlaps = [];
  const clipped = [];
  let texts = 0;
  const svgs = [...document.querySelectorAll('svg')];
  for (const svg of svgs) {
    const sb = svg.getBoundingClientRect();
    const ts = visibleTexts(svg);
    texts += ts.length;
    const boxes = ts.map((t) => ({ t: (t.textContent || '').trim(), b: t.getBoundingClientRect() }));
    for (const { t, b } of boxes) {
      if (b.left < sb.left - 0.5 || b.top < sb.top - 0.5 || b.right > sb.right + 0.5 || b.bottom > sb.bottom + 0.5) clipped.push(where(svg) + ': "' + t + '"');
    }
    for (let i = 0; i < boxes.length; i++) for (let j = i + 1; j < boxes.length; j++) {
      const a = boxes[i].b, c = boxes[j].b;
      const w = Math.min(a.right, c.right) - Math.max(a.left, c.left);
      const h = Math.min(a.bottom, c.bottom) - Math.max(a.top, c.top);
      if (w > TOL && h > TOL) overlaps.push(where(svg) + ': "' + boxes[i].t + '" × "' + boxes[j].t + '"');
    }
  }
  const hexAxes = [];
  for (const el of document.querySelectorAll('[data-x-axis], [data-y-axis]')) {
    const svg = el.querySelector('svg');
    if (!svg) continue;
    for (const axis of [el.dataset.xAxis || '', el.dataset.yAxis || '']) {
      if (!/\\bCR3\\b|\\bGPA\\b/.test(axis)) continue;
      const labels = visibleTexts(svg).map((t) => (t.textContent || '').trim());
      hexAxes.push({
        where: where(svg), axis,
        hex: labels.filter((l) => /(^|\\s)0x[0-9a-f]+$/.test(l)).length,
        decimal: labels.filter((l) => /^-?\\d{1,3}(,\\d{3})+$|^-?\\d{4,}$/.test(l)),
      });
    }
  }
  const figures = [...document.querySelectorAll('figure')].map((f) => ({
    role: f.classList.contains('lead') ? 'lead' : (f.dataset.role || ''),
    title: (f.querySelector('h3') || {}).textContent || '',
    texts: [...f.querySelectorAll('svg text')].map((t) => (t.textContent || '').trim()),
  }));
  const titles = figures.map((f) => f.title);
  const allSvgText = new Set(svgs.flatMap((s) => [...s.querySelectorAll('text')].map((t) => (t.textContent || '').trim())));
  return { width, foldedHeight, unfoldedHeight, sections, svgs: svgs.length, texts, overlaps, clipped, hexAxes, figures, titles, titlesInSvg: titles.filter((t) => allSvgText.has(t)) };
})()`;
