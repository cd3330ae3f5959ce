/**
 * Names of the VMCS field encodings, for traces, error messages and reports. Built from the
 * constants themselves so the two can never disagree.
 */
import * as FIELDS from './vmcs-fields.js';

/** Encoding → kernel name (asm/vmx.h enum vmcs_field). */
export const VMCS_FIELD_NAMES: ReadonlyMap<number, string> = new Map(
  Object.entries(FIELDS as Readonly<Record<string, number>>).map(([name, enc]) => [enc, name]),
);
