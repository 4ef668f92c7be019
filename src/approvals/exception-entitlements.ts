import type { ExceptionEntitlement } from '../policy/plan.js';
import type { PolicyDocument } from '../policy/policy-schema.js';
import type { ExceptionRecord } from '../store/reconcile-inputs.js';

/** Emergency access expanded to the entitlements of its package, as the policy now defines it. */
export function exceptionEntitlements(exceptions: readonly ExceptionRecord[], policy: PolicyDocument): ExceptionEntitlement[] {
  return exceptions.flatMap((x) =>
    Object.entries(policy.packages[x.package]?.entitlements ?? {}).flatMap(([connector, entitlements]) =>
      entitlements.map((entitlement) => ({ exceptionId: x.id, connector, entitlement, startsAt: x.startsAt, endsAt: x.endsAt })),
    ),
  );
}
