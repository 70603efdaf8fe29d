/**
 * The one ajv instance that compiles contributions' option schemas (defaults applied, all errors
 * reported), and its cache: a schema is compiled once, when its plugin registers (so a broken
 * schema is a load error naming the plugin), and reused for every spec that names the kind.
 */
import { Ajv, type ValidateFunction } from 'ajv';

const ajv = new Ajv({ useDefaults: true, allErrors: true, strict: false });
const validators = new WeakMap<object, ValidateFunction>();

/** The compiled validator of `schema`; throws ajv's error when it is not a schema ajv accepts. */
export function optionsValidator(schema: object): ValidateFunction {
  let validate = validators.get(schema);
  if (!validate) {
    validate = ajv.compile(schema);
    validators.set(schema, validate);
  }
  return validate;
}
