import type { CompletedDocument } from '../../shared/job/documents.js';

/** A completed Black-Scholes result document around `options`, with fixed times and artifacts. */
export function completedDocument(jobId: string, options: unknown[], warnings?: string[]): CompletedDocument {
  return {
    job_id: jobId,
    model: 'blackscholes',
    status: 'completed',
    started_at: '2026-12-01T00:00:00.000Z',
    finished_at: '2026-12-01T00:00:01.000Z',
    duration_ms: 1000.5,
    inputs: { option_count: options.length, symbols: {} },
    result: { options, ...(warnings && { warnings }) },
    artifacts: { result: 'file:///tmp/result.json', report: 'file:///tmp/report.html' },
  };
}
