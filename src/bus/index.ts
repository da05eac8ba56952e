export { openConnection, versionAtLeast, isAuthFailure, admitsAnonymous, waitForJetStreamSettled } from "./connection.js";
export type { Connection, ConnectOptions } from "./connection.js";
export { Header, encodeEvent, decodeEvent } from "./codec.js";
export type { EncodedEvent } from "./codec.js";
export {
  defaultStreamSettings,
  ensureEventStream,
  createEventPublisher,
  ensureDurable,
  consumeDurable,
  watchEvents,
  invalidKind,
} from "./events.js";
export type {
  EventStreamSettings,
  EventPublisher,
  PublishResult,
  InvalidMessage,
  InvalidMessageKind,
  EventDelivery,
  DurableSettings,
  EventStream,
  WatchStart,
} from "./events.js";
export { openKv, bindKv } from "./kv.js";
export type { JsonKv, KvSettings, KvValue, KvChange } from "./kv.js";
export { openObjectBucket, bindObjectReader, objectStream, FILESERVER_BUCKET, FILESERVER_INDEX_BUCKET } from "./objects.js";
export type { ObjectBucket, ObjectBucketSettings, ObjectReader } from "./objects.js";
export { kvKey, kvKeyParts, encodeKeyPart, decodeKeyPart } from "./kvkey.js";
export { JOBS_STREAM, JOB_SIGNATURE_HEADER, jobSubject, jobDurable, ensureJobStream, publishJob, consumeJobs, removeAgentJobs, ensureAgentConsumer, AGENT_JOB_ACK_WAIT_MS } from "./jobs.js";
export type { JobStreamSettings, JobDelivery, JobSigner } from "./jobs.js";
