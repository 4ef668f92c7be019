import { z } from 'zod';

export const memoryConfigSchema = z
  .object({
    /** Which in-process downstream to talk to: connectors with the same namespace share one. */
    namespace: z.string().min(1).max(100),
    /** What the downstream can grant. */
    entitlements: z.array(z.string().min(1)).min(1),
    /** Simulated latency of every call, for benchmarks. */
    latencyMs: z.number().int().min(0).max(60_000).default(0),
  })
  .strict();

export type MemoryConfig = z.output<typeof memoryConfigSchema>;
