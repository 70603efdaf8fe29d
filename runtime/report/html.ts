/** Escaping for the HTML report: every piece of text from a run goes through these. */

const TEXT_ESCAPES: Record<string, string> = { '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' };

/** Text for element content or a quoted attribute value. */
export function escapeHtml(text: unknown): string {
  return String(text).replace(/[&<>"']/g, (c) => TEXT_ESCAPES[c]!);
}

/** A number for display: 4 significant decimals, NaN/null/undefined as '–'-like 'n/a'. */
export function formatNumber(value: unknown, digits = 4): string {
  if (typeof value !== 'number' || !Number.isFinite(value)) return 'n/a';
  const a = Math.abs(value);
  if (a !== 0 && (a >= 1e5 || a < 1e-3)) return value.toExponential(2);
  return value.toFixed(a >= 1000 ? 1 : digits);
}

/** A base64 data: URI for bytes of the given MIME type (images inline, no files, no network). */
export function dataUri(mime: string, bytes: Uint8Array): string {
  return `data:${mime};base64,${Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('base64')}`;
}
