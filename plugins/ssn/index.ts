/**
 * Stochastic Segmentation Networks (Monteiro et al., NeurIPS 2020) as a punet plugin, written
 * against the public plugin API only (types from the package entry; the few runtime helpers
 * from the modules it re-exports, since the entry itself loads TensorFlow.js):
 *
 *   architecture ssn { samples: 20 }
 *   unet unet { ... }                 # the flat model's U-Net, reused as is
 *   combiner ssn-head { rank: 10 }
 *   loss { reconstruction ssn-mc }
 *
 * The U-Net's last features go through a 1x1 head to a Gaussian over the logit map whose
 * covariance is low rank plus diagonal; training maximises a Monte-Carlo estimate of
 * log p(mask | image) over S logit samples; sampling draws logit maps.
 */
import { definePlugin } from '../../compiler/api.js';
import { ssnArchitecture } from './architecture.js';
import { ssnHead } from './head.js';
import { mcLoss } from './loss.js';

export default definePlugin({
  name: 'punet-ssn',
  version: '0.2.0',
  punetApi: '^2.0.0',
  architectures: { ssn: ssnArchitecture },
  blocks: { 'ssn-head': ssnHead },
  losses: { 'ssn-mc': mcLoss },
});
