/** Built-in metrics contributions (placeholder: filled in by its owner). */
import { definePlugin } from '../../compiler/api.js';

export default definePlugin({
  name: 'punet-metrics',
  version: '0.1.0',
  punetApi: '^1.0.0',
});
