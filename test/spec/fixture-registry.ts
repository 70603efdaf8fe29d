/** A small registry independent of the built-in plugins, for tests of registry-driven behaviour. */
import { defineContract, definePlugin, type CheckContext, type OptionProblem, type PunetPlugin } from '../../compiler/api.js';
import { Registry } from '../../compiler/registry.js';

const none = { type: 'object', properties: {} };
const anything = defineContract<object>('anything', 'fixture: any block', {});
/** What the fixture `net` block's check was last called with (tests read it). */
export const lastNetCheck: { ctx?: unknown } = {};

/** The fixture `net` block's own rules: widths match levels (an error), an input that is small for its levels (a warning with its own code). */
function checkNet(o: { levels: number; widths?: number[] }, ctx: CheckContext): OptionProblem[] {
  lastNetCheck.ctx = ctx;
  const problems: OptionProblem[] = [];
  if (o.widths && o.widths.length !== o.levels) problems.push({ option: 'widths', message: `lists ${o.widths.length} widths for ${o.levels} levels` });
  if (Math.min(...ctx.input.size) < 2 ** o.levels) {
    problems.push({ option: 'levels', message: `input ${ctx.input.size.join('x')} is small for ${o.levels} levels`, severity: 'warning', code: 'W777' });
  }
  return problems;
}

const fail = () => {
  throw new Error('fixture: not for running');
};

export const fixturePlugin: PunetPlugin = definePlugin({
  name: 'fixture',
  version: '1.0.0',
  punetApi: '^2.0.0',
  architectures: {
    tiny: { description: 'fixture architecture', options: none, slots: { unet: { contract: anything }, latent: { contract: anything, optional: true } }, compose: fail },
  },
  blocks: {
    net: {
      description: 'fixture net',
      roles: ['unet'],
      options: { type: 'object', properties: { levels: { type: 'integer', default: 2 }, widths: { type: 'array', items: { type: 'integer' } } } },
      check: checkNet,
      build: fail,
    },
    // One kind in two roles; an option with a declared unit.
    enc: {
      description: 'fixture encoder',
      roles: ['prior', 'posterior'],
      options: { type: 'object', properties: { warmup: { type: 'integer', unit: 'steps', default: 0 }, sees: { enum: ['image', 'image+mask'] } } },
      build: fail,
    },
    lat: { description: 'fixture latent', roles: ['latent'], options: { type: 'object', properties: { size: { type: 'integer' } } }, build: fail },
  },
  losses: { ce: { description: 'fixture loss', options: none, compute: fail } },
  optimizers: {
    opt: {
      description: 'fixture optimiser',
      options: { type: 'object', properties: { lr: { type: 'number', default: 0.5 } } },
      check: (o: { lr: number }) => (o.lr === 0.25 ? [{ option: 'lr', message: 'a quarter is unlucky' }] : []),
      create: fail,
      baseLearningRate: () => 0,
    },
  },
});

export function fixtureRegistry(): Registry {
  const r = new Registry();
  r.register(fixturePlugin, { builtin: true });
  return r;
}

export const FIXTURE_SPEC = `model "fx" {
  input { size: 16x16 }
  architecture tiny
  unet net { widths: [4, 8] }
  loss { reconstruction ce }
  train { optimizer opt  steps: 10 }
}
`;
