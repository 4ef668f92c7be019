import { z } from 'zod';
import { tenantSlugSchema } from '../tenants/tenant.js';

/** Shared pieces of the admin API's request and response schemas. */

export const slugParams = z.object({ slug: tenantSlugSchema.meta({ description: 'the tenant' }) });

export const isoDate = z.iso.datetime({ offset: true }).meta({ description: 'RFC 3339 date-time' });

export const problemSchema = z
  .object({
    type: z.string().meta({ description: '`urn:lanyard:problem:<code>`' }),
    title: z.string(),
    status: z.number().int(),
    detail: z.string(),
    code: z.string().meta({ description: 'stable: branch on this, not on `detail`' }),
    errors: z.array(z.object({ path: z.string(), message: z.string() })).optional().meta({ description: 'each invalid part of the request' }),
  })
  .meta({ id: 'Problem', description: 'RFC 9457 problem details' });

/** An instant given as a date (2027-06-30) or an RFC 3339 date-time with offset. */
export const instantInput = z
  .string()
  .refine((text) => /^\d{4}-\d{2}-\d{2}(T.+(Z|[+-]\d{2}:?\d{2}))?$/i.test(text) && !Number.isNaN(Date.parse(text)), {
    message: 'expected a date (2027-06-30) or a date-time with offset',
  })
  .transform((text) => new Date(text));

export const iso = (d: Date): string => d.toISOString();
export const isoOrNull = (d: Date | null | undefined): string | null => (d ? d.toISOString() : null);
