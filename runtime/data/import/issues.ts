/** Problems with one item of a source: skipped by default, fatal with --strict. */
import { DataError } from '../errors.js';

export type IssueKind = 'unreadable file' | 'mask size differs from image' | 'missing annotator mask' | 'non-binary mask' | 'malformed item';

export class ImportIssue extends DataError {
  constructor(
    readonly kind: IssueKind,
    /** The item (image id) the problem belongs to. */
    readonly itemId: string,
    message: string,
    file?: string,
  ) {
    super(message, file);
    this.name = 'ImportIssue';
  }
}

/** Any error thrown while loading an item, as an ImportIssue (a corrupt PNG is 'unreadable file'). */
export function asIssue(err: unknown, itemId: string, file: string): ImportIssue {
  if (err instanceof ImportIssue) return err;
  if (err instanceof DataError) return new ImportIssue('unreadable file', itemId, err.message, err.file ?? file);
  throw err; // a bug, not a data problem: let it surface
}
