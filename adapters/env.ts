/** Handler configuration from environment variables, parsed when a handler module loads so a bad deploy fails fast. */
import { z } from 'zod';
import { DEFAULT_CAMPAIGN_CACHE_SECONDS, DEFAULT_DISPATCH_SHARDS } from '../core/topology.ts';

export function parseEnv<T extends z.ZodRawShape>(shape: T, source: NodeJS.ProcessEnv = process.env): z.infer<z.ZodObject<T>> {
  const result = z.object(shape).safeParse(source);
  if (!result.success) {
    const problems = result.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; ');
    throw new Error(`invalid function configuration (environment): ${problems}`);
  }
  return result.data;
}

export const envString = z.string().min(1, 'must be set');

/** DISPATCH_SHARDS: shards of the due index, shared by every function that writes or reads touchpoints. */
/** CAMPAIGN_CACHE_SECONDS: 0 reads the campaigns table on every use (the local stack, where applies should show at once). */
export const envCacheSeconds = z.coerce.number().int().min(0).max(3600).default(DEFAULT_CAMPAIGN_CACHE_SECONDS);

export const envShardCount = z.coerce.number().int().min(1).max(64).default(DEFAULT_DISPATCH_SHARDS);
