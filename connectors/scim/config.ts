import { z } from 'zod';

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
  })
  .strict();

export type ScimConfig = z.output<typeof scimConfigSchema>;
