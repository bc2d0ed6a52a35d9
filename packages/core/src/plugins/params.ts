import { z } from 'zod';

// Helpers for plugin authors: zod parameters that carry a default and a one-line description, which
// `registry.describe()` turns into JSON schema (the playground builds its forms from it).

/** An integer parameter >= `min` with a default and a one-line description. */
export function intParam(min: number, fallback: number, description: string) {
  return z.number().int().min(min).default(fallback).describe(description);
}

/** A number in [min, max] with a default and a description. */
export function numberParam(min: number, max: number, fallback: number, description: string) {
  return z.number().min(min).max(max).default(fallback).describe(description);
}

/** A boolean parameter with a default and a description. */
export function flagParam(fallback: boolean, description: string) {
  return z.boolean().default(fallback).describe(description);
}
