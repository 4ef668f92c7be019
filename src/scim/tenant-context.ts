/** Who is calling and for which tenant, established by SCIM authentication for one request. */
export interface TenantContext {
  tenantId: string;
  slug: string;
  tokenId: string;
  /** `<public base>/scim/v2/<slug>`: every `meta.location` and `$ref` is built from this. */
  baseUrl: string;
}

export function actorOf(ctx: TenantContext): string {
  return `scim-token:${ctx.tokenId}`;
}
