/** JSON pointers (RFC 6901), the key of the path -> source-range map. */

export function pointer(segments: readonly (string | number)[]): string {
  return segments.map((s) => '/' + String(s).replace(/~/g, '~0').replace(/\//g, '~1')).join('');
}

export function segmentsOf(ptr: string): string[] {
  if (ptr === '') return [];
  return ptr
    .slice(1)
    .split('/')
    .map((s) => s.replace(/~1/g, '/').replace(/~0/g, '~'));
}

export function parentOf(ptr: string): string {
  const i = ptr.lastIndexOf('/');
  return i <= 0 ? '' : ptr.slice(0, i);
}

/** `/train/optimizer/lr` -> `train.optimizer.lr` (how paths are shown to users). */
export function dotted(ptr: string): string {
  return segmentsOf(ptr)
    .map((s, i) => (/^\d+$/.test(s) ? `[${s}]` : i === 0 ? s : `.${s}`))
    .join('');
}

export function isUnder(ptr: string, prefix: string): boolean {
  return ptr === prefix || ptr.startsWith(prefix + '/');
}
