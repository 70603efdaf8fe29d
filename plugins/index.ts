/**
 * The built-in plugins, registered exactly as a third-party plugin would be (`builtin: true` only
 * lets their ids go without a namespace). Loading this module does not load TensorFlow.js.
 */
import type { PunetPlugin } from '../compiler/api.js';
import { Registry } from '../compiler/registry.js';
import probUNet from './builtin/prob-unet.js';
import losses from './builtin/losses.js';
import training from './builtin/training.js';
import metrics from './builtin/metrics.js';
import data from './builtin/data.js';
import hierarchical from './hierarchical/index.js';
import ssn from './ssn/index.js';

export const builtinPlugins: PunetPlugin[] = [probUNet, losses, training, metrics, data, hierarchical, ssn];

/** A registry holding every built-in contribution. */
export function createRegistry(): Registry {
  const registry = new Registry();
  for (const plugin of builtinPlugins) registry.register(plugin, { builtin: true });
  return registry;
}
