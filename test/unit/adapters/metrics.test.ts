/** The EMF lines the functions print: what CloudWatch turns into the metrics the reputation alarms read. */
import { afterEach, describe, expect, it, vi } from 'vitest';
import { createMetrics, METRIC, METRICS_NAMESPACE, publishCounts } from '../../../adapters/metrics.ts';

afterEach(() => {
  vi.restoreAllMocks();
});

function emfLines(run: () => void): Array<Record<string, unknown>> {
  const lines: string[] = [];
  vi.spyOn(process.stdout, 'write').mockImplementation((chunk: string | Uint8Array) => {
    lines.push(String(chunk));
    return true;
  });
  run();
  vi.restoreAllMocks();
  return lines.flatMap((text) => text.split('\n')).filter((line) => line.trim().startsWith('{')).map((line) => JSON.parse(line) as Record<string, unknown>);
}

describe('publishCounts', () => {
  it('prints one EMF document in the Outreach namespace with service=outreach and only the positive counts', () => {
    delete process.env.POWERTOOLS_METRICS_DISABLED;
    const metrics = createMetrics();
    const [document, ...rest] = emfLines(() => publishCounts(metrics, { [METRIC.emailsSent]: 2, [METRIC.bounces]: 0 }));
    expect(rest).toEqual([]);
    expect(document).toMatchObject({ service: 'outreach', EmailsSent: 2 });
    expect(document).not.toHaveProperty('Bounces');
    const aws = document!._aws as { CloudWatchMetrics: Array<{ Namespace: string; Dimensions: string[][]; Metrics: Array<{ Name: string; Unit: string }> }> };
    expect(aws.CloudWatchMetrics).toEqual([
      { Namespace: METRICS_NAMESPACE, Dimensions: [['service']], Metrics: [{ Name: 'EmailsSent', Unit: 'Count' }] },
    ]);
  });

  it('prints nothing when every count is zero', () => {
    delete process.env.POWERTOOLS_METRICS_DISABLED;
    expect(emfLines(() => publishCounts(createMetrics(), { [METRIC.complaints]: 0 }))).toEqual([]);
  });
});
