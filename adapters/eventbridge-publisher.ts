import { EventBridgeClient, PutEventsCommand } from '@aws-sdk/client-eventbridge';
import type { EventPublisher } from '../core/surveys/ports.ts';
import { PRODUCT_EVENT_SOURCE } from '../core/topology.ts';

/** Publishes the product's own events on its bus (PutEvents; AWS_ENDPOINT_URL_EVENTBRIDGE points it elsewhere locally). */
export class EventBridgePublisher implements EventPublisher {
  constructor(
    private readonly busName: string,
    private readonly client = new EventBridgeClient({}),
  ) {}

  async publish(detailType: string, detail: Record<string, unknown>): Promise<void> {
    const result = await this.client.send(
      new PutEventsCommand({
        Entries: [{ EventBusName: this.busName, Source: PRODUCT_EVENT_SOURCE, DetailType: detailType, Detail: JSON.stringify(detail) }],
      }),
    );
    // PutEvents answers 200 even when an entry failed: a failed entry must fail the call, so the caller retries.
    const failed = result.Entries?.find((entry) => entry.ErrorCode);
    if ((result.FailedEntryCount ?? 0) > 0 || failed) {
      throw new Error(`PutEvents rejected the ${detailType} event: ${failed?.ErrorCode ?? 'unknown'} ${failed?.ErrorMessage ?? ''}`.trim());
    }
  }
}
