import * as z from 'zod';
import { JobError, TransientError } from '../../shared/job/errors.js';
import type { ModelDefinition } from '../../shared/job/model.js';

// A model made for exercising the lifecycle: it does what its params say, and fails with an
// unexpected error (`internal`) while `state.broken` is set, as a model does until an
// operator fixes what it depends on.
const probeParams = z
  .object({
    value: z.number().positive(),
    behave: z.enum(['ok', 'job_error', 'transient', 'slow']).default('ok'),
  })
  .strict();
type ProbeParams = z.infer<typeof probeParams>;

export interface ProbeState {
  /** How many times the model ran, and with which value each time. */
  readonly runs: number[];
  broken: boolean;
}

/** A `blackscholes`-named probe model and its state. */
export function probeModel(): { model: ModelDefinition<never>; state: ProbeState } {
  const state: ProbeState = { runs: [], broken: false };
  const model: ModelDefinition<ProbeParams> = {
    name: 'blackscholes',
    params: probeParams,
    symbolsOptional: true,
    async run(job) {
      const { value, behave } = job.params;
      state.runs.push(value);
      if (state.broken) throw new TypeError('the probe is broken');
      if (behave === 'job_error') throw new JobError('insufficient_data', 'params.value is too small for this probe.');
      if (behave === 'transient') throw new TransientError('warehouse unavailable');
      if (behave === 'slow') await new Promise((r) => setTimeout(r, 300));
      return { inputs: { value }, result: { doubled: value * 2 }, metrics: [{ metric: 'doubled', value: value * 2 }], chart: '<svg xmlns="http://www.w3.org/2000/svg"/>' };
    },
  };
  return { model: model as unknown as ModelDefinition<never>, state };
}
