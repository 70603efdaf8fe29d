// A third-party latent block that forgets `distribution(head)`: the prob-unet latent contract
// must name the member when the block is built (check and compile alike).
export default {
  name: 'acme',
  version: '1.0.0',
  punetApi: '^2.0.0',
  blocks: {
    vector: {
      description: 'a latent without its distribution',
      roles: ['latent'],
      options: { type: 'object', additionalProperties: false, properties: { size: { type: 'integer', minimum: 1, default: 4 } } },
      build: ({ options }) => ({ headChannels: 2 * options.size, headBiasStd: 0.001, eventShape: [options.size], outputShapes: {}, layers: [] }),
    },
  },
};
