import { z } from 'zod';

/** An integer parameter >= `min` with a default and a one-line description (shown by the playground's forms). */
export function intParam(min: number, fallback: number, description: string) {
  return z.number().int().min(min).default(fallback).describe(description);
}

/** A boolean parameter with a default and a description. */
export function flagParam(fallback: boolean, description: string) {
  return z.boolean().default(fallback).describe(description);
}
