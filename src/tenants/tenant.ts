import { z } from 'zod';

export const TENANT_STATUSES = ['active', 'suspended', 'offboarded'] as const;
export type TenantStatus = (typeof TENANT_STATUSES)[number];

export const tenantSlugSchema = z
  .string()
  .regex(/^[a-z0-9][a-z0-9-]{1,62}$/, 'a tenant slug is 2–63 characters of a-z, 0-9 and "-", starting with a letter or digit');

export const tenantNameSchema = z.string().trim().min(1, 'a tenant name cannot be empty').max(200);

export interface Tenant {
  id: string;
  slug: string;
  name: string;
  status: TenantStatus;
  /** No grant of the tenant outlives its contract. */
  contractEndsAt: Date | null;
  createdAt: Date;
}

export function scimBaseUrl(publicBaseUrl: string, slug: string): string {
  return `${publicBaseUrl}/scim/v2/${slug}`;
}
