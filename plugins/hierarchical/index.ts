/**
 * Plugin `punet-hierarchical`: the hierarchical Probabilistic U-Net (Kohl et al. 2019) written
 * only against the public plugin API. Registered as a built-in (bare ids), it is otherwise an
 * ordinary plugin: a third party could ship the same object under its own name.
 */
import { definePlugin } from '../../compiler/api.js';
import { hierarchicalArchitecture } from './architecture.js';
import { blocks } from './blocks.js';
import { geco } from './geco.js';
import { topKCrossEntropy } from './topk.js';

export default definePlugin({
  name: 'punet-hierarchical',
  version: '0.1.0',
  punetApi: '^2.0.0',
  architectures: { hierarchical: hierarchicalArchitecture },
  blocks,
  losses: { 'top-k-cross-entropy': topKCrossEntropy() },
  objectives: { geco },
});
