import { defineKvPolicy } from '@sparseland/core';
import { z } from 'zod';
import { PAPERS } from '../papers.js';

/** Every key and value stays, in full precision: the baseline every policy is measured against. */
export const fullCache = defineKvPolicy({
  name: 'full-cache',
  summary: 'Keeps every key and value in full precision: the baseline every policy is measured against.',
  paper: PAPERS.fullCache,
  params: z.object({}).strict(),
  build: () => Object.freeze({ name: 'full-cache', budget: () => ({}) }),
});
