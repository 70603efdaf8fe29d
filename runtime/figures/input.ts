/** File names for figures of one item. (Reading a PNG as model input: runtime/sample/image-input.ts.) */
/** A file-name-safe form of an item id. */
export function safeName(id: string): string {
  return id.replace(/[^A-Za-z0-9._-]+/g, '_') || 'image';
}
