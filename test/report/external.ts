/** The check that a report page refers to nothing outside itself. */

/**
 * Everything a browser could fetch: in real tags (escaped run text has no raw '<', so every
 * '<' starts a tag), any http(s): and any src/href/action not starting with data: or #; in
 * <style>, any url() not a data: URI and any @import.
 */
export function externalReferences(html: string): string[] {
  const found: string[] = [];
  for (const [tag] of html.matchAll(/<[a-zA-Z][^>]*>/g)) {
    if (/https?:|\/\//i.test(tag.replace(/="data:[^"]*"/g, '=""'))) found.push(tag.slice(0, 80));
    for (const m of tag.matchAll(/\b(?:src|href|xlink:href|action|srcset|poster)\s*=\s*["']?([^"'\s>]*)/gi)) {
      if (!/^(?:data:|#)/i.test(m[1]!)) found.push(m[0]);
    }
  }
  for (const [, css] of html.matchAll(/<style[^>]*>([\s\S]*?)<\/style>/gi)) {
    for (const m of css!.matchAll(/url\(\s*['"]?(?!data:)[^)]*\)/gi)) found.push(m[0]);
    if (/@import/i.test(css!)) found.push('@import');
  }
  return found;
}
