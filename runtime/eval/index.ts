/** The evaluation API on plain data (re-exported from the package's main entry). */
export {
  ged,
  gedComponents,
  hungarianIoU,
  ncc,
  nccDetails,
  sampleDiversity,
  modeFrequencies,
  modeFrequencyTV,
  perfectSamplerTV,
  DEFAULT_MODE_THRESHOLD,
} from './metrics.js';
export type {
  DistanceFn,
  DistanceOptions,
  GedComponents,
  HungarianOptions,
  NccOptions,
  NccDetails,
  TrueMode,
  ModeOptions,
  ModeFrequencies,
} from './metrics.js';
export { iou, iouDistance, normalizeMask } from './masks.js';
export type { MaskInput, Foreground } from './masks.js';
export { minCostAssignment } from './hungarian.js';
export type { Assignment } from './hungarian.js';
