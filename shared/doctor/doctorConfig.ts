import * as z from 'zod';
import { configSchema } from '../config.js';

/**
 * What the doctor reads: the functions' configuration (so it checks what they would use)
 * plus where the emulators are.
 */
export const doctorConfigSchema = configSchema.extend({
  /** host:port of a Pub/Sub emulator; read by @google-cloud/pubsub itself as well. */
  PUBSUB_EMULATOR_HOST: z
    .string()
    .regex(/^[\w.-]+:\d+$/, 'must be host:port, e.g. 127.0.0.1:8085')
    .optional(),
  /** The ingest function's service account, which must be able to read the vendor secrets; default ingest-fn@<project>.iam.gserviceaccount.com. */
  INGEST_SERVICE_ACCOUNT: z.email().optional(),
  /** A stand-in for the Cloud Monitoring API (tests); its URL, with a placeholder token. */
  MONITORING_EMULATOR_HOST: z.url().optional(),
});

export type DoctorConfig = z.infer<typeof doctorConfigSchema>;
