/**
 * What the report draws, as plain data: no ECharts, no HTML. The report renders these specs to
 * static SVG; another front end (a browser UI, say) can draw the same specs its own way. Every
 * number in a spec comes from a scenario result (ResultJson series or details): a spec picks
 * and arranges measured values, it never computes a new measurement.
 */
import type { MatrixGrid } from '../../matrix.js';

/** How axis values are written: decimal, or hex (CR3 values, guest physical addresses). */
export type ValueFormat = 'number' | 'hex';

export interface PanelAxis {
  readonly name: string;
  readonly format?: ValueFormat;
  readonly min?: number;
  readonly max?: number;
  /** A category axis: these names, in order (series x or y values index them). */
  readonly categories?: readonly string[];
}

export interface XySeries {
  readonly name: string;
  readonly type: 'line' | 'bar' | 'scatter';
  /** [x, y]; on a category axis the value is the category's index. */
  readonly points: readonly (readonly [number, number | null])[];
  /** 'end': the series name at the end of its line; 'value': each bar's value (0 shown as 0). */
  readonly label?: 'end' | 'value';
  /** With label 'value': the text of each point's label (else its value). */
  readonly labels?: readonly string[];
  readonly color?: string;
}

/** Lines, bars or points on two axes. `horizontal` bars grow along x from categories on y. */
export interface XyPanel {
  readonly kind: 'xy';
  readonly title: string;
  readonly x: PanelAxis;
  readonly y: PanelAxis;
  readonly series: readonly XySeries[];
  readonly horizontal?: boolean;
  /** A short legend (a few series, no paging); else series are labelled in the plot. */
  readonly legend?: boolean;
  readonly height: number;
  /** Share of the row's width (default 1). */
  readonly weight?: number;
}

export type LaneMark = 'ran' | 'squashed' | 'corruption';

/** A timeline: one lane per track (subject), x the step (minor frame), marks on the lanes. */
export interface LanesPanel {
  readonly kind: 'lanes';
  readonly title: string;
  readonly x: PanelAxis;
  /** Top to bottom: the lane's name (left) and a note about it (right). */
  readonly lanes: readonly { readonly label: string; readonly note: string }[];
  readonly marks: readonly { readonly lane: number; readonly x: number; readonly mark: LaneMark }[];
  /** What each mark means (the legend, three entries). */
  readonly markNames: Readonly<Record<LaneMark, string>>;
  readonly legend: boolean;
  /** One line under the lanes (e.g. the first corruption as Muen logged it). */
  readonly note?: string;
  /** The widest lane note of the figure's lane panels, so stacked panels share one x scale. */
  readonly widestNote?: string;
  readonly height: number;
  readonly weight?: number;
}

/** A grid of expected vs reported bits: rows (pages, by GPA) × columns (syncs). */
export interface BitGridPanel {
  readonly kind: 'bitgrid';
  readonly title: string;
  readonly rowAxis: string;
  readonly rows: readonly string[];
  readonly columnAxis: string;
  readonly columns: readonly string[];
  /** null: the sync never ran (the test stopped before it). */
  readonly cells: readonly { readonly row: number; readonly column: number; readonly expected: 0 | 1 | null; readonly reported: 0 | 1 | null; readonly failed: boolean }[];
  /** The test's own words (its failing TEST_ASSERT, or that every sync passed). */
  readonly message: string;
  readonly height: number;
  readonly weight?: number;
}

/** A variant matrix: one cell per combination, verdict colour and key figures. */
export interface MatrixPanel {
  readonly kind: 'matrix';
  readonly grid: MatrixGrid;
}

export type Panel = XyPanel | LanesPanel | BitGridPanel | MatrixPanel;

/** The one figure a scenario's section opens with: its panels side by side or stacked. */
export interface LeadFigure {
  readonly id: string;
  readonly scenario: string;
  readonly arch: string;
  readonly title: string;
  readonly caption: string;
  /** Panels per row (rows fill in order). */
  readonly columns: number;
  readonly panels: readonly Panel[];
}
