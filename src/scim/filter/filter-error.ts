/**
 * The one error a client can provoke through `filter`, `sortBy` or an attribute path. Route handlers map it to
 * a SCIM 400 with `scimType: invalidFilter`, so its message is shown to the client verbatim and must never
 * carry more than a short excerpt of what the client sent.
 */
export class FilterError extends Error {
  /** The SCIM `scimType` this error is reported with. */
  readonly code = 'invalidFilter';
  override name = 'FilterError';
}

/** Longest excerpt of client input quoted back in a message; keeps error bodies (and logs) bounded. */
const EXCERPT_LIMIT = 64;

/**
 * Quotes a piece of client input for an error message, shortened and with control characters escaped, so a
 * message never grows with the input and cannot smuggle line breaks into logs. Long input keeps its start and
 * its end, because for a URN-qualified path the end is the attribute name.
 */
export function quoteInput(text: string): string {
  const half = EXCERPT_LIMIT / 2;
  const short = text.length > EXCERPT_LIMIT ? `${text.slice(0, half)}…${text.slice(-(half - 1))}` : text;
  return JSON.stringify(short);
}
