/**
 * Deep validation at load: every contribution must have what its extension point needs. Each
 * broken plugin below is written to a file and loaded like a `use` line; the error names the
 * plugin, its file, the extension point, the id and what is wrong. The built-ins and the example
 * plugins pass the same rules (they register through the same call).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { EXTENSION_POINTS } from '../../compiler/api.js';
import { CONTRIBUTION_RULES } from '../../compiler/contribution-rules.js';
import { loadPlugins, PluginLoadError } from '../../compiler/plugin-loader.js';
import { createRegistry } from '../../plugins/index.js';

let dir: string;

beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'punet-rules-'));
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const OPTIONS = "{ type: 'object', properties: {} }";
const CONTRACT = "{ name: 'acme unet', description: 'features', members: { features: 'function', channels: 'integer' } }";

/** [case, point, contribution source, expected problem] */
const CASES: Array<[string, string, string, string]> = [
  ['no options', 'distances', "{ description: 'd', distance: () => 0 }", "distances 'x' has no 'options'"],
  ['distance: 42', 'distances', `{ description: 'd', options: ${OPTIONS}, distance: 42 }`, "distances 'x' 'distance' is 42, expected a function"],
  ['description not a string', 'losses', `{ description: 7, options: ${OPTIONS}, compute() {} }`, "losses 'x' 'description' is 7, expected a non-empty string"],
  ['options not a schema ajv accepts', 'metrics', "{ description: 'm', options: { type: 'nonsense' }, compute: () => 0 }", "metrics 'x' 'options' is not a JSON Schema ajv accepts"],
  ['options a string', 'schedules', "{ description: 's', options: 'none', learningRate: () => 1 }", `schedules 'x' 'options' is "none", expected a JSON Schema object`],
  ['check not a function', 'regularizers', `{ description: 'r', options: ${OPTIONS}, compute() {}, check: true }`, "regularizers 'x' 'check' is true, expected a function"],
  ['no load', 'dataSources', `{ description: 'd', options: ${OPTIONS} }`, "dataSources 'x' has no 'load'"],
  ['objective without combine', 'objectives', `{ description: 'o', options: ${OPTIONS}, initialState: () => ({}) }`, "objectives 'x' has no 'combine'"],
  ['optimizer without baseLearningRate', 'optimizers', `{ description: 'o', options: ${OPTIONS}, create() {} }`, "optimizers 'x' has no 'baseLearningRate'"],
  ['block roles empty', 'blocks', `{ description: 'b', options: ${OPTIONS}, roles: [], build() {} }`, "blocks 'x' 'roles' is a list, expected a non-empty list of roles"],
  ['block role unknown', 'blocks', `{ description: 'b', options: ${OPTIONS}, roles: ['decoder'], build() {} }`, `blocks 'x' 'roles' has "decoder" is not a role (known: unet, prior, posterior, latent, combiner)`],
  ['block needs without a contract', 'blocks', `{ description: 'b', options: ${OPTIONS}, roles: ['latent'], needs: { unet: { name: 'u' } }, build() {} }`, "blocks 'x' 'needs.unet' has a description that is undefined, expected a non-empty string"],
  ['block needs an unknown role', 'blocks', `{ description: 'b', options: ${OPTIONS}, roles: ['latent'], needs: { encoder: ${CONTRACT} }, build() {} }`, `blocks 'x' 'needs' has "encoder" is not a role`],
  ['architecture slot contract member kind', 'architectures', `{ description: 'a', options: ${OPTIONS}, slots: { unet: { contract: { name: 'u', description: 'd', members: { features: 'callable' } } } }, compose() {} }`, `architectures 'x' 'slots.unet.contract' has member 'features' of kind "callable"`],
  ['architecture without slots', 'architectures', `{ description: 'a', options: ${OPTIONS}, compose() {} }`, "architectures 'x' has no 'slots'"],
  ['KL families not a list', 'klEstimators', `{ description: 'k', options: ${OPTIONS}, compute() {}, families: 'diag-gaussian' }`, `klEstimators 'x' 'families' is "diag-gaussian", expected a list of strings`],
  ['a contribution that is not an object', 'losses', '42', "losses 'x' is 42, expected an object with description, options, check, compute"],
];

describe('contributions are validated when their plugin loads', () => {
  it.each(CASES)('%s', async (name, point, source, problem) => {
    const file = join(dir, `${name.replace(/\W+/g, '-')}.js`);
    writeFileSync(file, `export default { name: 'acme', version: '1.0.0', punetApi: '^2.0.0', ${point}: { x: ${source} } };\n`);
    const err = await loadPlugins(['./' + file.slice(dir.length + 1)], createRegistry(), { fromDir: dir }).then(
      () => undefined,
      (e: Error) => e,
    );
    expect(err).toBeInstanceOf(PluginLoadError);
    // The plugin, its file, the point, the id, and what is wrong, on one line.
    expect(err!.message).toContain(`plugin 'acme' (${file}): ${problem}`);
    expect(err!.message).not.toContain('\n');
  });

  it('a valid contribution at every point loads (the rules accept what the API describes)', async () => {
    const c = (members: string) => `{ description: 'ok', options: ${OPTIONS}, ${members} }`;
    const file = join(dir, 'valid.js');
    writeFileSync(
      file,
      `export default { name: 'acme-ok', version: '1.0.0', punetApi: '^2.0.0',
  blocks: { b: ${c(`roles: ['latent'], needs: { unet: ${CONTRACT} }, family: 'diag-gaussian', build() {}`)} },
  architectures: { a: ${c(`slots: { unet: { contract: ${CONTRACT} }, latent: { contract: ${CONTRACT}, optional: true } }, compose() {}`)} },
  losses: { l: ${c('compute() {}')} },
  klEstimators: { k: ${c("families: ['diag-gaussian'], compute() {}")} },
  objectives: { o: ${c('initialState: () => ({}), combine() {}, nextState: (c) => c.state')} },
  regularizers: { r: ${c('compute() {}')} },
  distances: { d: ${c('distance: () => 0')} },
  metrics: { m: ${c('compute: () => 0, needsModes: false')} },
  optimizers: { o: ${c('create() {}, baseLearningRate: () => 1')} },
  schedules: { s: ${c('learningRate: () => 1')} },
  dataSources: { d: ${c('async load() {}')} },
};\n`,
    );
    const registry = createRegistry();
    await loadPlugins(['./valid.js'], registry, { fromDir: dir });
    for (const point of EXTENSION_POINTS) expect(registry.ids(point).some((id) => id.startsWith('acme-ok/')), point).toBe(true);
  });

  it('the rules table covers every extension point', () => {
    expect(Object.keys(CONTRIBUTION_RULES).sort()).toEqual([...EXTENSION_POINTS].sort());
  });
});
