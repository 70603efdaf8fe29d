// @ts-check
/**
 * A third-party punet plugin: the Dice distance d(a, b) = 1 - Dice(a, b) on the foreground of two
 * hard masks, usable wherever a spec names a distance (GED, diversity, mode frequencies):
 *
 *     use "./plugins/dice-distance/index.js"
 *     eval { distance dice-distance/dice { foreground: any } }
 *
 * Dice = 2|A n B| / (|A| + |B|). Convention (as the built-in `iou`): both masks empty -> d = 0,
 * exactly one empty -> d = 1. Dice = 2 IoU / (1 + IoU), so it ranks pairs like IoU but is gentler
 * on partial overlaps.
 *
 * Plain ESM, no build step, no punet import needed at run time; the JSDoc types come from punet's
 * public plugin API (in your own package: `import('punet').DistanceContribution`).
 */

/** @typedef {{ foreground: 'any' | number }} DiceOptions */

/**
 * @param {Uint8Array} a
 * @param {Uint8Array} b
 * @param {'any' | number} foreground
 */
export function diceDistance(a, b, foreground) {
  if (a.length !== b.length) throw new Error(`masks differ in size (${a.length} vs ${b.length} pixels)`);
  const isFg = foreground === 'any' ? (/** @type {number} */ v) => v !== 0 : (/** @type {number} */ v) => v === foreground;
  let both = 0;
  let sizes = 0;
  for (let i = 0; i < a.length; i++) {
    const fa = isFg(/** @type {number} */ (a[i]));
    const fb = isFg(/** @type {number} */ (b[i]));
    if (fa && fb) both++;
    sizes += Number(fa) + Number(fb);
  }
  if (sizes === 0) return 0;
  return 1 - (2 * both) / sizes;
}

/** @type {import('punet').DistanceContribution<DiceOptions>} */
const dice = {
  description: 'd = 1 - Dice of the foreground (both empty -> 0, exactly one empty -> 1).',
  options: {
    type: 'object',
    additionalProperties: false,
    properties: {
      foreground: {
        description: "Foreground pixels: 'any' non-zero class, or one class id.",
        anyOf: [{ const: 'any' }, { type: 'integer', minimum: 1, maximum: 255 }],
        default: 'any',
      },
    },
  },
  distance: (a, b, { options }) => diceDistance(a, b, options.foreground ?? 'any'),
};

/** @type {import('punet').PunetPlugin} */
const plugin = {
  name: 'dice-distance',
  version: '1.0.0',
  punetApi: '^2.0.0',
  distances: { dice },
};

export default plugin;
