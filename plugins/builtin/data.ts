/** Built-in data contributions (placeholder: filled in by its owner). */
import { definePlugin } from '../../compiler/api.js';

export default definePlugin({
  name: 'punet-data',
  version: '0.1.0',
  punetApi: '^1.0.0',
});
