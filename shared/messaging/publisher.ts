/**
 * Publishing to a Pub/Sub topic: the REST API in the cloud or on the emulator
 * (pubsubRestPublisher.ts), a function in tests. Faults that may pass are thrown as
 * `TransientError`.
 */
export interface Publisher {
  /** Publishes one message (`data` as UTF-8 text) with its attributes to `topic` (a short name). */
  publish(topic: string, data: string, attributes: Readonly<Record<string, string>>): Promise<void>;
}
