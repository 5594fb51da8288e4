import { describe, expect, it } from 'vitest';
import { RedeliveryRequest } from '../../shared/job/cloudEventHandler.js';
import { TransientError } from '../../shared/job/errors.js';
import { redactSecret } from '../../shared/log.js';

describe('a transient fault is one JSON log line', () => {
  it("the error the functions-framework prints (its stack) is the fault's JSON entry, causes included, secrets redacted", () => {
    redactSecret('s3cr3t-token-value');
    const network = Object.assign(new TypeError('fetch failed'), { cause: Object.assign(new Error('connect ECONNREFUSED 10.0.0.1:443'), { code: 'ECONNREFUSED' }) });
    const error = new RedeliveryRequest('ingest', 'evt-7', new TransientError('eodhd prices still failing with s3cr3t-token-value', { cause: network }));
    const stack = String(error.stack);
    expect(stack).not.toContain('\n');
    const entry = JSON.parse(stack);
    expect(entry).toMatchObject({
      severity: 'WARNING',
      message: 'Transient fault: the message will be redelivered by Pub/Sub.',
      model: 'ingest',
      event_id: 'evt-7',
      error: { name: 'TransientError', message: 'eodhd prices still failing with [redacted]', cause: { name: 'TypeError', cause: { code: 'ECONNREFUSED', message: 'connect ECONNREFUSED 10.0.0.1:443' } } },
    });
    expect(error.message).toBe('eodhd prices still failing with [redacted]');
  });
});
