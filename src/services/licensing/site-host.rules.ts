import net from 'node:net';

/** The host a WordPress site is known by: from `domain`, else from WordPress's User-Agent. */
export function siteHost(domain: unknown, userAgent: string | undefined): string | null {
  let candidate = typeof domain === 'string' && domain.trim() ? domain.trim() : undefined;
  if (!candidate && userAgent) {
    // WordPress sends "WordPress/6.1; https://site.example".
    const m = /^WordPress\/[^;]+;\s*(\S+)/i.exec(userAgent);
    if (m) candidate = m[1];
  }
  if (!candidate || candidate.length > 500) return null;
  try {
    const url = new URL(/^[a-z][a-z0-9+.-]*:\/\//i.test(candidate) ? candidate : `http://${candidate}`);
    const host = url.hostname.toLowerCase().replace(/\.$/, '');
    return host && host.length <= 253 ? host.replace(/^www\./, '') : null;
  } catch {
    return null;
  }
}

export function wordpressVersion(userAgent: string | undefined): string | null {
  const m = userAgent ? /^WordPress\/([0-9][\w.-]{0,30})/i.exec(userAgent) : null;
  return m ? m[1]! : null;
}

const DEV_SUFFIXES = ['.local', '.test', '.example', '.invalid', '.localhost'];

function isPrivateIp(host: string): boolean {
  const h = host.replace(/^\[|\]$/g, '');
  if (net.isIPv4(h)) {
    const [a, b] = h.split('.').map(Number) as [number, number];
    return a === 10 || a === 127 || (a === 172 && b >= 16 && b <= 31) || (a === 192 && b === 168) || (a === 169 && b === 254) || a === 0;
  }
  if (net.isIPv6(h)) {
    const l = h.toLowerCase();
    return l === '::1' || l === '::' || l.startsWith('fc') || l.startsWith('fd') || l.startsWith('fe80') || l.startsWith('::ffff:127.') || l.startsWith('::ffff:10.') || l.startsWith('::ffff:192.168.');
  }
  return false;
}

/** Staging and development sites never use up a site slot. */
export function isDevelopmentHost(host: string): boolean {
  return host === 'localhost' || isPrivateIp(host) || DEV_SUFFIXES.some((s) => host.endsWith(s)) || ['example', 'test', 'invalid', 'local'].includes(host);
}
