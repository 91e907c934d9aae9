/**
 * The path prefix under which a proxy (the gateway) exposes a service's API, from `X-Forwarded-Prefix`,
 * so that links in a page and a problem's `instance` name the path the caller used. Anything but a
 * plain path is ignored.
 */
export function forwardedPrefix(value: unknown): string {
  return typeof value === 'string' && /^(\/[A-Za-z0-9._-]{1,32}){1,4}$/.test(value) ? value : '';
}
