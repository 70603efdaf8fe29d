/**
 * The in-memory dataset every data source produces. The types are part of the plugin API and
 * live next to it (compiler/dataset.ts); this module keeps the runtime's import path.
 */
export type { DataItem, Dataset, Mode, SplitName } from '../../compiler/dataset.js';
