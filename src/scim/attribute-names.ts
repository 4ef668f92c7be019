/** Attribute names are case-insensitive in SCIM (RFC 7643 §2.1): these compare them that way. */

/** The object with every key lower-cased, for reading attributes whatever case a client used. */
export function lowerKeys(obj: Record<string, unknown>): Record<string, unknown> {
  return Object.fromEntries(Object.entries(obj).map(([k, v]) => [k.toLowerCase(), v]));
}

/** The value of the key that matches `name` in any case. */
export function valueOf(obj: Record<string, unknown>, name: string): unknown {
  const lower = name.toLowerCase();
  const key = Object.keys(obj).find((k) => k.toLowerCase() === lower);
  return key === undefined ? undefined : obj[key];
}
