/**
 * Whether a contribution's options schema is one ajv accepts, checked when its plugin registers
 * (a broken schema is a load error naming the plugin). Only the meta-schema is checked here; the
 * schema is compiled once, by the spec front end (spec/schema.ts optionValidator), and that one
 * compiled validator serves `check` and the compiler alike.
 */
import { Ajv } from 'ajv';

const ajv = new Ajv({ strict: false, validateSchema: true });

/** Why `schema` is not a JSON Schema ajv accepts, or undefined. */
export function optionsSchemaProblem(schema: object): string | undefined {
  return ajv.validateSchema(schema) ? undefined : ajv.errorsText(ajv.errors);
}
