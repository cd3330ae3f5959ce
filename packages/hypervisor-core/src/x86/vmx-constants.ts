/**
 * VMX architectural values shared by the x86 feature packages and the nested-VMX engine, under
 * the kernel's names. One module per kind of value; this file gathers them (and is the import
 * path older code uses).
 */
export * from './vmcs-fields.js';
export * from './vmcs-field-names.js';
export * from './vmx-controls.js';
export * from './vmx-exit-reasons.js';
export * from './x86-regs.js';
