import { z } from 'zod';
import { parseAttributePath } from './attribute-path.js';

export const scimConfigSchema = z
  .object({
    /** The downstream's SCIM base URL, e.g. `https://crm.example.com/scim/v2`. */
    baseUrl: z
      .string()
      .refine((text) => /^https?:\/\/[^\s]+$/.test(text), 'expected an http(s) URL')
      .transform((text) => text.replace(/\/+$/, '')),
    auth: z.discriminatedUnion('type', [
      z.object({ type: z.literal('bearer'), token: z.string().min(1) }).strict(),
      /** OAuth 2.0 client credentials: the token comes from the issuer's token endpoint, found by discovery. */
      z
        .object({
          type: z.literal('oauth2'),
          issuer: z.string().refine((text) => /^https?:\/\/[^\s]+$/.test(text), 'expected an http(s) URL'),
          clientId: z.string().min(1),
          clientSecret: z.string().min(1),
          scope: z.string().min(1).optional(),
        })
        .strict(),
    ]),
    /** Upper bound on one downstream call. */
    timeoutMs: z.number().int().min(100).max(120_000).default(10_000),
    /**
     * Where the downstream reports a user's last activity, as a SCIM attribute path to an RFC 3339 date-time:
     * `urn:ietf:params:scim:schemas:extension:acme:2.0:User:lastLogin`, or a core (sub-)attribute. SCIM 2.0
     * defines none, so it is configured per application; without it the connector reports no activity.
     */
    activityAttribute: z
      .string()
      .max(300)
      .refine((text) => parseAttributePath(text) !== null, 'expected a SCIM attribute path: [schema URN:]attribute[.subAttribute]')
      .optional(),
  })
  .strict();

export type ScimConfig = z.output<typeof scimConfigSchema>;
